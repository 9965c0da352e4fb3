#!/usr/bin/env bash
# test_cli: the staff CLI against a real daemon on a real ipc socket.
#
# Indexes the shipped corpus into a temp dir, starts specdexd, and checks
# what a person and a script see: the first hits for "root cause
# analysis", filters, plain and JSON output, and every exit status
# (0 results, 1 none, 2 usage, 3 unavailable, 4 error reply); the width
# rule (COLUMNS, then the terminal, then 80) with the id and percent of
# every hit at any width; usage errors caught before anything is sent;
# --offset past the end, --series that has not the row, ping's round
# trip, --color.
set -u
# The width rule is under test: start from no COLUMNS, as a terminal has.
unset COLUMNS NO_COLOR
bin=${1:?usage: test_cli.sh BIN_DIR CORPUS_DIR}
corpus=${2:?usage: test_cli.sh BIN_DIR CORPUS_DIR}
py=/usr/bin/python3

. "$(dirname "$0")/lib.sh"

serve "$bin" "$corpus"

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
check "plain output names row, level, code, id and percent" \
  grep -qE "^ 1\. Key Resp 06 · level 1 · 5365  5365/key-resp-06 \([0-9]+%\)$" "$tmp/rca.txt"
COLUMNS=120 cli search "root cause analysis" --limit 1 > "$tmp/wide.txt"
check "the title too where the line has room" \
  grep -qE "^ 1\. Key Resp 06 · level 1 · 5365 · Clinical Applications Professional 1 HX  5365/key-resp-06 \([0-9]+%\)$" "$tmp/wide.txt"
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

# The id `specdex get` needs, and the percent, on every hit at any width
# (a narrow one puts them on a line of their own).
for w in 20 40 60 80 100 200; do
  COLUMNS=$w cli search "root cause analysis" > "$tmp/w$w.txt"
  n=$(grep -cE '(^| )[0-9]+/[a-z0-9-]+ \([0-9]+%\)$' "$tmp/w$w.txt")
  check "COLUMNS=$w: id and percent on all 10 hits ($n)" [ "$n" -eq 10 ]
done

# Width, by git's rule: COLUMNS wins, on a terminal or not; then the
# terminal; then 80.
widest() { # widest FILE: the longest line, escape codes not counted
  $py -c 'import re,sys
print(max(len(re.sub("\x1b\\[[0-9;]*m", "", l)) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()))' "$1"
}
COLUMNS=50 cli search "root cause analysis" > "$tmp/c50.txt"
check "piped, COLUMNS=50: wrapped to 50 ($(widest "$tmp/c50.txt"))" [ "$(widest "$tmp/c50.txt")" -le 50 ]
cli search "root cause analysis" > "$tmp/c80.txt"
w=$(widest "$tmp/c80.txt")
check "piped, no COLUMNS: wrapped to 80 ($w)" [ "$w" -le 80 ] && [ "$w" -gt 70 ]
COLUMNS=abc cli search "root cause analysis" > "$tmp/cabc.txt"
check "COLUMNS not a number: ignored (80)" [ "$(widest "$tmp/cabc.txt")" = "$w" ]

# Usage errors: exit 2, a message naming the option and what it takes,
# and nothing sent (the endpoint has no daemon: sending would exit 3).
usage() { # usage EXPECTED-MESSAGE ARGS...: exit 2 with that message
  local want=$1; shift
  "$bin/specdex" -e "ipc://$tmp/nobody.sock" "$@" > "$tmp/u.out" 2> "$tmp/u.err"
  local rc=$?
  check "usage error ($*): exit 2 ($rc), '$want'" \
    bash -c "[ $rc -eq 2 ] && [ ! -s '$tmp/u.out' ] && grep -qF -- \"\$1\" '$tmp/u.err'" _ "$want"
}
usage "--limit: 0 is out of range 1..100" search x -n 0
usage "--limit: 101 is out of range 1..100" search x -n 101
usage "--limit: 1000 is out of range 1..100" search x --limit 1000
usage "--limit: 'abc' is not a number (1..100)" search x -n abc
usage "--offset: 10001 is out of range 0..10000" search x -o 10001
usage "--level: 0 is out of range 1..5" search x --level 0
usage "--level: 9 is out of range 1..5" search x --level 9
usage "--level: 9 is out of range 1..5" context x --level 2-9
usage "--level: '9-1': a range goes up" search x --level 9-1
usage "--section: 'bogus' is not a section (one of summary, scope, responsibility, ksa, education, condition, environment)" search x --section bogus
usage "--section: 'bogus' is not a section" ladder x --section ksa,bogus
usage "QUERY is empty" search ""
usage "QUERY is blank" search "   "
usage "QUERY is blank" context " "
usage "ROW is blank" row " "
usage "--k: 0 is out of range 1..20" context x -k 0
usage "--max-chars: 100 is out of range 200..20000" context x -m 100
usage "--endpoint: 'foo' is not an endpoint" -e foo search x
usage "--endpoint: 'tcp://127.0.0.1' is not an endpoint: tcp:// needs HOST:PORT" -e tcp://127.0.0.1 search x
usage "the port is not 1..65535" -e tcp://127.0.0.1:99999 search x
usage "--timeout: 0 is out of range 1..600000" --timeout 0 ping
usage "--color: 'sometimes' is not auto, always or never" search x --color=sometimes
usage "--syntax: 'sql' is not plain or query" context x --syntax sql
usage "--min-score: '1.5' is not a number 0..1" context x --min-score 1.5
usage "--min-score: 'nan' is not a number 0..1" context x --min-score nan
usage "--min-score is not an option of search" search x --min-score 0.2
usage "--syntax is not an option of ladder" ladder x --syntax plain
SPECDEX_ENDPOINT=nonsense "$bin/specdex" search x > /dev/null 2> "$tmp/err.txt"; rc=$?
check "a malformed SPECDEX_ENDPOINT is named" bash -c "[ $rc -eq 2 ] && grep -q \"SPECDEX_ENDPOINT: 'nonsense' is not an endpoint\" '$tmp/err.txt'"
SPECDEX_ENDPOINT="ipc://$tmp/nobody.sock,$ep" "$bin/specdex" -t 200 ping > /dev/null 2> "$tmp/err.txt"; rc=$?
check "SPECDEX_ENDPOINT lists replicas: a dead one is passed over" bash -c "[ $rc -eq 0 ]"
SPECDEX_ENDPOINT="$ep,,$ep" "$bin/specdex" ping > /dev/null 2> "$tmp/err.txt"; rc=$?
check "an empty endpoint in SPECDEX_ENDPOINT is named" bash -c "[ $rc -eq 2 ] && grep -q 'SPECDEX_ENDPOINT: an empty endpoint' '$tmp/err.txt'"
check "a section in capitals is the section" cli --json search vendors --section RESPONSIBILITY

# Past the last hit: the offset is what is wrong, not the query.
cli search vendors --offset 1000 > "$tmp/off.txt"; rc=$?
check "--offset past the end: says so, exit 1" bash -c "[ $rc -eq 1 ] && grep -qx -- '--offset 1000 is past the last of the 7 matching clauses.' '$tmp/off.txt'"

# row: the label as the corpus writes it; a --series without the row.
cli row "KEY  resp 08" > "$tmp/row8.txt"
check "row: the heading is the corpus' label" grep -q "^Key Resp 08 across levels" "$tmp/row8.txt"
cli row "key resp 06" -S x > "$tmp/rowx.txt" 2> "$tmp/rowx.err"; rc=$?
check "row -S x: the unknown series is named" bash -c "[ $rc -eq 4 ] && grep -qx 'specdex: bad_request: series: no series \"x\" in the index (specdex series lists them)' '$tmp/rowx.err'"
cli search vendors -S x > /dev/null 2> "$tmp/searchx.err"; rc=$?
check "search -S x: the unknown series is named" bash -c "[ $rc -eq 4 ] && grep -q 'no series \"x\" in the index' '$tmp/searchx.err'"
cli row "key resp 99" -S 5366 > "$tmp/rowy.txt"; rc=$?
check "row -S CODE of no row: no such row in any series" bash -c "[ $rc -eq 1 ] && grep -qx 'No row \"key resp 99\" in any series.' '$tmp/rowy.txt'"
cli series > "$tmp/series.txt"; rc=$?
check "series: the seed's series, levels, codes and clauses" bash -c "[ $rc -eq 0 ] && grep -qx 'Clinical Applications Professional 1-5 HX' '$tmp/series.txt' && grep -q '^    levels 1-5, [0-9]* clauses, job codes 5365, 5366, 5367, 6372, 6373$' '$tmp/series.txt'"
check "search -S CODE: the series of that code" cli --json search vendors -S 6372

# Plain words from the CLI: what the question named is shown, a question
# that matches nothing says why, and the options reach the daemon.
cli context "what does level 3 do with vendors?" -k 2 > "$tmp/ctx.txt"; rc=$?
check "context: what the question named is shown" bash -c "[ $rc -eq 0 ] && head -1 '$tmp/ctx.txt' | grep -qx 'Understood: level 3'"
check "context: passages only from what it named" bash -c "grep '^\[' '$tmp/ctx.txt' | grep -v ' 3 HX (5367)' | wc -l | grep -qx 0"
cli context "zzzqqq flurbish" > "$tmp/ctx0.txt"; rc=$?
check "context of no match: says why, exit 1" bash -c "[ $rc -eq 1 ] && sed -n 2p '$tmp/ctx0.txt' | grep -q 'no clause matches'"
cli --json context "root cause analysis of vendor problems" -k 20 --min-score 0 > "$tmp/ms0.json"
cli --json context "root cause analysis of vendor problems" -k 20 > "$tmp/ms4.json"
check "context --min-score 0 keeps the passages the default cut-off leaves out" $py -c 'import json,sys
a = json.load(open(sys.argv[1]))["passages"]; b = json.load(open(sys.argv[2]))["passages"]
assert len(a) > len(b) > 0, (len(a), len(b))' "$tmp/ms0.json" "$tmp/ms4.json"
cli context "vendor OR nothing" --syntax query > /dev/null; rc=$?
check "context --syntax query reads the query language" [ "$rc" -eq 0 ]
cli context "vendor AND (" --syntax query > /dev/null 2>&1; rc=$?
check "context --syntax query: a query that does not parse is an error reply" [ "$rc" -eq 4 ]
cli --json search 'NOT sure who checks vendors AND?' --syntax plain > "$tmp/sp.json"; rc=$?
check "search --syntax plain: operators are words" bash -c "[ $rc -eq 0 ] && $py -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r[\"hits\"] and \"understood\" in r' '$tmp/sp.json'"

# ping: the round trip measured here, the daemon's own time beside it.
cli ping > "$tmp/ping.txt"
check "ping: round trip and the daemon's time" $py -c 'import re,sys
m = re.fullmatch(r"specdexd answers: round trip (\d+) µs \(the daemon.s own time (\d+) µs\)\n", open(sys.argv[1], encoding="utf-8").read())
assert m and int(m.group(1)) >= int(m.group(2)), m' "$tmp/ping.txt"
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
w=$(widest "$tmp/tty.txt")
check "tty: text wrapped to 60 columns (widest line $w)" [ "$w" -le 60 ]
on_tty 60 "NO_COLOR=1 $bin/specdex -e $ep search 'root cause analysis' --limit 2" > "$tmp/nocolor.txt"
check "tty: NO_COLOR turns colour off" bash -c "! grep -q '$esc' '$tmp/nocolor.txt' && grep -q 'root cause analysis' '$tmp/nocolor.txt'"
on_tty 100 "$bin/specdex -e $ep --json search 'root cause analysis'" > "$tmp/ttyjson.txt"
check "tty: --json is plain JSON" $py -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/ttyjson.txt"
on_tty 100 "COLUMNS=50 $bin/specdex -e $ep search 'root cause analysis'" > "$tmp/ttyc50.txt"
check "tty 100 wide, COLUMNS=50: COLUMNS wins ($(widest "$tmp/ttyc50.txt"))" [ "$(widest "$tmp/ttyc50.txt")" -le 50 ]
on_tty 30 "$bin/specdex -e $ep search 'root cause analysis'" > "$tmp/tty30.txt"
n=$(sed "s/${esc}\[[0-9;]*m//g" "$tmp/tty30.txt" | grep -cE '(^| )[0-9]+/[a-z0-9-]+ \([0-9]+%\)$')
check "tty 30 wide: id and percent on all 10 hits ($n)" [ "$n" -eq 10 ]

# --color beside NO_COLOR: always wins over NO_COLOR and a pipe, never
# over a terminal; auto is the default.
cli search "root cause analysis" --limit 1 --color=always > "$tmp/always.txt"
check "--color=always: colour into a pipe" grep -q "${esc}\[1;31m" "$tmp/always.txt"
NO_COLOR=1 "$bin/specdex" -e "$ep" --color search "root cause analysis" --limit 1 > "$tmp/always2.txt"
check "--color (always) before the command wins over NO_COLOR" grep -q "${esc}\[1;31m" "$tmp/always2.txt"
on_tty 80 "$bin/specdex -e $ep search 'root cause analysis' --limit 1 --color=never" > "$tmp/never.txt"
check "--color=never: no colour on a terminal" bash -c "! grep -q '$esc' '$tmp/never.txt' && grep -q 'root cause analysis' '$tmp/never.txt'"
on_tty 80 "$bin/specdex -e $ep search 'root cause analysis' --limit 1 --color=auto" > "$tmp/auto.txt"
check "--color=auto: colour on a terminal" grep -q "${esc}\[1;31m" "$tmp/auto.txt"
cli --json search "root cause analysis" --limit 1 --color=always > "$tmp/cj.json"
check "--json stays plain JSON under --color=always" $py -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/cj.json"

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

# The grid ops (issue 17): fit, row --diff and ladder --diff, first,
# verify, gaps; --json for each, TEXT from standard input, usage errors.
cli row "ksa 02" --diff > "$tmp/diff.txt"; rc=$?
check "row --diff: Basic -> Demonstrated marked off a tty" bash -c "[ $rc -eq 0 ] && grep -q '^Level 1 -> 2 (5365/ksa-02 -> 5366/ksa-02)' '$tmp/diff.txt' && grep -qF '[-Basic-] {+Demonstrated+} problem-solving' '$tmp/diff.txt'"
check "row --diff: Demonstrated -> Strong" grep -qF '[-Demonstrated problem-solving-] {+Strong problem-resolution+}' "$tmp/diff.txt"
check "row --diff: no escape codes off a tty" bash -c "! grep -q $'\033' '$tmp/diff.txt'"
on_tty 100 "$bin/specdex -e $ep row 'ksa 02' --diff" > "$tmp/diff-tty.txt"
check "row --diff on a terminal: colour, no markers" bash -c "grep -q $'\033\\[9;31mBasic' '$tmp/diff-tty.txt' && ! grep -qF '[-Basic-]' '$tmp/diff-tty.txt'"
on_tty 100 "NO_COLOR=1 $bin/specdex -e $ep row 'ksa 02' --diff" > "$tmp/diff-nc.txt"
check "row --diff with NO_COLOR: markers" grep -qF '[-Basic-]' "$tmp/diff-nc.txt"
cli --json row "ksa 02" --diff > "$tmp/diff.json"
check "row --diff --json: runs with op and text" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); s = r["steps"][0]
assert (s["from"], s["to"]) == (1, 2)
assert s["runs"][0] == {"op": "del", "text": "Basic"}
assert s["runs"][1] == {"op": "add", "text": "Demonstrated"}' "$tmp/diff.json"
cli ladder "root cause analysis" --diff > "$tmp/ldiff.txt"
check "ladder --diff: the table, then the row's diff" bash -c "grep -q '^Key Resp 06 from level to level' '$tmp/ldiff.txt' && grep -q '^Level 1 -> 2 (5365/key-resp-06 -> 5366/key-resp-06)' '$tmp/ldiff.txt'"
cli --json fit "Troubleshoots and documents moderately-complex issues with clinical software" > "$tmp/fit.json"; rc=$?
check "fit --json: levels ranked with support" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); l = r["levels"]
assert r["series"] == "Clinical Applications Professional 1-5 HX"
assert l[0]["share"] == 1.0 and all(a["score"] >= b["score"] for a, b in zip(l, l[1:]))
assert l[0]["support"] and l[0]["support"][0]["id"].endswith("/key-resp-06")' "$tmp/fit.json"
echo "Leads the enterprise strategy for clinical applications" | cli fit - > "$tmp/fit.txt"; rc=$?
check "fit - reads standard input" bash -c "[ $rc -eq 0 ] && grep -q '^1\. Level ' '$tmp/fit.txt'"
head -c 9000 /dev/zero | tr '\0' 'a' > "$tmp/big.txt"
cli fit - < "$tmp/big.txt" 2> "$tmp/fit-big.err"; rc=$?
check "fit: standard input over 8 KiB is refused" bash -c "[ $rc -ne 0 ] && grep -q 'over the 8192 bytes' '$tmp/fit-big.err'"
cli fit "$(cat "$tmp/big.txt")" 2> "$tmp/fit-big2.err"; rc=$?
check "fit: TEXT over 8 KiB is a usage error" bash -c "[ $rc -eq 2 ] && grep -q 'over the 8192 bytes' '$tmp/fit-big2.err'"
cli --json first '"root cause analysis"' > "$tmp/first.json"; rc=$?
check "first --json: Key Resp 06 first at level 1, with 1 and 2" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); row = r["rows"][0]
assert row["row"] == "Key Resp 06" and row["first"] == 1
assert row["with"] == [1, 2] and row["without"] == [3, 4, 5]
assert row["every_level_above"] is False' "$tmp/first.json"
cli verify "develop options for  effective and timely issue resolution" --clause 5366/ksa-02 > "$tmp/verify.txt"; rc=$?
check "verify: verbatim, exit 0" bash -c "[ $rc -eq 0 ] && grep -q 'the span is there verbatim' '$tmp/verify.txt'"
cli verify "develop options for quick issue resolution" > "$tmp/verify2.txt"; rc=$?
check "verify: not verbatim, exit 1, the closest" bash -c "[ $rc -eq 1 ] && grep -q '^Closest: 5365/ksa-02 .*: 2 word edits of 6' '$tmp/verify2.txt'"
cli --json verify "Basic problem-solving" > "$tmp/verify.json"
check "verify --json: id and offsets" $py -c 'import json,sys
r = json.load(open(sys.argv[1])); m = r["matches"][0]
assert r["verbatim"] and m["id"] == "5365/ksa-02" and (m["start"], m["end"]) == (0, 21)' "$tmp/verify.json"
echo "Troubleshoots and documents moderately-complex issues with clinical software." | cli --json gaps - --level 2 --series "Clinical Applications Professional 1-5 HX" > "$tmp/gaps.json"; rc=$?
check "gaps --json: Key Resp 06 covered, the others gaps" $py -c 'import json,sys
r = json.load(open(sys.argv[1]))
assert "Key Resp 06" in [g["row"] for g in r["covered"]]
assert "Key Resp 06" not in [g["row"] for g in r["gaps"]] and r["gaps"]' "$tmp/gaps.json"
cli gaps "a draft" --level 2 2> "$tmp/gaps.err"; rc=$?
check "gaps without --series is a usage error" bash -c "[ $rc -eq 2 ] && grep -q 'series NAME are needed' '$tmp/gaps.err'"
cli gaps "a draft" --level 2-3 --series x 2> "$tmp/gaps2.err"; rc=$?
check "gaps with two levels is a usage error" bash -c "[ $rc -eq 2 ] && grep -q 'one level' '$tmp/gaps2.err'"

# A daemon that is not running: one line, exit 3, after its two attempts.
# Two attempts of 1000 ms each; timeout(1) only catches a hang (124).
timeout 60 "$bin/specdex" -e "ipc://$tmp/nobody.sock" search x > /dev/null 2> "$tmp/down.txt"; rc=$?
check "unavailable daemon exits 3, not hanging ($rc)" [ "$rc" -eq 3 ]
check "unavailable daemon reported in one line" [ "$(wc -l < "$tmp/down.txt")" -eq 1 ]

# The daemon stops cleanly (under the sanitizer build: without leaks).
kill -TERM "$daemon_pid"; wait "$daemon_pid"; rc=$?; daemon_pid=
check "daemon exits 0 on SIGTERM" [ "$rc" -eq 0 ]

finish
