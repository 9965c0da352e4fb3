#!/usr/bin/env bash
# test_index_check: specdex-index as a person adding standards uses it.
#
# --check on the shipped corpus and on the family standards (tables,
# cut kinds, notes, JSON, exit status); a corpus holding two bad files
# (one ambiguous, one broken): both reported in one run, in name order,
# nothing indexed and the index being served left as it was; the same
# file settled with '|' then builds.
set -u
bin=${1:?usage: test_index_check.sh BIN_DIR CORPUS_DIR DATA_DIR}
corpus=${2:?usage: test_index_check.sh BIN_DIR CORPUS_DIR DATA_DIR}
data=${3:?usage: test_index_check.sh BIN_DIR CORPUS_DIR DATA_DIR}
py=/usr/bin/python3
idx="$bin/specdex-index"

. "$(dirname "$0")/lib.sh"

# The seed: every cell shown, its one choice marked and explained.
COLUMNS=100 "$idx" --check "$corpus" > "$tmp/seed.txt"; rc=$?
check "--check on the seed exits 0" [ "$rc" -eq 0 ]
check "--check says ok and 105 clauses" \
  grep -q "clinical-applications-professional-hx.txt: text, \"Clinical Applications Professional 1-5 HX\", levels 1-5, 105 clauses: ok" "$tmp/seed.txt"
check "--check marks the seed's one choice" grep -q "chosen?" "$tmp/seed.txt"
check "--check explains it" \
  grep -q 'choice: .*row "Key Resp 02": cut at "...gate complex situations.|Leads' "$tmp/seed.txt"
check "--check wraps the table to COLUMNS" $py -c 'import sys
rows = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")
        if l.startswith("  ") and not l.startswith(("  choice:", "  note:"))]
assert len(rows) > 200 and max(len(l) for l in rows) <= 100' "$tmp/seed.txt"

# JSON: one object per file, the cut of every clause.
"$idx" --check --json "$data/family/patient-access-lead-hx.html" \
  "$data/family/hr-information-systems-analyst.txt" > "$tmp/check.json"
check "--check --json: one object per file, cuts given" $py -c 'import json,sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 2 and all(o["ok"] for o in objs), objs
assert objs[0]["format"] == "html" and objs[1]["format"] == "text"
assert {c["cut"] for c in objs[0]["clauses"][1:]} == {"exact"}
assert objs[1]["clauses"][0]["row"] == "Job Summary"
assert all("cut" in c and c["text"] for o in objs for c in o["clauses"])' "$tmp/check.json"

# Rows empty at every level are said so.
"$idx" --check "$data/family/health-information-management-coordinator-hx.txt" > "$tmp/empty.txt"
check "--check notes a row empty at every level" \
  grep -q 'note: .*row "Custom Scope": empty at every level: no clauses' "$tmp/empty.txt"

# A corpus with two bad files: both reported, nothing indexed.
mkdir -p "$tmp/lib"
cp "$corpus/clinical-applications-professional-hx.txt" "$tmp/lib/"
"$idx" -o "$tmp/index" "$tmp/lib" > /dev/null 2>&1
before=$(readlink "$tmp/index/current")
cp "$data/family/ambiguous/interface-analyst.txt" "$tmp/lib/a-interface.txt"
cp "$data/broken/unknown-label.txt" "$tmp/lib/b-unknown.txt"
"$idx" -o "$tmp/index" "$tmp/lib" > "$tmp/build.out" 2> "$tmp/build.err"; rc=$?
check "a corpus with bad files: exit 1" [ "$rc" -eq 1 ]
check "the ambiguous file is reported, with both cuts" \
  grep -q 'a-interface.txt:17: row "Key Resp 02": ambiguous between ".*" (column [0-9]*) and ".*" (column [0-9]*)' "$tmp/build.err"
check "the broken file is reported in the same run, after it" $py -c 'import sys
e = open(sys.argv[1]).read()
assert e.index("a-interface.txt") < e.index("b-unknown.txt:"), e' "$tmp/build.err"
check "it says nothing was indexed" grep -q "2 of 3 files refused; nothing indexed" "$tmp/build.err"
check "the index served is the one before" [ "$(readlink "$tmp/index/current")" = "$before" ]
"$idx" --check "$tmp/lib" > "$tmp/lib.txt"; rc=$?
check "--check on it exits 1 and marks the cut" bash -c "[ $rc -eq 1 ] && grep -q 'AMBIGUOUS!' '$tmp/lib.txt' && grep -q 'REFUSED' '$tmp/lib.txt'"

# A row whose cells cannot be found is still shown, whole, and marked.
printf 'S 1-3\nJob Summary\nSum.\nJob TitleS 1S 2S 3\nJob Code111122223333\nKey Resp 01Aa aa.Bb bb.\n' > "$tmp/few.txt"
"$idx" --check "$tmp/few.txt" > "$tmp/few.out"; rc=$?
check "--check shows an uncut row whole, marked NOT CUT!" \
  bash -c "[ $rc -eq 1 ] && grep -q 'Key Resp 01  *1 NOT CUT!   Aa aa. Bb bb.' '$tmp/few.out' && grep -q 'error: .*found 2 cells, expected 3' '$tmp/few.out'"

# Settled with '|': it builds, and the cut shows as written.
rm "$tmp/lib/b-unknown.txt"
cp "$data/family/ambiguous/interface-analyst-settled.txt" "$tmp/lib/a-interface.txt"
"$idx" -o "$tmp/index" "$tmp/lib" > "$tmp/build2.out" 2>&1; rc=$?
check "settled with '|', the corpus builds" [ "$rc" -eq 0 ]
check "the index moved on" [ "$(readlink "$tmp/index/current")" != "$before" ]
"$idx" --check "$tmp/lib/a-interface.txt" > "$tmp/settled.txt"
check "the written cut shows as marker" grep -q " marker " "$tmp/settled.txt"

# Usage errors.
"$idx" --json "$corpus" > /dev/null 2>&1; rc=$?
check "--json without --check: usage error" [ "$rc" -eq 2 ]
"$idx" --check --dump "$corpus" > /dev/null 2>&1; rc=$?
check "--check with --dump: usage error" [ "$rc" -eq 2 ]

finish
