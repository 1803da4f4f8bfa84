#!/usr/bin/env bash
# Builds the engine tests' images on the local daemon, each only when missing. No registry is
# reached: a busybox image FROM scratch, and a Debian base made with debootstrap, on which the
# real postgresql, redis-server, nginx and curl are installed from Debian's packages.
# Tags live under compose-harden-test/ so that they never shadow a user's official images.
# Arguments name the groups to build: `base` (busybox, debian), `servers`, `facts` (the
# images `compose-harden inspect` is tested on, tests/inspect.rs), `probes` (those `probes` is
# tested on, tests/probes.rs: on the facts images); none builds every group.
# A group builds the base first.
set -euo pipefail
groups=" ${*:-servers facts probes} "
NS=compose-harden-test
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have $NS/busybox:1; then
  (cd "$work" && { apt-get download busybox-static >/dev/null 2>&1 || { apt-get update -qq && apt-get download busybox-static; }; })
  mkdir -p "$work/bb/root"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb/root"
  cp "$here/busybox.Dockerfile" "$work/bb/Dockerfile"
  docker build -q -t $NS/busybox:1 "$work/bb" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
  echo "built $NS/busybox:1"
fi

if ! have $NS/debian:bookworm; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >/dev/null
  tar -C "$work/rootfs" -c . | docker import - $NS/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
  echo "built $NS/debian:bookworm"
fi

if [[ $groups == *" servers "* ]]; then
  if ! have $NS/servers:1; then
    docker build -q -t $NS/servers:1 -f "$here/servers.Dockerfile" "$here" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
    echo "built $NS/servers:1"
  fi

  if ! have $NS/official-like:1; then
    docker build -q -t $NS/official-like:1 -f "$here/official-like.Dockerfile" "$here" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
    echo "built $NS/official-like:1"
  fi
  # One image in three roles, under the names strict's catalogue entries are copied to.
  for role in postgres redis nginx; do
    have $NS/$role:1 || docker tag $NS/official-like:1 $NS/$role:1
  done
fi

if [[ $groups == *" facts "* || $groups == *" probes "* ]]; then
  bash "$here/facts/images.sh"
fi

if [[ $groups == *" probes "* ]]; then
  bash "$here/probes/images.sh"
fi
