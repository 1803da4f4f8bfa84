# Debian with its package lists, shared by the curl and netcat images.
FROM compose-harden-test/debian:bookworm
RUN apt-get update -qq
