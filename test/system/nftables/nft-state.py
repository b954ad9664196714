#!/usr/bin/python3
"""nft-state: table inet exim_ban as sorted lines, for the system tests.

Reads `nft -j list table inet exim_ban` and `nft list chain inet exim_ban
input` (the nft CLI only checks here; exim-ban itself never runs it) and
prints one line per object:

    set NAME TYPE flags=F,... [counter] "COMMENT"
    chain NAME TYPE HOOK PRIORITY POLICY
    rule TEXT                  (as `nft list` prints it)
    element SET ADDRESS timeout=SECONDS [expires=SECONDS] [packets=N]

or "no table". --expires and --packets add those fields (they change with
time and traffic, so tests ask for them only when they check them).
"""
import json
import subprocess
import sys


def run(*args):
    return subprocess.run(["nft", *args], capture_output=True, text=True)


def main():
    show_expires = "--expires" in sys.argv
    show_packets = "--packets" in sys.argv
    listed = run("-j", "list", "table", "inet", "exim_ban")
    if listed.returncode != 0:
        print("no table")
        return 0
    lines = []
    for item in json.loads(listed.stdout)["nftables"]:
        if "set" in item:
            s = item["set"]
            counter = any("counter" in stmt for stmt in s.get("stmt", []))
            lines.append(
                "set {} {} flags={}{}{}".format(
                    s["name"], s["type"], ",".join(s.get("flags", [])) or "none",
                    " counter" if counter else "",
                    ' "{}"'.format(s["comment"]) if "comment" in s else ""))
            for e in s.get("elem", []):
                elem = e["elem"] if isinstance(e, dict) and "elem" in e else {"val": e}
                value = elem["val"]
                if isinstance(value, dict) and "prefix" in value:
                    value = "{}/{}".format(value["prefix"]["addr"], value["prefix"]["len"])
                fields = ["element", s["name"], str(value), "timeout={}".format(elem.get("timeout", 0))]
                if show_expires:
                    fields.append("expires={}".format(elem.get("expires", 0)))
                if show_packets:
                    fields.append("packets={}".format(elem.get("counter", {}).get("packets", 0)))
                lines.append(" ".join(fields))
        elif "chain" in item:
            c = item["chain"]
            lines.append("chain {} {} {} {} {}".format(
                c["name"], c.get("type", "-"), c.get("hook", "-"), c.get("prio", "-"),
                c.get("policy", "-")))
    chain = run("list", "chain", "inet", "exim_ban", "input")
    for line in chain.stdout.splitlines():
        line = line.strip()
        if line and not line.startswith(("table", "chain", "type", "}")):
            lines.append("rule " + line)
    print("\n".join(sorted(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
