#!/usr/bin/env bash
# Builds the images `compose-harden inspect` is tested on (tests/inspect.rs) and hardened (tests/engine_facts.rs), each only when
# missing, on the base images of ../images.sh. No registry is reached: tini comes from
# Debian's package, curl and netcat from Debian's mirrors.
set -euo pipefail
NS=compose-harden-test
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }
build() { # tag, Dockerfile, context
  have "$1" && return 0
  docker build -q -t "$1" -f "$2" "$3" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
  echo "built $1"
}

# Debian's static tini, for the tini and scratch images.
if ! have $NS/facts-tini:1 || ! have $NS/facts-scratch:1; then
  (cd "$work" && { apt-get download tini >/dev/null 2>&1 || { apt-get update -qq && apt-get download tini; }; })
  mkdir -p "$work/ctx"
  dpkg-deb -x "$work"/tini_*.deb "$work/deb"
  cp "$work/deb/usr/bin/tini-static" "$work/ctx/tini-static"
  build $NS/facts-tini:1 "$here/tini.Dockerfile" "$work/ctx"
  build $NS/facts-scratch:1 "$here/scratch.Dockerfile" "$work/ctx"
fi
build $NS/facts-healthcheck:1 "$here/healthcheck.Dockerfile" "$here"
build $NS/facts-s6:1 "$here/s6.Dockerfile" "$here"
build $NS/facts-java:1 "$here/java.Dockerfile" "$here"
build $NS/facts-apt:1 "$here/apt.Dockerfile" "$here"
build $NS/facts-curl:1 "$here/curl.Dockerfile" "$here"
build $NS/facts-nc:1 "$here/nc.Dockerfile" "$here"
build $NS/facts-static:1 "$here/static.Dockerfile" "$here"
