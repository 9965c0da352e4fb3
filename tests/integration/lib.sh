# lib.sh: what the shell integration tests share (sourced, not run).
#
# A temp dir removed on exit (with the daemon, if one was started), a
# TAP-like check() that counts, finish() that prints the plain
# "N passed, N failed" line ctest's log readers know and sets the status,
# and serve() that indexes a corpus and starts specdexd on it.

tmp=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
check() { # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $name"
  else failed=$((failed + 1)); echo "not ok - $name"; fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

serve() { # serve BIN_DIR CORPUS: index CORPUS, start specdexd on $ep
  local bin=$1 corpus=$2
  ep="ipc://$tmp/specdex.sock"
  "$bin/specdex-index" -o "$tmp/index" "$corpus" > "$tmp/index.log" 2>&1 \
    || { cat "$tmp/index.log"; echo "0 passed, 1 failed: indexer"; exit 1; }
  "$bin/specdexd" --index "$tmp/index" --endpoint "$ep" --threads 2 \
    2> "$tmp/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 50); do
    "$bin/specdex" -e "$ep" --timeout 200 ping > /dev/null 2>&1 && break
    sleep 0.1
  done
}
