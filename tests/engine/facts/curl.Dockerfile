# Debian with curl and no wget or netcat.
FROM compose-harden-test/facts-apt:1
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null
