#!/usr/bin/python3
"""nft-bench: bans into the kernel, exim-ban's netlink batches against nft.

In one run, inside a network namespace of its own (never the host's
ruleset), into the same set (table inet exim_ban, set exim_v4: ipv4_addr,
flags timeout, counter, as exim-band makes it):

  1. exim-ban: N bans staged and committed by the nftables backend (one
     netlink batch, libnftnl + libmnl), timed inside the process;
  2. the same N bans through `nft -f` of one file;
  3. M bans through one `nft add element` process each (fail2ban's way).

Each of 1 and 2 starts from an empty set and runs --runs times; the median
is reported. Prints seconds, bans/s and the ratios, and the DESIGN.md target
(100,000 bans in <= 0.5 s) with PASS or FAIL. See test/bench/README.md.
"""

import argparse
import ipaddress
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
JAIL = "exim:25,465,587:drop:64"
FIRST = ipaddress.IPv4Address("10.96.0.0")  # the addresses the driver's bench bans
TARGET_SECONDS = 0.5
TARGET_BANS = 100_000
SETTLE_SECONDS = 2.0  # the kernel frees a deleted table's elements in the background


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                        help="build directory holding test/system/nftables/nft-test-driver")
    parser.add_argument("--driver", help="the nft-test-driver binary itself")
    parser.add_argument("--bans", type=int, default=TARGET_BANS, help="bans per batch run")
    parser.add_argument("--singles", type=int, default=1000,
                        help="bans added with one nft process each")
    parser.add_argument("--runs", type=int, default=3, help="runs of the batch measurements")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the namespace it left
    return parser.parse_args()


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def fresh_table(driver):
    subprocess.run([driver, "flush"], check=True, capture_output=True)
    time.sleep(SETTLE_SECONDS)
    run([driver, "--jail", JAIL, "setup"])


def exim_ban_run(driver, bans):
    fresh_table(driver)
    result = json.loads(run([driver, "--jail", JAIL, "bench", str(bans)]).stdout)
    if result["added"] != bans or result["failures"] != 0:
        sys.exit("nft-bench: exim-ban added {} of {} bans".format(result["added"], bans))
    return result["seconds"]


def nft_file_run(driver, bans, directory):
    fresh_table(driver)
    path = os.path.join(directory, "bans.nft")
    with open(path, "w") as out:
        out.write("add element inet exim_ban exim_v4 { ")
        out.write(", ".join("{} timeout 1h".format(FIRST + i) for i in range(bans)))
        out.write(" }\n")
    start = time.perf_counter()
    run(["nft", "-f", path])
    return time.perf_counter() - start


def nft_singles_run(driver, count):
    fresh_table(driver)
    start = time.perf_counter()
    for i in range(count):
        run(["nft", "add", "element", "inet", "exim_ban", "exim_v4",
             "{{ {} timeout 1h }}".format(FIRST + i)])
    return time.perf_counter() - start


def main():
    args = parse_args()
    driver = args.driver or os.path.join(args.build_dir, "test", "system", "nftables",
                                         "nft-test-driver")
    if not args.inside:
        if os.geteuid() != 0:
            sys.exit("nft-bench: needs root (a network namespace and nf_tables)")
        for tool in ("nft", "unshare"):
            if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
                sys.exit("nft-bench: {} is not installed".format(tool))
        if not os.access(driver, os.X_OK):
            sys.exit("nft-bench: no driver at {} (build first, or --build-dir/--driver)".format(
                driver))
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                              "--inside", os.readlink("/proc/self/ns/net"), "--driver",
                              os.path.abspath(driver)] + sys.argv[1:])
    if os.readlink("/proc/self/ns/net") == args.inside:
        sys.exit("nft-bench: not in a network namespace of its own; refusing to touch the host")

    with tempfile.TemporaryDirectory(prefix="nft-bench.") as directory:
        exim_runs, file_runs = [], []
        for _ in range(args.runs):
            exim_runs.append(exim_ban_run(driver, args.bans))
            file_runs.append(nft_file_run(driver, args.bans, directory))
        singles = nft_singles_run(driver, args.singles)
        subprocess.run([driver, "flush"], capture_output=True)

    exim_s = statistics.median(exim_runs)
    file_s = statistics.median(file_runs)
    figures = {
        "kernel": platform.release(),
        "nft": run(["nft", "--version"]).stdout.strip(),
        "bans": args.bans,
        "runs": args.runs,
        "exim_ban": {"seconds": exim_s, "bans_per_second": args.bans / exim_s,
                     "all_seconds": exim_runs},
        "nft_file": {"seconds": file_s, "bans_per_second": args.bans / file_s,
                     "all_seconds": file_runs},
        "nft_per_process": {"bans": args.singles, "seconds": singles,
                            "bans_per_second": args.singles / singles,
                            "ms_per_ban": 1000 * singles / args.singles},
    }
    figures["ratio_vs_nft_file"] = file_s / exim_s
    figures["ratio_vs_nft_per_process"] = (args.bans / exim_s) / (args.singles / singles)
    scaled = exim_s * TARGET_BANS / args.bans
    figures["target_100k_in_half_second"] = "PASS" if scaled <= TARGET_SECONDS else "FAIL"
    figures["target_faster_than_nft_file"] = "PASS" if exim_s < file_s else "FAIL"

    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print("nft-bench: {:,} bans into set exim_v4 (ipv4_addr, timeout, counter) of table inet "
          "exim_ban, in a namespace of its own".format(args.bans))
    print("  Linux {}, {}, median of {} runs".format(figures["kernel"], figures["nft"], args.runs))
    print("  {:<40} {:>9.3f} s {:>12,.0f} bans/s".format(
        "exim-ban (one libnftnl/libmnl batch)", exim_s, args.bans / exim_s))
    print("  {:<40} {:>9.3f} s {:>12,.0f} bans/s   exim-ban {:.1f}x faster".format(
        "nft -f (one file, the same bans)", file_s, args.bans / file_s,
        figures["ratio_vs_nft_file"]))
    print("  {:<40} {:>9.3f} s {:>12,.0f} bans/s   exim-ban {:,.0f}x faster ({:.1f} ms a ban)".format(
        "nft add element ({:,}, a process each)".format(args.singles), singles,
        args.singles / singles, figures["ratio_vs_nft_per_process"],
        figures["nft_per_process"]["ms_per_ban"]))
    print("  runs: exim-ban {}; nft -f {}".format(
        ", ".join("{:.3f}".format(s) for s in exim_runs),
        ", ".join("{:.3f}".format(s) for s in file_runs)))
    print("Targets (DESIGN.md): 100,000 bans in <= 0.5 s: {} ({:.3f} s for 100,000); "
          "faster than nft -f: {} ({:.1f}x)".format(
              figures["target_100k_in_half_second"], scaled,
              figures["target_faster_than_nft_file"], figures["ratio_vs_nft_file"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
