#!/usr/bin/env bash
# test_examples: every example a user is shown runs and prints something.
#
# Collects the example command lines of README.md (every line of an sh
# block that runs specdex, specdex-index or specdexd), of the man pages
# (EXAMPLES, and quoted "specdex ..." commands in the text) and of every
# --help (specdex's and each command's "Example(s):"), then runs each in
# a fresh directory laid out as the source tree is (corpus/, build/bin/;
# corpus/new-standard.html is a good saved page, for the README's "add a
# job standard"), against a real daemon on the shipped corpus: each must
# exit 0 and print something.  The daemon's production endpoints are
# replaced by the test's.  Lines that need root or systemd (README's
# Deploying: systemctl, cmake --install) are not specdex commands and are
# not collected.  Then README's sample output is compared, byte for byte,
# with what the command above it prints at 80 columns.
set -u
bin=${1:?usage: test_examples.sh BIN_DIR SOURCE_DIR}
src=${2:?usage: test_examples.sh BIN_DIR SOURCE_DIR}
py=/usr/bin/python3
. "$(dirname "$0")/lib.sh"
unset COLUMNS NO_COLOR

serve "$bin" "$src/corpus"

# The corpus the examples see: the shipped one and a new saved page.
mkdir "$tmp/corpus"
cp "$src"/corpus/* "$tmp/corpus/"
cp "$src/tests/data/html/good/records-analyst.html" \
   "$tmp/corpus/new-standard.html"

# Every example, one per line, from where a user reads them.
$py - "$src" "$bin" > "$tmp/examples.txt" <<'PY' || { echo "0 passed, 1 failed"; exit 1; }
import os, re, subprocess, sys
src, bin_dir = sys.argv[1:3]
PROGRAM = re.compile(r"^(build/bin/)?specdex(-index|d)?( |$)")
seen = []
def add(line, where):
    line = line.strip()
    if PROGRAM.match(line) and line not in [s for s, _ in seen]:
        seen.append((line, where))

# README: the sh blocks, a trailing "# comment" dropped.
text = open(os.path.join(src, "README.md"), encoding="utf-8").read()
for block in re.findall(r"```sh\n(.*?)```", text, re.S):
    for line in block.splitlines():
        add(re.sub(r"\s+#\s.*$", "", line), "README.md")

# Man pages: EXAMPLES (between .nf and .fi), and quoted commands.
def unroff(s):
    s = s.replace("\\-", "-").replace("\\(dq", '"')
    return re.sub(r"\\f[BIRP]", "", s)
for page in ("specdex.1", "specdex-index.1", "specdexd.8"):
    roff = open(os.path.join(src, "docs", "man", page), encoding="utf-8").read()
    ex = re.search(r"^\.SH EXAMPLES\n(.*?)^\.SH", roff, re.S | re.M)
    if ex:
        for line in ex.group(1).splitlines():
            if not line.startswith("."):
                add(unroff(line), page)
    for q in re.findall(r'"((?:specdex)[^"]*(?:\\\(dq[^"]*)*)"', roff):
        cmd = unroff(q)
        if len(cmd.split()) >= 3:       # a whole command, not a name
            add(cmd, page)

# --help: specdex's, each command's, specdex-index's and specdexd's.
def helptext(*args):
    r = subprocess.run([os.path.join(bin_dir, args[0]), *args[1:]],
                       capture_output=True, text=True)
    return r.stdout
main = helptext("specdex", "--help")
cmds = re.findall(r"^  ([a-z]+)\s{2,}",
                  main.split("Commands:", 1)[1].split("\n\n", 1)[0], re.M)
helps = [("specdex --help", main)]
helps += [(f"specdex {c} --help", helptext("specdex", c, "--help"))
          for c in cmds]
helps += [("specdex-index --help", helptext("specdex-index", "--help")),
          ("specdexd --help", helptext("specdexd", "--help"))]
for where, h in helps:
    for block in re.findall(r"^Examples?:\n((?:  .*\n?)+)", h, re.M):
        for line in block.splitlines():
            add(line, where)

for line, where in seen:
    print(f"{where}\t{line}")
PY
n=$(wc -l < "$tmp/examples.txt")
echo "# $n examples"
check "examples found in README, man pages and --help ($n)" [ "$n" -ge 20 ]

i=0
while IFS=$'\t' read -r where line; do
  i=$((i + 1))
  work=$tmp/ex$i
  mkdir -p "$work/build" "$work/home"
  ln -s "$bin" "$work/build/bin"
  ln -s "$tmp/corpus" "$work/corpus"
  run=${line//ipc:\/\/\/run\/specdex\/specdex.sock/$ep}
  run=${run//tcp:\/\/127.0.0.1:5599/$ep}
  (cd "$work" && HOME=$work/home PATH=$bin:$PATH SPECDEX_ENDPOINT=$ep \
     timeout 60 bash -c "$run") > "$work/out" 2> "$work/err" < /dev/null
  rc=$?
  if [ "$rc" -ne 0 ] || [ ! -s "$work/out" ]; then
    sed 's/^/#   /' "$work/err" | head -5
  fi
  check "$where: $line (exit $rc, $(wc -l < "$work/out") lines)" \
    bash -c "[ $rc -eq 0 ] && [ -s '$work/out' ]"
done < "$tmp/examples.txt"

# README's sample output is the program's: the block after the command.
$py - "$src/README.md" > "$tmp/sample.cmd" 2> "$tmp/sample.txt" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"```sh\n(build/bin/specdex search [^\n]*)\n```\n\n```\n(.*?)```",
              text, re.S)
print(m.group(1))
sys.stderr.write(m.group(2))
PY
cmd=$(cat "$tmp/sample.cmd")
(cd "$src" && SPECDEX_ENDPOINT=$ep bash -c "${cmd/build\/bin/$bin}") \
  > "$tmp/sample.real" 2>&1
if ! cmp -s "$tmp/sample.txt" "$tmp/sample.real"; then
  diff "$tmp/sample.txt" "$tmp/sample.real" | sed 's/^/#   /'
fi
check "README's sample output is what '$cmd' prints" \
  cmp -s "$tmp/sample.txt" "$tmp/sample.real"

kill -TERM "$daemon_pid"; wait "$daemon_pid"; rc=$?; daemon_pid=
check "daemon exits 0 on SIGTERM" [ "$rc" -eq 0 ]
finish
