# Debian with netcat (reached through the alternatives link) and no curl or wget.
FROM compose-harden-test/facts-apt:1
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netcat-openbsd >/dev/null
