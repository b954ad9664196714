#!/usr/bin/env python3
"""tidy-sources.py BUILD_DIR FILE... -- clang-tidy on FILEs with BUILD_DIR's
compile commands, skipping each file that already passed with exactly the
same inputs.

A file's inputs are what clang-tidy reads: the file itself and every header
ninja recorded it including (`ninja -t deps`, from the build just made), its
compile command, .clang-tidy and clang-tidy's version. A file that passes
leaves a stamp named by the hash of its inputs in
${XDG_CACHE_HOME:-~/.cache}/exim-ban/tidy, so a rerun (CI after the
session, on the same machine) checks only what changed. Paths under the
source tree are hashed relative to it: a fresh clone elsewhere hits the same
stamps. Exits 1 when any file has a finding (printed), 2 on bad usage."""

import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print("usage: tidy-sources.py BUILD_DIR FILE...", file=sys.stderr)
        return 2
    build, files = os.path.abspath(sys.argv[1]), sys.argv[2:]
    root = os.getcwd()
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "exim-ban", "tidy")
    os.makedirs(cache, exist_ok=True)

    commands = {}
    with open(os.path.join(build, "compile_commands.json")) as f:
        for entry in json.load(f):
            commands[os.path.normpath(os.path.join(entry["directory"], entry["file"]))] = entry["command"]
    deps = read_ninja_deps(build)

    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True, check=True).stdout
    with open(".clang-tidy", "rb") as f:
        config = f.read()
    digests = {}

    def digest(path):
        if path not in digests:
            try:
                with open(path, "rb") as f:
                    digests[path] = hashlib.sha256(f.read()).hexdigest()
            except OSError:
                digests[path] = "missing"
        return digests[path]

    def relative(text):
        return text.replace(root + "/", "<src>/").replace(build + "/", "<build>/")

    pending, stamps = [], {}
    for name in files:
        path = os.path.join(root, name)
        key = hashlib.sha256()
        for part in (version.encode(), config, relative(commands.get(path, "no command")).encode()):
            key.update(hashlib.sha256(part).digest())
        pending.append(name)
        if path not in deps:
            continue  # its headers are unknown: checked every time, never stamped
        for dep in deps[path]:
            key.update(("%s %s\n" % (relative(dep), digest(dep))).encode())
        stamp = os.path.join(cache, key.hexdigest())
        if os.path.exists(stamp):
            pending.pop()
        else:
            stamps[name] = stamp

    def tidy(name):
        result = subprocess.run(["clang-tidy", "-p", build, "--quiet", name], capture_output=True, text=True)
        # The findings go to stdout; stderr holds only the count of warnings
        # suppressed in system headers, unless clang-tidy itself failed.
        output = result.stdout if result.stdout.strip() or result.returncode == 0 else result.stderr
        return name, result.returncode, output

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for name, code, output in pool.map(tidy, pending):
            if code == 0 and not output.strip():
                if name in stamps:
                    with open(stamps[name], "w"):
                        pass
            else:
                failed += 1
                sys.stdout.write(output)
    if failed:
        print("lint: clang-tidy found problems in %d of %d files (.clang-tidy lists the checks)" % (failed, len(files)),
              file=sys.stderr)
        return 1
    print("lint: clang-tidy: %d files, no finding (%d checked, %d unchanged since they passed)"
          % (len(files), len(pending), len(files) - len(pending)))
    return 0


def read_ninja_deps(build):
    """Source path -> the files its object was compiled from (itself first)."""
    text = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True, check=True).stdout
    deps, current = {}, None
    for line in text.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            current = []
        elif current is not None:
            path = os.path.normpath(os.path.join(build, line.strip()))
            if not current:
                deps[path] = current
            current.append(path)
    return deps


if __name__ == "__main__":
    sys.exit(main())
