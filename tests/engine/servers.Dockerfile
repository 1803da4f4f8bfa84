# The real server software the catalogue's probes are proven against: Debian's packages.
FROM compose-harden-test/debian:bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql redis-server nginx curl ca-certificates procps >/dev/null \
 && rm -rf /var/lib/apt/lists/*
