#!/usr/bin/env python3
"""The man pages against the programs they describe.

usage: man-pages-test EXIM_BAND EXIM_BANCTL [DOCS_DIR]

Asks the binaries, never the sources:
  exim-band.8      every option of `exim-band --help` is an entry of OPTIONS,
                   and every option the page names anywhere exists.
  exim-banctl.8    every subcommand of `exim-banctl --help` is an entry of
                   COMMANDS and has its own SYNOPSIS line, which names exactly
                   the options of `exim-banctl SUB --help` (DAEMON-OPTIONS
                   expanded) and its positionals; every option is an entry of
                   OPTIONS; every option the page names anywhere exists.
  exim-ban.conf.5  the keys `exim-banctl check-config` prints for [DEFAULT]
                   are the entries of DAEMON SETTINGS, those of a jail the
                   entries of JAIL SETTINGS (and the loader's list of known
                   settings agrees); each default the page gives in
                   parentheses is the built-in one; the EXAMPLE loads.
  all four pages   render without a warning (groff -man -ww -z, and
                   man --warnings -l when man is installed).
Exit 0 when all hold, 1 with every discrepancy listed, 77 (skip) when only
the rendering could not be checked because groff is not installed.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def run(argv, check=True):
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit("man-pages-test: %s exited %d:\n%s%s" %
                 (" ".join(argv), result.returncode, result.stdout, result.stderr))
    return result


# ----- roff -----------------------------------------------------------------

def unescape(text):
    """A roff text line or macro argument as plain text."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)
    for escape, plain in ((r"\-", "-"), (r"\(aq", "'"), (r"\(em", "--"), (r"\(en", "-"),
                          (r"\&", ""), (r"\ ", " "), (r"\e", "\\"), (r"\|", "")):
        text = text.replace(escape, plain)
    return text


def macro_args(rest):
    """The arguments of a macro line: words, or "quoted strings"."""
    return [a if not a.startswith('"') else a[1:-1]
            for a in re.findall(r'"[^"]*"|(?:\\ |\S)+', rest)]


FONT_MACROS = {"B", "I", "SM", "SB"}
ALTERNATING = {"BR", "RB", "BI", "IB", "RI", "IR"}


def render_line(line):
    """A source line as the text it shows (None for a request that shows none)."""
    if line.startswith(".") or line.startswith("'"):
        name, _, rest = line[1:].partition(" ")
        if name in FONT_MACROS:
            return unescape(" ".join(macro_args(rest)))
        if name in ALTERNATING:
            return unescape("".join(macro_args(rest)))
        return None
    return unescape(line)


def parse_page(path):
    """{section: {"lines": [source lines], "entries": [(tag, body)], "text": str}}"""
    sections = {}
    current = None
    with open(path, encoding="utf-8") as page:
        for raw in page:
            line = raw.rstrip("\n")
            if line.startswith(".SH"):
                current = " ".join(macro_args(line[3:]))
                sections[current] = {"lines": []}
            elif current is not None:
                sections[current]["lines"].append(line)
    for section in sections.values():
        entries = []
        lines = section["lines"]
        i = 0
        while i < len(lines):
            if lines[i].startswith(".TP"):
                tag = render_line(lines[i + 1]) or ""
                body = []
                i += 2
                while i < len(lines) and not re.match(r"\.(TP|SS|PP|P|LP)\b", lines[i]):
                    shown = render_line(lines[i])
                    if shown is not None:
                        body.append(shown)
                    i += 1
                entries.append((tag, " ".join(body)))
            else:
                i += 1
        section["entries"] = entries
        section["text"] = "\n".join(filter(None, map(render_line, lines)))
    return sections


OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")


def options_in(text):
    return set(OPTION.findall(text))


def all_options_in_page(path):
    with open(path, encoding="utf-8") as page:
        text = "\n".join(filter(None, (render_line(l.rstrip("\n")) for l in page
                                       if not l.startswith(".TH"))))
    return options_in(text)


def synopsis_entries(section):
    """The SYNOPSIS split at .br/.PP: each entry's rendered text."""
    entries, current = [], []
    for line in section["lines"]:
        if re.match(r"\.(br|PP|P|LP)\b", line):
            entries.append(" ".join(current))
            current = []
            continue
        shown = render_line(line)
        if shown:
            current.append(shown)
    entries.append(" ".join(current))
    return [" ".join(e.split()) for e in entries if e.strip()]


# ----- CLI11 --help ---------------------------------------------------------

def parse_help(text):
    """(options, positionals, subcommands) of a CLI11 --help text."""
    options, positionals, subcommands = set(), [], []
    block = None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            block = line[:-1]
            continue
        if not line.startswith("  ") or line.startswith("    "):
            continue
        first = line.split()[0]
        if block == "Options":
            options.update(n for n in first.split(",") if n.startswith("-"))
        elif block == "Positionals":
            positionals.append(first)
        elif block == "Subcommands":
            subcommands.append(first)
    return options, positionals, subcommands


# ----- exim-band.8 ----------------------------------------------------------

def check_band(band, docs):
    page = os.path.join(docs, "exim-band.8")
    help_options, _, _ = parse_help(run([band, "--help"]).stdout)
    sections = parse_page(page)
    documented = set()
    for tag, _ in sections["OPTIONS"]["entries"]:
        documented |= options_in(tag)
    for option in sorted(help_options - documented):
        fail("exim-band.8: option %s (exim-band --help) has no entry in OPTIONS" % option)
    for option in sorted(documented - help_options):
        fail("exim-band.8: OPTIONS documents %s, which exim-band --help does not know" % option)
    for option in sorted(all_options_in_page(page) - help_options):
        fail("exim-band.8 names %s, which exim-band --help does not know" % option)
    print("exim-band.8: %d options checked: %s" % (len(help_options), " ".join(sorted(help_options))))


# ----- exim-banctl.8 --------------------------------------------------------

def check_banctl(banctl, docs):
    page = os.path.join(docs, "exim-banctl.8")
    top_options, _, subcommands = parse_help(run([banctl, "--help"]).stdout)
    if not subcommands:
        fail("exim-banctl --help lists no subcommands")
    helps = {}
    for sub in subcommands:
        options, positionals, _ = parse_help(run([banctl, sub, "--help"]).stdout)
        helps[sub] = (options, positionals)
    sections = parse_page(page)

    # COMMANDS: one entry per subcommand, no other.
    commands = [tag.split()[0] for tag, _ in sections["COMMANDS"]["entries"] if tag.split()]
    for sub in subcommands:
        if sub not in commands:
            fail("exim-banctl.8: subcommand %s has no entry in COMMANDS" % sub)
    for command in commands:
        if command not in subcommands:
            fail("exim-banctl.8: COMMANDS has an entry %s, which exim-banctl --help does not list"
                 % command)

    # SYNOPSIS: one entry per subcommand with exactly its options.
    entries = synopsis_entries(sections["SYNOPSIS"])
    daemon_options = set()
    for entry in entries:
        if entry.startswith("DAEMON-OPTIONS:"):
            daemon_options = options_in(entry)
    lines_of = {}
    for entry in entries:
        words = entry.split()
        if len(words) >= 2 and words[0] == "exim-banctl":
            lines_of.setdefault(words[1], []).append(entry)
    for sub in subcommands:
        found = lines_of.get(sub, [])
        if len(found) != 1:
            fail("exim-banctl.8: SYNOPSIS has %d lines for %s (want one: exim-banctl %s ...)"
                 % (len(found), sub, sub))
            continue
        entry = found[0]
        shown = options_in(entry)
        if "DAEMON-OPTIONS" in entry:
            shown |= daemon_options
        options, positionals = helps[sub]
        wanted = options - {"-h", "--help"}
        for option in sorted(wanted - shown):
            fail("exim-banctl.8: SYNOPSIS of %s lacks %s (exim-banctl %s --help)" % (sub, option, sub))
        for option in sorted(shown - options):
            fail("exim-banctl.8: SYNOPSIS of %s shows %s, which exim-banctl %s --help does not know"
                 % (sub, option, sub))
        for positional in positionals:
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(positional), entry):
                fail("exim-banctl.8: SYNOPSIS of %s lacks its argument %s" % (sub, positional))
    top_line = [e for e in entries if re.match(r"exim-banctl \[?-", e)]
    for option in sorted(top_options):
        if not any(option in options_in(e) for e in top_line):
            fail("exim-banctl.8: SYNOPSIS lacks exim-banctl %s" % option)

    # OPTIONS: one entry per option of any subcommand, none that does not exist.
    every = set(top_options)
    for options, _ in helps.values():
        every |= options
    documented = set()
    for tag, _ in sections["OPTIONS"]["entries"]:
        documented |= options_in(tag)
    for option in sorted(every - documented):
        users = [s for s in subcommands if option in helps[s][0]]
        fail("exim-banctl.8: option %s (exim-banctl %s --help) has no entry in OPTIONS"
             % (option, users[0] if users else ""))
    for option in sorted(documented - every):
        fail("exim-banctl.8: OPTIONS documents %s, which no exim-banctl --help knows" % option)
    for option in sorted(all_options_in_page(page) - every):
        fail("exim-banctl.8 names %s, which no exim-banctl --help knows" % option)
    print("exim-banctl.8: %d subcommands, %d options checked: %s"
          % (len(subcommands), len(every), " ".join(sorted(every))))


# ----- exim-ban.conf.5 ------------------------------------------------------

def check_config_output(banctl, path):
    """{section: {key: value}} from exim-banctl check-config."""
    result = run([banctl, "check-config", "--config", path])
    settings, section = {}, None
    for line in result.stdout.splitlines():
        if re.match(r"^\[[^\]]+\]$", line):
            section = line[1:-1]
            settings[section] = {}
        elif section and "=" in line and not line.startswith(";"):
            key, _, rest = line.partition("=")
            value, _, origin = rest.partition(";")
            settings[section][key.strip()] = (value.strip(), origin.strip())
    return settings


def tag_keys(tag):
    """'maxretry (5), findtime (10m)' -> [('maxretry', '5'), ('findtime', '10m')]"""
    keys = []
    rest = tag.strip()
    pattern = re.compile(r"([a-z][a-z0-9_.]*)(?: \(((?:[^()]|\([^()]*\))*)\))?(?:, |$)")
    while rest:
        match = pattern.match(rest)
        if not match:
            fail("exim-ban.conf.5: cannot read the entry %r as key (default), ..." % tag)
            break
        keys.append((match.group(1), match.group(2)))
        rest = rest[match.end():]
    return keys


# Defaults the page describes instead of spelling: check-config prints the
# value they stand for.
COMPUTED = {"filter", "filters_dir"}


def check_conf(banctl, docs, source_filters):
    page = os.path.join(docs, "exim-ban.conf.5")
    sections = parse_page(page)
    with tempfile.TemporaryDirectory() as scratch:
        conf = os.path.join(scratch, "exim-ban.conf")
        with open(conf, "w") as out:
            out.write("[DEFAULT]\nfilters_dir = %s\n\n[exim]\n" % source_filters)
        printed = check_config_output(banctl, conf)
        global_keys = {k: v for k, (v, _) in printed.get("DEFAULT", {}).items()}
        jail_keys = {k: v for k, (v, _) in printed.get("exim", {}).items()}
        if not global_keys or not jail_keys:
            fail("exim-banctl check-config printed no [DEFAULT] or [exim] settings")
            return

        # The loader's own list of known settings must be the same keys.
        with open(conf, "w") as out:
            out.write("[DEFAULT]\nno_such_setting = 1\n")
        result = run([banctl, "check-config", "--config", conf], check=False)
        known = re.search(r"known settings: (.*)$", result.stderr.strip(), re.M)
        if not known:
            fail("check-config did not list the known settings for an unknown key: %r"
                 % result.stderr)
        elif set(known.group(1).split(", ")) != set(global_keys) | set(jail_keys):
            fail("the loader's known settings %s differ from what check-config prints %s"
                 % (sorted(known.group(1).split(", ")), sorted(set(global_keys) | set(jail_keys))))

        for title, keys, other in (("JAIL SETTINGS", jail_keys, global_keys),
                                   ("DAEMON SETTINGS", global_keys, jail_keys)):
            documented = {}
            for tag, _ in sections.get(title, {"entries": []})["entries"]:
                for key, default in tag_keys(tag):
                    documented[key] = default
            for key in sorted(set(keys) - set(documented)):
                fail("exim-ban.conf.5: %s has no entry for %s (exim-banctl check-config prints it)"
                     % (title, key))
            for key in sorted(set(documented) - set(keys)):
                where = "a setting of the other kind" if key in other else "unknown to the loader"
                fail("exim-ban.conf.5: %s documents %s, %s" % (title, key, where))
            for key, default in sorted(documented.items()):
                if key not in keys or default is None or key in COMPUTED:
                    continue
                actual = keys[key]
                if actual == "" and default.startswith("empty"):
                    continue
                if default != actual:
                    fail("exim-ban.conf.5: %s says the default of %s is %r; check-config says %r"
                         % (title, key, default, actual))
            print("exim-ban.conf.5: %s: %d keys checked: %s"
                  % (title, len(keys), " ".join(sorted(keys))))

        # The EXAMPLE must load (filters from the source tree).
        example = []
        inside = False
        for line in sections.get("EXAMPLE", {"lines": []})["lines"]:
            if line.startswith(".nf"):
                inside = True
            elif line.startswith(".fi"):
                inside = False
            elif inside:
                example.append(unescape(line))
        if not example:
            fail("exim-ban.conf.5 has no EXAMPLE")
        else:
            os.symlink(source_filters, os.path.join(scratch, "filters.d"))
            with open(conf, "w") as out:
                out.write("\n".join(example) + "\n")
            result = run([banctl, "check-config", "--config", conf], check=False)
            if result.returncode != 0:
                fail("exim-ban.conf.5: the EXAMPLE does not load: %s" % result.stderr.strip())
            else:
                print("exim-ban.conf.5: the EXAMPLE loads")


# ----- rendering ------------------------------------------------------------

def check_rendering(docs):
    pages = sorted(p for p in os.listdir(docs) if re.search(r"\.[1-8]$", p))
    if shutil.which("groff") is None:
        return False
    for name in pages:
        path = os.path.join(docs, name)
        # A locale that always exists, so that no "can't set the locale"
        # warning is taken for the page's.
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        env.pop("MANPAGER", None)
        env.pop("PAGER", None)
        result = subprocess.run(["groff", "-man", "-ww", "-z", path],
                                capture_output=True, text=True, env=env)
        if result.returncode != 0 or result.stderr.strip():
            fail("%s: groff -man -ww -z: %s" % (name, result.stderr.strip() or result.returncode))
        if shutil.which("man"):
            result = subprocess.run(["man", "--warnings", "-l", "-Tutf8", path],
                                    capture_output=True, text=True, env=env)
            if result.returncode != 0 or result.stderr.strip():
                fail("%s: man --warnings: %s" % (name, result.stderr.strip() or result.returncode))
    print("rendering: %d pages checked (groff -man -ww -z%s): %s"
          % (len(pages), ", man --warnings" if shutil.which("man") else "", " ".join(pages)))
    return True


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    band, banctl = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    docs = sys.argv[3] if len(sys.argv) == 4 else os.path.join(root, "docs")
    check_band(band, docs)
    check_banctl(banctl, docs)
    check_conf(banctl, docs, os.path.join(root, "filters"))
    rendered = check_rendering(docs)
    if failures:
        print("man-pages-test: %d discrepancies" % len(failures))
        return 1
    if not rendered:
        print("man-pages-test: SKIP: groff is not installed (Debian: groff-base); "
              "the options and keys agree, the rendering was not checked")
        return 77
    print("man-pages-test: the man pages agree with the programs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
