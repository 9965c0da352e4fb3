#!/usr/bin/env bash
# test_update: specdex-index --update, --remove and --dump-index as an
# operator uses them, on the library corpus (tests/data/library), with a
# daemon serving the index.
#
# The series are listed; an update is served by the running daemon with
# no restart; the updated index dumps as a full build of the same corpus
# does; every bad input (a file that fails to parse, an unknown series,
# the last series, wrong usage) is refused with a message and leaves the
# served index as it was.  tests/unit/test_update.c compares the answers
# of the two indexes request by request.
set -u
bin=${1:?usage: test_update.sh BIN_DIR CORPUS_DIR DATA_DIR}
corpus=${2:?usage: test_update.sh BIN_DIR CORPUS_DIR DATA_DIR}
data=${3:?usage: test_update.sh BIN_DIR CORPUS_DIR DATA_DIR}
idx="$bin/specdex-index"

. "$(dirname "$0")/lib.sh"

# The library corpus: the family standards and the seed, one directory.
mkdir "$tmp/corpus"
cp "$data"/family/*.txt "$corpus"/*.txt "$tmp/corpus/"
serve "$bin" "$tmp/corpus"
# a generous wait per attempt: two loaded cores, ASan builds beside
cli() { "$bin/specdex" -e "$ep" --timeout 10000 "$@"; }
current() { readlink "$tmp/index/current"; }

cli series > "$tmp/series.txt"; rc=$?
n=$(grep -c '^    level' "$tmp/series.txt")
check "series: every standard of the corpus ($n)" bash -c "[ $rc -eq 0 ] && [ $n -eq $(ls "$tmp/corpus" | grep -vcx synonyms.txt) ]"
check "series: a one-level series" grep -qx '    level 1, 17 clauses, job code 2740510' "$tmp/series.txt"
check "series: a five-level series with its codes" grep -q '^    levels 1-5, 68 clauses, job codes 3641, 3642, 3643, 3644, 3645$' "$tmp/series.txt"

# A revised standard: replaced in a new revision, served at once.
"$idx" -o "$tmp/index" --update "$data/library/payroll-systems-analyst.txt" > "$tmp/up.txt" 2> "$tmp/up.err"; rc=$?
check "--update: exit 0 and what it replaced" bash -c "[ $rc -eq 0 ] && grep -q '^updated series payroll-systems-analyst-1-5 in .*: 68 clauses replaced (revision 2): 63 clauses added, 68 removed, 804 in the index' '$tmp/up.txt'"
check "--update: the new revision is current" [ "$(current)" = rev-000002 ]
served=
for _ in $(seq 300); do # each worker looks at DIR/current itself
  served=$(cli --json stats | /usr/bin/python3 -c 'import json,sys; print(" ".join(map(str, sorted(set(json.load(sys.stdin)["revisions"])))))')
  [ "$served" = 2 ] && break
  sleep 0.1
done
check "every worker serves the update without a restart (revisions: $served)" [ "$served" = 2 ]
check "the revised text is found, in its series" cli --json search timekeeping -S 3642
check "the dropped row is gone" bash -c "\"$bin/specdex\" -e '$ep' --timeout 10000 row 'ksa 02' -S 3641 > /dev/null; [ \$? -eq 1 ]"

# The updated index dumps as a full build of the same corpus does.
mkdir "$tmp/corpus2"
cp "$tmp/corpus"/*.txt "$tmp/corpus2/"
cp "$data/library/payroll-systems-analyst.txt" "$tmp/corpus2/"
"$idx" -o "$tmp/full" "$tmp/corpus2" > /dev/null 2>&1
"$idx" --dump-index "$tmp/index" > "$tmp/updated.jsonl"; rc=$?
"$idx" --dump-index "$tmp/full" > "$tmp/full.jsonl"
check "--dump-index: exit 0, one line per clause" bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$tmp/updated.jsonl') -eq 804 ]"
check "--dump-index: the same as a full build's" cmp -s "$tmp/updated.jsonl" "$tmp/full.jsonl"

# Remove by job code, then put it back: the same again.
"$idx" -o "$tmp/index" --remove 7312 > "$tmp/rm.txt"; rc=$?
check "--remove CODE: its series, by name" bash -c "[ $rc -eq 0 ] && grep -q '^removed series hr-information-systems-analyst-1-2 (24 clauses)' '$tmp/rm.txt'"
"$idx" -o "$tmp/index" --update "$data/family/hr-information-systems-analyst.txt" > "$tmp/add.txt"; rc=$?
check "--update of a series the index lacks: added" bash -c "[ $rc -eq 0 ] && grep -q 'added series hr-information-systems-analyst-1-2 to .* (new to the index)' '$tmp/add.txt'"
"$idx" --dump-index "$tmp/index" > "$tmp/readded.jsonl"
check "remove, re-add: the same as a full build's" cmp -s "$tmp/readded.jsonl" "$tmp/full.jsonl"

# Bad input: refused, said, and nothing changed.
before=$(current)
"$idx" -o "$tmp/index" --update "$data/library/broken/payroll-systems-analyst.txt" > /dev/null 2> "$tmp/bad.err"; rc=$?
check "--update of a file that fails to parse: exit 1, the row named" bash -c "[ $rc -eq 1 ] && grep -q 'payroll-systems-analyst.txt:23: row \"Key Duties 01\": unknown row label' '$tmp/bad.err' && grep -q 'nothing indexed' '$tmp/bad.err'"
check "... and the served index is as it was" [ "$(current)" = "$before" ]
"$idx" --dump-index "$tmp/index" > "$tmp/after-bad.jsonl"
check "... clause for clause" cmp -s "$tmp/after-bad.jsonl" "$tmp/full.jsonl"
"$idx" -o "$tmp/index" --update "$tmp/no-such.txt" > /dev/null 2> "$tmp/missing.err"; rc=$?
check "--update of a missing file: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q 'no-such.txt' '$tmp/missing.err'"
"$idx" -o "$tmp/index" --remove "Nursing Aide 1-3" > /dev/null 2> "$tmp/unknown.err"; rc=$?
check "--remove of an unknown series: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -qx 'specdex-index: --remove: no series \"Nursing Aide 1-3\" in the index at $tmp/index (specdex series lists them)' '$tmp/unknown.err'"
check "... and nothing changed" [ "$(current)" = "$before" ]
"$idx" -o "$tmp/none" --update "$data/library/payroll-systems-analyst.txt" > /dev/null 2> "$tmp/none.err"; rc=$?
check "--update with no index yet: exit 1, says to build one" bash -c "[ $rc -eq 1 ] && grep -q 'no index at $tmp/none to update (build one with specdex-index -o' '$tmp/none.err'"

# The last series: refused (an index is never empty, as a build of no
# standards is refused).
"$idx" -o "$tmp/one" "$corpus" > /dev/null 2>&1
one=$(readlink "$tmp/one/current")
"$idx" -o "$tmp/one" --remove "clinical applications professional 1-5 hx" > /dev/null 2> "$tmp/last.err"; rc=$?
check "--remove of the last series: refused" bash -c "[ $rc -eq 1 ] && grep -q 'is the last one in the index: an index cannot be empty' '$tmp/last.err'"
check "... and nothing changed" [ "$(readlink "$tmp/one/current")" = "$one" ]

# Usage: the modes do not mix.
usage() { # usage NAME MESSAGE ARGS...: exit 2 with MESSAGE
  local name=$1 msg=$2; shift 2
  "$idx" "$@" > /dev/null 2> "$tmp/usage.err"; local rc=$?
  check "usage: $name" bash -c "[ $rc -eq 2 ] && grep -qF -- '$msg' '$tmp/usage.err'"
}
usage "--update without -o" "--update and --remove go with -o DIR" --update x.txt
usage "--update with a PATH" "take no PATH" -o "$tmp/index" --update x.txt "$tmp/corpus"
usage "--update and --remove" "give one of --update FILE or --remove SERIES" -o "$tmp/index" --update x.txt --remove y
usage "--update with --synonyms" "--synonyms goes with a full build" -o "$tmp/index" -s x --update x.txt
usage "--dump-index with -o" "--dump-index goes alone" -o "$tmp/index" --dump-index "$tmp/index"
usage "--remove without a series" "--remove needs a series" -o "$tmp/index" --remove
"$idx" --dump-index "$tmp/nowhere" > /dev/null 2> "$tmp/noidx.err"; rc=$?
check "--dump-index of no index: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q 'no index at $tmp/nowhere' '$tmp/noidx.err'"

# specdex-reindex (what specdex-index.service runs): --update when one
# standard changed or was added, a full build otherwise.
reindex() { # reindex: run it on $tmp/lib, its output in $tmp/re.txt
  SPECDEX_INDEX=$tmp/lib-index SPECDEX_CORPUS=$tmp/lib \
    SPECDEX_INDEXER=$idx "$(dirname "$0")/../../systemd/specdex-reindex" \
    > "$tmp/re.txt" 2>&1
}
mkdir "$tmp/lib"
cp "$tmp/corpus"/* "$tmp/lib/"
reindex; rc=$?
check "reindex, first run: a full build" bash -c "[ $rc -eq 0 ] && grep -q 'no earlier run: full build' '$tmp/re.txt' && grep -q '^indexed 809 clauses' '$tmp/re.txt'"
reindex; rc=$?
check "reindex, nothing changed: the index kept" bash -c "[ $rc -eq 0 ] && grep -q 'the corpus is unchanged' '$tmp/re.txt'"
cp "$data/library/payroll-systems-analyst.txt" "$tmp/lib/"
reindex; rc=$?
check "reindex, one standard changed: --update" bash -c "[ $rc -eq 0 ] && grep -q 'only payroll-systems-analyst.txt changed: --update' '$tmp/re.txt' && grep -q '^updated series payroll-systems-analyst-1-5' '$tmp/re.txt'"
cp "$data/library/radiology-scheduling-coordinator.txt" "$tmp/lib/"
reindex; rc=$?
check "reindex, one standard added: --update" bash -c "[ $rc -eq 0 ] && grep -q '^added series radiology-scheduling-coordinator-1-2' '$tmp/re.txt'"
mkdir "$tmp/full-lib-corpus"
cp "$tmp/lib"/* "$tmp/full-lib-corpus/"
"$idx" -o "$tmp/full-lib" "$tmp/full-lib-corpus" > /dev/null 2>&1
"$idx" --dump-index "$tmp/lib-index" > "$tmp/lib.jsonl"
"$idx" --dump-index "$tmp/full-lib" > "$tmp/full-lib.jsonl"
check "reindex by updates: the same as a full build's" cmp -s "$tmp/lib.jsonl" "$tmp/full-lib.jsonl"
sed -i 's/Radiology Scheduling Coordinator/Imaging Scheduling Coordinator/g' "$tmp/lib/radiology-scheduling-coordinator.txt"
reindex; rc=$?
check "reindex, a series renamed in its file (its ids taken): a full build, not two series" bash -c "[ $rc -eq 0 ] && grep -q 'the update was refused: full build' '$tmp/re.txt' && \"$bin/specdex-index\" --dump-index '$tmp/lib-index' > '$tmp/renamed.jsonl' && ! grep -q '\"Radiology Scheduling' '$tmp/renamed.jsonl' && grep -q '\"Imaging Scheduling' '$tmp/renamed.jsonl'"
sed -i 's/Imaging Scheduling Coordinator/Scan Scheduling Coordinator/g; s/90411/90511/; s/90412/90512/; s/9041190412/9051190512/' "$tmp/lib/radiology-scheduling-coordinator.txt"
reindex; rc=$?
check "reindex, a series renamed with new codes: the update, then a full build" bash -c "[ $rc -eq 0 ] && grep -q 'added series scan-scheduling-coordinator-1-2' '$tmp/re.txt' && grep -q '(renamed?): full build' '$tmp/re.txt' && \"$bin/specdex-index\" --dump-index '$tmp/lib-index' > '$tmp/renamed.jsonl' && ! grep -q '\"Imaging Scheduling' '$tmp/renamed.jsonl'"
cp "$data/library/broken/payroll-systems-analyst.txt" "$tmp/lib/"
before=$(readlink "$tmp/lib-index/current")
reindex; rc=$?
check "reindex, a broken standard: fails, the index kept" bash -c "[ $rc -eq 1 ] && grep -q 'Key Duties 01' '$tmp/re.txt' && [ \"\$(readlink '$tmp/lib-index/current')\" = '$before' ]"
cp "$data/library/payroll-systems-analyst.txt" "$tmp/lib/"
rm "$tmp/lib/hr-information-systems-analyst.txt"
reindex; rc=$?
check "reindex, a file removed and one changed: a full build" bash -c "[ $rc -eq 0 ] && grep -q 'full build' '$tmp/re.txt' && grep -q '^indexed ' '$tmp/re.txt'"

finish
