#!/usr/bin/env bash
# test_cli: the staff CLI against a real daemon on a real ipc socket.
#
# Indexes the shipped corpus into a temp dir, starts specdexd, and checks
# what a person and a script see: the first hits for "root cause
# analysis", filters, plain and JSON output, and every exit status
# (0 results, 1 none, 2 usage, 3 unavailable, 4 error reply).
set -u
bin=${1:?usage: test_cli.sh BIN_DIR CORPUS_DIR}
corpus=${2:?usage: test_cli.sh BIN_DIR CORPUS_DIR}
py=/usr/bin/python3

. "$(dirname "$0")/lib.sh"

ep="ipc://$tmp/specdex.sock"
"$bin/specdex-index" -o "$tmp/index" "$corpus" > "$tmp/index.log" 2>&1 \
  || { cat "$tmp/index.log"; echo "1 failed: indexer"; exit 1; }
"$bin/specdexd" --index "$tmp/index" --endpoint "$ep" --threads 2 \
  2> "$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 50); do
  "$bin/specdex" -e "$ep" --timeout 200 ping > /dev/null 2>&1 && break
  sleep 0.1
done

cli() { "$bin/specdex" -e "$ep" "$@"; }

# The acceptance query: Key Resp 06 at levels 1 and 2 rank first.
cli --json search "root cause analysis" > "$tmp/rca.json"; rc=$?
check "search exits 0 with results" [ "$rc" -eq 0 ]
first_two=$($py -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(" ".join(h["id"] for h in r["hits"][:2]))' "$tmp/rca.json")
check "root cause analysis: 5365 and 5366 key-resp-06 first" \
  [ "$first_two" = "5365/key-resp-06 5366/key-resp-06" ]

# Plain output: labelled by row, level, job code; no escape codes off a tty.
cli search "root cause analysis" --limit 2 > "$tmp/rca.txt"
check "plain output names row, level and code" \
  grep -q "^ 1\. Key Resp 06 · level 1 · 5365 · Clinical Applications Professional 1 HX" "$tmp/rca.txt"
check "plain output has no escape codes" bash -c "! grep -q $'\033' '$tmp/rca.txt'"
check "plain output shows the matched passage" grep -q "root cause analysis" "$tmp/rca.txt"

# Filters: --level and --section reach the daemon.
cli --json search troubleshooting --level 5 > "$tmp/l5.json"
check "--level 5 returns only level 5" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); assert r["hits"]
assert all(h["level"] == 5 for h in r["hits"])' "$tmp/l5.json"
cli --json search vendors --section ksa,responsibility --level 2-3 > "$tmp/f.json"
check "--section and --level range combine" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); assert r["hits"]
assert all(h["level"] in (2, 3) and h["section"] in ("ksa", "responsibility") for h in r["hits"])' "$tmp/f.json"

cli search vendors --facets > "$tmp/facets.txt"
check "--facets: counts by level and section" bash -c "grep -q '^Matches by level:' '$tmp/facets.txt' && grep -q '^Matches by section:  responsibility: ' '$tmp/facets.txt'"
cli search "background check" --group > "$tmp/group.txt"
check "--group: one hit for a row identical at every level" grep -q "^ 1\. Special Condition 2 · levels 1,2,3,4,5" "$tmp/group.txt"

# get, stats, ping.
cli get 5366/key-resp-06 > "$tmp/get.txt"; rc=$?
check "get prints the clause" bash -c "[ $rc -eq 0 ] && tr -s '\\n ' '  ' < '$tmp/get.txt' | grep -q 'Performs root cause analysis, informs management'"
cli --json stats > "$tmp/stats.json"
check "stats reports 105 documents" $py -c 'import json,sys
assert json.load(open(sys.argv[1]))["docs"] == 105' "$tmp/stats.json"

# Exit statuses.
cli search zzzyyyxxx > /dev/null 2>&1; rc=$?
check "no results exits 1" [ "$rc" -eq 1 ]
cli search > /dev/null 2>&1; rc=$?
check "missing query exits 2" [ "$rc" -eq 2 ]
cli search x --level 9-1 > /dev/null 2>&1; rc=$?
check "bad --level exits 2" [ "$rc" -eq 2 ]
cli bogus > /dev/null 2>&1; rc=$?
check "unknown command exits 2" [ "$rc" -eq 2 ]
cli search 'x AND AND y' > /dev/null 2> "$tmp/err.txt"; rc=$?
check "error reply exits 4 with a message" bash -c "[ $rc -eq 4 ] && grep -q 'bad_query' '$tmp/err.txt'"
cli search x --limit 1000 > /dev/null 2> "$tmp/err.txt"; rc=$?
check "out-of-range limit exits 4 naming the field" bash -c "[ $rc -eq 4 ] && grep -q limit '$tmp/err.txt'"
cli search --help | grep -q "Examples:"; check "search --help has examples" [ $? -eq 0 ]


# On a terminal (a real pseudo-terminal from script(1)): matches in bold
# colour, text wrapped to the terminal's width; NO_COLOR turns colour off.
on_tty() { # on_tty COLUMNS COMMAND...: run COMMAND on a pty that wide
  local cols=$1; shift
  script -qec "stty cols $cols rows 50; $*" /dev/null < /dev/null | tr -d '\r'
}
esc=$'\033'
on_tty 60 "$bin/specdex -e $ep search 'root cause analysis' --limit 2" > "$tmp/tty.txt"
check "tty: matched words in bold colour" grep -q "${esc}\[1;31mroot" "$tmp/tty.txt"
check "tty: headings in bold" grep -q "${esc}\[1mKey Resp 06 · level 1" "$tmp/tty.txt"
widest=$($py -c 'import re,sys
print(max(len(re.sub("\x1b\\[[0-9;]*m", "", l)) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()))' "$tmp/tty.txt")
check "tty: text wrapped to 60 columns (widest line $widest)" [ "$widest" -le 60 ]
on_tty 60 "NO_COLOR=1 $bin/specdex -e $ep search 'root cause analysis' --limit 2" > "$tmp/nocolor.txt"
check "tty: NO_COLOR turns colour off" bash -c "! grep -q '$esc' '$tmp/nocolor.txt' && grep -q 'root cause analysis' '$tmp/nocolor.txt'"
on_tty 100 "$bin/specdex -e $ep --json search 'root cause analysis'" > "$tmp/ttyjson.txt"
check "tty: --json is plain JSON" $py -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/ttyjson.txt"

# ladder and row: a level-by-level table a person can scan.
on_tty 100 "NO_COLOR=1 $bin/specdex -e $ep ladder 'root cause analysis'" > "$tmp/ladder.txt"
check "ladder: the row of the best hit, as a table" bash -c "grep -q '^Key Resp 06 from level to level' '$tmp/ladder.txt' && grep -q '^Level  Code  Text' '$tmp/ladder.txt'"
check "ladder: one table line per level" bash -c "grep -cE '^[1-5]      (5365|5366|5367|6372|6373)  [A-Z]' '$tmp/ladder.txt' | grep -qx 5"
check "ladder: best match at each level" grep -q "^  1  Key Resp 06 *5365/key-resp-06" "$tmp/ladder.txt"
cli row "key resp 08" > "$tmp/row.txt"; rc=$?
check "row: levels without the row shown as such" bash -c "[ $rc -eq 0 ] && grep -c 'no cell at this level' '$tmp/row.txt' | grep -qx 2"
cli --jsonl row "KSA 07" > "$tmp/row.jsonl"
check "row --jsonl: one line per level" bash -c "[ \$(wc -l < '$tmp/row.jsonl') -eq 5 ]"
cli --jsonl search "root cause analysis" --limit 3 > "$tmp/hits.jsonl"
check "search --jsonl: one line per hit" $py -c 'import json,sys
lines = open(sys.argv[1]).read().splitlines(); assert len(lines) == 3
assert json.loads(lines[0])["id"] == "5365/key-resp-06"' "$tmp/hits.jsonl"
cli suggest troubleshootng > "$tmp/suggest.txt"; rc=$?
check "suggest: did you mean" bash -c "[ $rc -eq 0 ] && grep -q 'troubleshooting' '$tmp/suggest.txt'"

# A daemon that is not running: one line, exit 3, within two seconds.
start=$(date +%s%N)
"$bin/specdex" -e "ipc://$tmp/nobody.sock" search x > /dev/null 2> "$tmp/down.txt"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "unavailable daemon exits 3" [ "$rc" -eq 3 ]
check "unavailable daemon reported in one line" [ "$(wc -l < "$tmp/down.txt")" -eq 1 ]
# Two attempts of 1000 ms each; the bound only catches a hang.
check "unavailable daemon reported without hanging ($ms ms)" [ "$ms" -lt 4000 ]

# The daemon stops cleanly (under the sanitizer build: without leaks).
kill -TERM "$daemon_pid"; wait "$daemon_pid"; rc=$?; daemon_pid=
check "daemon exits 0 on SIGTERM" [ "$rc" -eq 0 ]

finish
