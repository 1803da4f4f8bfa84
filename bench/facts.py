"""Writes an image facts file (docs/facts.md, the format `compose-harden inspect` writes)
covering every image a compose file names, each a busybox-like image with wget and nc that
exposes 8080/tcp, so that `apply --images` can be measured on the bench's generated files:

    python3 bench/facts.py /tmp/1000.yml /tmp/1000.images.yml
"""

import hashlib
import re
import sys

HEAD = """\
# Image facts: what `compose-harden inspect` read from the engine, for apply, check and
# verify --harden to decide from without one (format version 1: docs/facts.md).
# `inspect` rewrites `inspected`, `images` and `builds`; `services` is kept as it is.
version: 1
inspected:
  engine: 20.10.24+dfsg1
  tools: [bash, busybox, curl, java, nc, node, python3, sh, wget]
images:
"""

IMAGE = """\
  "{ref}":
    id: sha256:{id}
    platform: linux/amd64
    cmd: [httpd, "-f", "-p", "8080"]
    exposed_ports: [8080/tcp]
    env: [PATH]
    path: [/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin]
    bin_sh: true
    tools:
      busybox: /bin/busybox
      nc: /bin/nc -> /bin/busybox
      sh: /bin/sh -> /bin/busybox
      wget: /bin/wget -> /bin/busybox
"""


def facts(compose_text):
    refs = sorted(set(re.findall(r"^\s+image: (.+)$", compose_text, re.M)))
    body = "".join(IMAGE.format(ref=r, id=hashlib.sha256(r.encode()).hexdigest()) for r in refs)
    return HEAD + body, len(refs)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        text, count = facts(f.read())
    with open(sys.argv[2], "w") as f:
        f.write(text)
    print(f"{sys.argv[2]}: {count} images", file=sys.stderr)
