#!/usr/bin/env bash
# test_ship: a rebuild on the primary reaches a replica and is served
# there (specdex-ship: rsync, then specdex-index --adopt).
#
# The primary index and a replica's are two directories; specdexd serves
# the replica's.  The seed corpus is shipped (revision 1 in the
# replica's stats), then a changed corpus is built on the primary and
# shipped: the replica's stats show revision 2 and a word only the new
# build has is found there.  A copy cut short, a revision older than
# the served one and a copy outside the index directory are refused by
# --adopt, and the replica keeps serving revision 2 throughout.
set -u
bin=${1:?usage: test_ship.sh BIN_DIR CORPUS_DIR}
corpus=${2:?usage: test_ship.sh BIN_DIR CORPUS_DIR}
py=/usr/bin/python3

. "$(dirname "$0")/lib.sh"

export SPECDEX_INDEX="$bin/specdex-index"
primary=$tmp/primary replica=$tmp/replica
ep="ipc://$tmp/replica.sock"
cli() { "$bin/specdex" -e "$ep" "$@"; }
found() { cli search "$1" > /dev/null 2>&1; }
revision() { # the revision every handle of the replica's daemon serves
  # (stats' `revisions`: the workers' and the broker's, 0 for one not
  # opened yet), or 0 while they differ: `index.revision` alone is the
  # answering handle's, and a worker may still be on the old one
  cli --json stats 2> /dev/null | $py -c 'import json,sys
s = json.load(sys.stdin)
seen = {r for r in s.get("revisions", []) if r}
seen.add((s.get("index") or {}).get("revision", 0))
print(seen.pop() if len(seen) == 1 else 0)'
}
wait_revision() { # wait_revision N: until the replica serves N (10 s)
  for _ in $(seq 100); do
    [ "$(revision)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

"$bin/specdex-index" -o "$primary" "$corpus" > "$tmp/build1.log" 2>&1
check "the primary builds revision 1" [ "$(readlink "$primary/current")" = rev-000001 ]
cp -r "$primary/rev-000001" "$tmp/rev1"
"$bin/specdex-ship" "$primary" "$replica" > "$tmp/ship1.log" 2>&1; rc=$?
check "the first ship exits 0" [ "$rc" -eq 0 ]
check "the replica's current is revision 1" [ "$(readlink "$replica/current")" = rev-000001 ]
check "no .ship- copy is left behind" bash -c "! ls -a '$replica' | grep -q '^\.ship-'"

"$bin/specdexd" --index "$replica" --endpoint "$ep" --threads 1 2> "$tmp/daemon.log" &
daemon_pid=$!
check "the replica serves revision 1" wait_revision 1

# A rebuild with a word the first build has not.
mkdir "$tmp/corpus2"
cp -r "$corpus"/. "$tmp/corpus2/"
f=$(ls "$tmp/corpus2"/*.txt | head -1)
sed -i '0,/root cause analysis/s//root cause analysis zanzibarquux/' "$f"
check "the changed corpus has the new word" grep -q zanzibarquux "$f"
check "the new word is not served yet" bash -c "! '$bin/specdex' -e '$ep' search zanzibarquux > /dev/null 2>&1"
"$bin/specdex-index" -o "$primary" "$tmp/corpus2" > "$tmp/build2.log" 2>&1
check "the primary builds revision 2" [ "$(readlink "$primary/current")" = rev-000002 ]
"$bin/specdex-ship" "$primary" "$replica" > "$tmp/ship2.log" 2>&1; rc=$?
check "the second ship exits 0" [ "$rc" -eq 0 ]
check "the replica's stats show revision 2" wait_revision 2
check "the new word is served by the replica" found zanzibarquux
"$bin/specdex-ship" "$primary" "$replica" > "$tmp/ship3.log" 2>&1; rc=$?
check "shipping the same revision again is a no-op" bash -c "[ $rc -eq 0 ] && [ \"\$(readlink '$replica/current')\" = rev-000002 ]"

# A copy cut short: a later revision whose largest file lost its end.
"$bin/specdex-index" -o "$primary" "$corpus" > "$tmp/build3.log" 2>&1
cp -r "$primary/rev-000003" "$replica/.ship-cut"
big=$(ls -S "$replica/.ship-cut"/*.glass | head -1)
size=$(stat -c %s "$big")
truncate -s $((size / 2)) "$big"
"$bin/specdex-index" -o "$replica" --adopt "$replica/.ship-cut" > /dev/null 2> "$tmp/cut.err"; rc=$?
check "a copy cut short is refused (exit 1)" [ "$rc" -eq 1 ]
check "... saying it is not a whole index" grep -q "not a whole index" "$tmp/cut.err"
check "... and the replica still serves revision 2" [ "$(readlink "$replica/current")" = rev-000002 ]
check "... stats say so" wait_revision 2
check "... and it answers searches" found zanzibarquux

# A revision older than the one served (revision 1, kept aside).
cp -r "$tmp/rev1" "$replica/.ship-old"
"$bin/specdex-index" -o "$replica" --adopt "$replica/.ship-old" > /dev/null 2> "$tmp/old.err"; rc=$?
check "an older revision is refused (exit 1)" [ "$rc" -eq 1 ]
check "... saying a replica does not go back" grep -q "does not go back" "$tmp/old.err"
check "... and revision 2 stays current" [ "$(readlink "$replica/current")" = rev-000002 ]

# From outside the index directory: no atomic rename possible.
"$bin/specdex-index" -o "$replica" --adopt "$primary/rev-000003" > /dev/null 2> "$tmp/outside.err"; rc=$?
check "a copy outside DIR is refused (exit 1)" [ "$rc" -eq 1 ]
check "... saying where it must be" grep -q "DIR/.ship-NAME" "$tmp/outside.err"
"$bin/specdex-index" -o "$replica" --adopt "$replica/.ship-x" "$corpus" > /dev/null 2> "$tmp/usage.err"; rc=$?
check "--adopt with a PATH is a usage error (exit 2)" [ "$rc" -eq 2 ]
"$bin/specdex-ship" "$tmp/nothing" "$replica" > /dev/null 2> "$tmp/none.err"; rc=$?
check "shipping from a directory with no index fails (exit 1)" bash -c "[ $rc -eq 1 ] && grep -q 'no index' '$tmp/none.err'"
check "specdex-ship --help names --adopt" bash -c "'$bin/specdex-ship' --help | grep -q -- --adopt"

finish
