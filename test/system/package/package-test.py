#!/usr/bin/env python3
"""package-test.py SOURCE_DIR BUILD_DIR WORK_DIR -- the Debian package, built,
checked, installed, run under systemd, removed and purged.

- Builds the .deb with dpkg-buildpackage -us -uc -b from a copy of the
  source tree's files (git ls-files, untracked but not ignored ones too) in
  WORK_DIR, so the source tree stays as it was; WORK_DIR is the same path
  each run, so ccache (CCACHE_DIR) finds the last run's objects.
- lintian on the result: errors fail the test; every tag is printed.
- `DESTDIR=... cmake --install BUILD_DIR --prefix /usr` lays out the same
  files as the package (apart from debhelper's docs and lintian overrides,
  and the man pages' compression).
- The scratch machine (support/booted_machine.py): a copy-on-write clone of
  this machine (overlayfs, the changes in a tmpfs) booted by systemd-nspawn
  with a network of its own, from a mount and PID namespace of the test's
  own, so nothing reaches the host's files, processes or ruleset. In it: dpkg -i runs the real
  maintainer scripts (user exim-ban, state directory, tmpfiles.d, the unit
  enabled and not started); the installed exim-banctl check-config and
  exim-band --check accept the shipped /etc/exim-ban tree; systemd-analyze
  verify is silent on the installed unit and systemd-analyze security
  --offline=true puts its exposure at most 2.0; man finds the man pages.
  Then systemctl start runs exim-band in the unit's sandbox (user exim-ban,
  group adm, CAP_NET_ADMIN only): it reads a root:adm 0640 mainlog, bans
  into nftables, answers root's exim-banctl, reloads; dpkg -r stops it and
  leaves no table inet exim_ban; dpkg -P removes the state, the
  configuration and the user.

Needs root (namespaces, mounts, nftables), else exit 77; exit 77 too when a
tool is missing (packaging/install-deps installs them all)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import start  # noqa: E402
from failure import Failure, check, checks_held  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import failure_line, wait_for  # noqa: E402
from booted_machine import inside_args, missing_tools, run, run_inside, with_machine  # noqa: E402

MAX_EXPOSURE = 2.0
BUILD_TIMEOUT = 900
BANNED = "192.0.2.44"
# What debhelper adds to the package beyond `cmake --install`.
DEBIAN_ONLY = ("/usr/share/doc/", "/usr/share/lintian/overrides/")
TOOLS = ("git", "dpkg-buildpackage", "dh", "lintian", "cmake", "systemd-analyze", "nft", "man")

say = sayer("package-test")


def source_version(source):
    with open(os.path.join(source, "debian", "changelog")) as f:
        return re.match(r"exim-ban \(([^)]+)\)", f.readline()).group(1)


def copy_source(source, destination):
    """The files git knows or would add: what a fresh clone has, plus new
    files not yet committed; never build trees or other ignored output."""
    listed = run("git", "-C", source, "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard").stdout.split("\0")
    copied = 0
    for name in filter(None, listed):
        path = os.path.join(source, name)
        if not os.path.lexists(path):
            continue  # deleted in the work tree, not yet in git
        target = os.path.join(destination, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
        else:
            shutil.copy2(path, target)
        copied += 1
    return copied


def build_package(source, work):
    version = source_version(source)
    tree = os.path.join(work, "exim-ban-" + version)
    copied = copy_source(source, tree)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck", DEB_BUILD_PROFILES="nocheck")
    started = time.monotonic()
    log_path = os.path.join(work, "dpkg-buildpackage.log")
    with open(log_path, "w") as log:
        code = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, env=env,
                              stdout=log, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT).returncode
    if code != 0:
        with open(log_path) as log:
            raise Failure("dpkg-buildpackage exited %d:\n%s" % (code, log.read()[-5000:]))
    say("dpkg-buildpackage -us -uc -b: built from a copy of %d files in %.0f s"
        % (copied, time.monotonic() - started))
    deb = os.path.join(work, "exim-ban_%s_%s.deb" % (version, run("dpkg", "--print-architecture").stdout.strip()))
    check(os.path.exists(deb), "dpkg-buildpackage made %s" % deb)
    return deb, deb[:-len(".deb")] + ".changes"


def run_lintian(changes):
    result = run("lintian", "--fail-on", "error", "--display-info", "--pedantic", changes, timeout=300,
                 check_code=False)
    tags = [line for line in result.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
    counts = {kind: sum(line.startswith(kind + ":") for line in tags) for kind in "EWIP"}
    for line in tags:
        say("lintian: " + line)
    say("lintian: %d error(s), %d warning(s), %d info, %d pedantic"
        % (counts["E"], counts["W"], counts["I"], counts["P"]))
    check(result.returncode == 0 and counts["E"] == 0,
          "lintian reports errors (exit %d):\n%s" % (result.returncode, result.stderr[-2000:]))


def package_files(deb):
    """The package's regular files and symlinks, as absolute paths."""
    files = set()
    for line in run("dpkg-deb", "-c", deb).stdout.splitlines():
        mode, name = line.split()[0], line.split()[5]
        if not mode.startswith("d"):
            files.add(name[1:])
    return files


def compare_with_cmake_install(deb, build_dir, work):
    destdir = os.path.join(work, "destdir")
    run("cmake", "--install", build_dir, "--prefix", "/usr", env=dict(os.environ, DESTDIR=destdir))
    installed = set()
    for root, _dirs, names in os.walk(destdir):
        for name in names:
            installed.add(os.path.join(root, name)[len(destdir):])
    packaged = {name[:-3] if name.startswith("/usr/share/man/") and name.endswith(".gz") else name
                for name in package_files(deb) if not name.startswith(DEBIAN_ONLY)}
    check(installed == packaged,
          "cmake --install and the package differ:\n  only cmake --install: %s\n  only the package: %s"
          % (sorted(installed - packaged), sorted(packaged - installed)))
    say("DESTDIR=... cmake --install --prefix /usr: the same %d files as the package" % len(installed))


def owner(machine, path):
    return machine.run("stat", "--format=%U:%G %04a", path).stdout.strip()


def unit_property(machine, name):
    return machine.run("systemctl", "show", "--property", name, "--value", "exim-ban.service").stdout.strip()


def install(machine):
    result = machine.run("dpkg", "-i", "/root/exim-ban.deb", timeout=300)
    say("dpkg -i: %s" % " / ".join(line for line in result.stdout.splitlines()
                                   if line.strip() and not line.startswith("(Reading")))
    passwd = machine.run("getent", "passwd", "exim-ban").stdout.strip().split(":")
    check(passwd[5] == "/var/lib/exim-ban" and passwd[6] == "/usr/sbin/nologin" and int(passwd[2]) < 1000,
          "postinst made the system user exim-ban with home /var/lib/exim-ban: %r" % passwd)
    check(owner(machine, "/var/lib/exim-ban") == "exim-ban:adm 0750",
          "/var/lib/exim-ban is exim-ban:adm 0750: %s" % owner(machine, "/var/lib/exim-ban"))
    check(owner(machine, "/run/exim-ban") == "exim-ban:adm 0755",
          "tmpfiles.d made /run/exim-ban exim-ban:adm 0755: %s" % owner(machine, "/run/exim-ban"))
    enabled = machine.run("systemctl", "is-enabled", "exim-ban.service", check_code=False).stdout.strip()
    active = machine.run("systemctl", "is-active", "exim-ban.service", check_code=False).stdout.strip()
    check(enabled == "enabled" and active == "inactive",
          "exim-ban.service enabled but not started: %s, %s" % (enabled, active))
    conffiles = machine.run("dpkg-query", "-W", "-f=${Conffiles}", "exim-ban").stdout.split()
    check("/etc/exim-ban/exim-ban.conf" in conffiles and "/etc/exim-ban/filters.d/exim.conf" in conffiles,
          "/etc/exim-ban's files are conffiles: %r" % conffiles)
    say("installed: user exim-ban, /var/lib/exim-ban exim-ban:adm 0750, /run/exim-ban exim-ban:adm 0755, "
        "exim-ban.service %s and %s, %d conffiles" % (enabled, active, len(conffiles) // 2))


def check_installed_tree(machine):
    result = machine.run("exim-banctl", "check-config", "--config", "/etc/exim-ban/exim-ban.conf")
    summary = result.stdout.splitlines()[0]
    check("OK, 1 jail(s), 1 enabled" in summary and "filters_dir = /etc/exim-ban/filters.d" in result.stdout,
          "check-config accepts the shipped tree with its filters.d: %s" % result.stdout[:1000])
    say("installed exim-banctl check-config: %s" % summary)
    result = machine.run("exim-band", "--check")
    say("installed exim-band --check: %s" % result.stdout.strip())
    check("OK, 1 jail(s) (exim), 1 log(s)" in result.stdout, "exim-band --check: %s" % result.stdout)
    for page in ("exim-band", "exim-banctl", "exim-ban.conf", "exim-ban-filter"):
        found = machine.run("man", "-w", page).stdout.strip()
        check(found.startswith("/usr/share/man/man") and found.endswith(".gz"), "man -w %s: %s" % (page, found))
    say("man -w finds exim-band(8), exim-banctl(8), exim-ban.conf(5), exim-ban-filter(5)")


def check_unit(machine):
    unit = "/lib/systemd/system/exim-ban.service"
    result = machine.run("systemd-analyze", "verify", unit, check_code=False)
    output = (result.stdout + result.stderr).strip()
    check(result.returncode == 0 and output == "", "systemd-analyze verify %s: %s" % (unit, output))
    say("systemd-analyze verify %s: no findings" % unit)
    result = machine.run("systemd-analyze", "security", "--offline=true", "--threshold=%d" % (MAX_EXPOSURE * 10),
                         "--no-pager", unit, check_code=False)
    found = re.search(r"Overall exposure level for exim-ban.service: ([0-9.]+) (\w+)", result.stdout)
    check(found is not None, "systemd-analyze security printed no exposure: %s %s" % (result.stdout, result.stderr))
    for line in result.stdout.splitlines():
        if line.startswith("\u2717"):
            say("security: " + " ".join(line.split()))
    say("systemd-analyze security --offline=true: exposure %s %s" % found.groups())
    check(result.returncode == 0 and float(found.group(1)) <= MAX_EXPOSURE,
          "exposure %s above %.1f" % (found.group(1), MAX_EXPOSURE))


def run_the_service(machine):
    """exim-ban.service under systemd with the shipped configuration: the
    sandbox must leave it everything it needs."""
    machine.run("sh", "-c", "mkdir -p /var/log/exim4 && : > /var/log/exim4/mainlog && "
                "chown root:adm /var/log/exim4/mainlog && chmod 0640 /var/log/exim4/mainlog")
    machine.run("systemctl", "start", "exim-ban.service", timeout=60)
    pid = unit_property(machine, "MainPID")
    status = machine.run("cat", "/proc/%s/status" % pid).stdout
    fields = dict(re.findall(r"^(\w+):\s*(.*)$", status, re.M))
    uid = machine.run("id", "-u", "exim-ban").stdout.strip()
    check(fields["Uid"].split()[0] == uid and fields["Gid"].split()[0] == "4" and fields["CapEff"] == "0000000000001000"
          and fields["CapBnd"] == "0000000000001000" and fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2",
          "exim-band runs as exim-ban:adm with CAP_NET_ADMIN only, no new privileges, a seccomp filter:\n%s" % status)
    say("systemctl start exim-ban: active, %s; uid exim-ban, gid adm, CapEff %s (CAP_NET_ADMIN), NoNewPrivs 1, "
        "Seccomp 2" % (unit_property(machine, "StatusText"), fields["CapEff"]))
    check(owner(machine, "/run/exim-ban/control.sock") == "exim-ban:adm 0660",
          "control socket exim-ban:adm 0660: %s" % owner(machine, "/run/exim-ban/control.sock"))
    check(owner(machine, "/var/lib/exim-ban/exim-ban.db") == "exim-ban:adm 0640",
          "database exim-ban:adm 0640: %s" % owner(machine, "/var/lib/exim-ban/exim-ban.db"))
    machine.run("sh", "-c", "cat >> /var/log/exim4/mainlog", input=failure_line(BANNED) * 3)
    wait_for("the ban of %s in the container's kernel set" % BANNED,
             lambda: BANNED in machine.run("nft", "list", "set", "inet", "exim_ban", "exim_v4",
                                           check_code=False).stdout)
    listed = json.loads(machine.run("exim-banctl", "list", "--json").stdout)
    check([ban["key"] for ban in listed["bans"]] == [BANNED],
          "root's exim-banctl list over the control socket shows the ban: %r" % listed)
    say("3 failed logins in /var/log/exim4/mainlog (root:adm 0640): %s banned in set exim_v4; "
        "root's exim-banctl list shows it" % BANNED)
    machine.run("systemctl", "reload", "exim-ban.service", timeout=60)
    check(unit_property(machine, "ActiveState") == "active" and unit_property(machine, "NRestarts") == "0",
          "systemctl reload: still active, never restarted")
    say("systemctl reload exim-ban: %s" % unit_property(machine, "StatusText"))


def remove_and_purge(machine):
    check("exim_ban" in machine.run("nft", "list", "tables").stdout, "the daemon made table inet exim_ban")
    result = machine.run("dpkg", "-r", "exim-ban", timeout=120)
    active = machine.run("systemctl", "is-active", "exim-ban.service", check_code=False).stdout.strip()
    tables = machine.run("nft", "list", "tables").stdout
    check(active == "inactive", "dpkg -r stops exim-ban.service: %s" % active)
    check("exim_ban" not in tables, "dpkg -r leaves no table inet exim_ban: %s" % tables)
    kept = machine.run("ls", "/etc/exim-ban/exim-ban.conf", "/var/lib/exim-ban/exim-ban.db", check_code=False)
    check(kept.returncode == 0, "dpkg -r keeps the configuration and the state: %s" % kept.stderr)
    say("dpkg -r: exim-ban.service stopped, table inet exim_ban gone, /etc/exim-ban and /var/lib/exim-ban kept "
        "(%s)" % " / ".join(line for line in result.stdout.splitlines() if line.startswith("removed")))
    machine.run("dpkg", "-P", "exim-ban", timeout=120)
    for path in ("/etc/exim-ban", "/var/lib/exim-ban", "/lib/systemd/system/exim-ban.service",
                 "/etc/systemd/system/multi-user.target.wants/exim-ban.service"):
        check(machine.run("test", "!", "-e", path, "-a", "!", "-L", path, check_code=False).returncode == 0,
              "dpkg -P removes %s" % path)
    for database in ("passwd", "group"):
        check(machine.run("getent", database, "exim-ban", check_code=False).returncode == 2,
              "dpkg -P removes the %s entry exim-ban" % database)
    say("dpkg -P: /etc/exim-ban, /var/lib/exim-ban, the unit's enablement and user and group exim-ban gone")


def inside(work, deb):
    def scratch_machine(machine):
        install(machine)
        check_installed_tree(machine)
        check_unit(machine)
        run_the_service(machine)
        remove_and_purge(machine)
        say("scratch machine: %d checks passed" % checks_held())
        return 0
    return with_machine(work, "exim-ban-test", scratch_machine, say, files={"/root/exim-ban.deb": deb})


def main():
    args = inside_args()
    if args is not None:
        try:
            return inside(*args)
        except Failure as error:
            print("package-test: FAIL: %s" % error, flush=True)
            return 1
    status = start(4, __doc__, say, root_for="(namespaces, mounts, nftables)")
    if status is not None:
        return status
    missing = missing_tools(TOOLS)
    if missing:
        say("SKIP: %s not installed (packaging/install-deps installs them)" % " ".join(missing))
        return 77
    source, build_dir, work = (os.path.abspath(a) for a in sys.argv[1:])
    started = time.monotonic()
    try:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        deb, changes = build_package(source, work)
        run_lintian(changes)
        compare_with_cmake_install(deb, build_dir, work)
        code = run_inside([work, deb], timeout=600)
        if code != 0:
            return code
    except (Failure, subprocess.TimeoutExpired) as error:
        print("package-test: FAIL: %s (the build's files are in %s)" % (error, work), flush=True)
        return 1
    shutil.rmtree(work)
    say("PASS: %d checks, and the scratch machine's, in %.0f s" % (checks_held(), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
