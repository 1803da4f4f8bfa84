#!/usr/bin/env python3
"""Benchmark of `compose-harden inspect` on the local engine: a generated project of 50
services using 10 local images (the engine tests' images, built with no registry by
tests/engine/images.sh), inspected several times. Prints the median wall time of the whole
command, and per image the time and the number of paths asked of the engine (its own
`inspected ...` lines).

Usage: python3 bench/inspect.py [--runs N] [--binary PATH]
Without --binary it builds the release binary first (cargo build --release).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = "compose-harden-test"
IMAGES = [
    f"{NS}/busybox:1",
    f"{NS}/debian:bookworm",
    f"{NS}/facts-apt:1",
    f"{NS}/facts-curl:1",
    f"{NS}/facts-healthcheck:1",
    f"{NS}/facts-java:1",
    f"{NS}/facts-nc:1",
    f"{NS}/facts-s6:1",
    f"{NS}/facts-scratch:1",
    f"{NS}/facts-tini:1",
]
SERVICES = 50
LINE = re.compile(r"^inspected (.*) \((\w+), [^)]*\): .* \(([\d.]+) s, (\d+) paths\)$")


def project(path):
    lines = ["# generated for the inspect benchmark", "services:"]
    for i in range(SERVICES):
        lines += [f"  svc{i}:", f"    image: {IMAGES[i % len(IMAGES)]}", "    ports:", f"      - \"{8000 + i}:80\""]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--binary")
    args = parser.parse_args()
    if subprocess.run(["docker", "version"], capture_output=True).returncode != 0:
        sys.exit("no Docker engine answers")
    subprocess.run(["bash", os.path.join(ROOT, "tests/engine/images.sh"), "facts"], check=True)
    binary = args.binary
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "compose-harden")
    with tempfile.TemporaryDirectory() as tmp:
        compose = os.path.join(tmp, "compose.yml")
        project(compose)
        walls, per_image = [], {}
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(
                [binary, "inspect", "-o", os.path.join(tmp, "facts.yml"), compose], capture_output=True, text=True
            )
            walls.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(done.stderr)
            for line in done.stderr.splitlines():
                m = LINE.match(line)
                if m:
                    per_image.setdefault(m.group(1), []).append((float(m.group(3)), int(m.group(4))))
        left = subprocess.run(
            ["docker", "ps", "-aq", "--filter", "label=io.compose-harden.inspect"], capture_output=True, text=True
        ).stdout.split()
        images = len(per_image)
        print(f"inspect: {SERVICES} services, {images} images, {args.runs} runs, {os.cpu_count()} CPUs")
        print(
            f"  whole command: median {statistics.median(walls):.2f} s "
            f"(min {min(walls):.2f}, max {max(walls):.2f})"
        )
        print(f"  {'image':<40} {'seconds':>8} {'paths':>6} {'ms/path':>8}")
        seconds_all, paths_all = [], []
        for name, runs in sorted(per_image.items()):
            seconds = statistics.median(s for s, _ in runs)
            paths = runs[0][1]
            seconds_all.append(seconds)
            paths_all.append(paths)
            print(f"  {name:<40} {seconds:>8.2f} {paths:>6} {1000 * seconds / max(paths, 1):>8.1f}")
        print(
            f"  per image: median {statistics.median(seconds_all):.2f} s, {statistics.mean(paths_all):.0f} paths "
            f"(up to 4 images at once); containers left behind: {len(left)}"
        )


if __name__ == "__main__":
    main()
