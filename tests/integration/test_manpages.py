#!/usr/bin/python3
"""test_manpages: each man page lists the options its program's --help does.

For specdex(1), specdex-index(1) and specdexd(8): every option named in the
page (\\- unescaped, fonts stripped) is one the program's --help names, and
every option of --help is in the page.  specdex's --help is the main help
and each command's (the commands come from the main help), so an option of
one command counts.  The few options a page names that belong to another
program (specdex(1) tells how the daemon is started with CURVE) are listed
below, each with its owner, so that none is missed silently.
usage: test_manpages.py BIN_DIR MAN_DIR
"""
import os
import re
import subprocess
import sys

BIN, MAN = sys.argv[1:3]

# An option: -x or --long-name, not inside a word (specdex-index) nor a
# number range (1-3).
OPTION = re.compile(r"(?<![\w\-/.])(--?[A-Za-z][A-Za-z\-]*)")

# Options a page names that are another program's: page -> {option: owner}.
OTHERS = {
    "specdex.1": {"--curve-secret": "specdexd", "--allow-keys": "specdexd"},
    "specdexd.8": {"-o": "specdex-index", "--shards": "specdex-index"},
    "specdex-index.1": {"-n": "head"},
    "specdex-http.1": {"-s": "curl", "-d": "curl"},
    "specdex-mcp.1": {},
    "specdex-ship.1": {"--adopt": "specdex-index"},
}

# Options a program takes that its --help does not list: program ->
# {option: why}.
UNLISTED = {
    "specdexd": {"--help": "specdexd --help does not list itself",
                 "-h": "specdexd --help does not list itself"},
}


def help_text(*args):
    out = subprocess.run([os.path.join(BIN, args[0]), *args[1:]],
                         capture_output=True, text=True, timeout=10)
    return out.stdout + out.stderr


def page_options(path):
    text = open(path, encoding="utf-8").read()
    lines = [ln for ln in text.splitlines() if not ln.startswith('.\\"')]
    text = "\n".join(lines).replace("\\-", "-")
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r"^\.\w+\s*", "", text, flags=re.M)  # macros: .B, .TP
    # Examples and the synopsis name options too: all count.
    return set(OPTION.findall(text))


def help_options(program):
    text = help_text(program, "--help")
    if program == "specdex":
        commands = re.findall(r"^  ([a-z]+)\s{2,}", text.split(
            "Commands:", 1)[1].split("\n\n", 1)[0], re.M)
        assert commands, "no commands in specdex --help"
        for cmd in commands:
            text += help_text(program, cmd, "--help")
    return set(OPTION.findall(text))


def main():
    failed = 0
    for page, program in (("specdex.1", "specdex"),
                          ("specdex-index.1", "specdex-index"),
                          ("specdexd.8", "specdexd"),
                          ("specdex-http.1", "specdex-http"),
                          ("specdex-mcp.1", "specdex-mcp"),
                          ("specdex-ship.1", "specdex-ship")):
        in_page = page_options(os.path.join(MAN, page))
        in_help = help_options(program) | set(UNLISTED.get(program, {}))
        others = set(OTHERS[page])
        missing = sorted(in_help - in_page)
        extra = sorted(in_page - in_help - others)
        stale = sorted(others - in_page)
        for name, items, what in (
                ("in --help, not in the page", missing, page),
                ("in the page, not in --help", extra, page),
                ("listed as another program's, not in the page", stale,
                 page)):
            ok = not items
            failed += not ok
            print(f"{'ok' if ok else 'not ok'} - {what}: options {name}"
                  f"{': ' + ' '.join(items) if items else ''}")
        print(f"# {page}: {len(in_page)} options, {program} --help: "
              f"{len(in_help)}")
    total = 15
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
