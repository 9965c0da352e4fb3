#!/usr/bin/env bash
# test_curve: CURVE encryption and authentication, end to end.
#
# A daemon started with --curve-secret and --allow-keys answers a client
# whose public key is in the allow directory; an unknown key, a plaintext
# client and a client that trusts the wrong server key get nothing (the
# CLI reports the daemon unavailable) and the daemon logs each refusal,
# while the allowed client keeps getting answers throughout.  Without
# CURVE, a non-loopback bind is refused unless --insecure-bind is given.
set -u
bin=${1:?usage: test_curve.sh BIN_DIR CORPUS_DIR CLIENT_PY_DIR}
corpus=${2:?}
pydir=${3:?}
py=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

mkdir "$tmp/allow" "$tmp/keys"
for k in server alice mallory other-server; do
  "$bin/specdex" keygen "$tmp/keys/$k" > /dev/null || exit 1
done
cp "$tmp/keys/alice.key" "$tmp/allow/"
check "keygen: secret file is private" \
  [ "$(stat -c %a "$tmp/keys/alice.key_secret")" = 600 ]

"$bin/specdex-index" -o "$tmp/index" "$corpus" > /dev/null || exit 1
ep="ipc://$tmp/sdx.sock"
"$bin/specdexd" --index "$tmp/index" --endpoint "$ep" --threads 1 \
  --curve-secret "$tmp/keys/server.key_secret" --allow-keys "$tmp/allow" \
  2> "$tmp/daemon.log" &
daemon_pid=$!

as() { # as CLIENT [--server SERVERKEY] CLI-ARGS...: the CLI with CLIENT's keys
  local who=$1; shift
  local server=$tmp/keys/server.key
  if [ "$1" = --server ]; then server=$2; shift 2; fi
  "$bin/specdex" -e "$ep" --timeout 300 --server-key "$server" \
    --client-key "$tmp/keys/$who.key_secret" "$@"
}
for _ in $(seq 50); do as alice ping > /dev/null 2>&1 && break; sleep 0.1; done

as alice search "root cause analysis" --limit 1 > "$tmp/alice.txt"; rc=$?
check "allowed key gets answers" bash -c "[ $rc -eq 0 ] && grep -q 'Key Resp 06' '$tmp/alice.txt'"

as mallory ping > /dev/null 2>&1; rc=$?
check "unknown key gets nothing (exit 3)" [ "$rc" -eq 3 ]
as alice ping > /dev/null 2>&1; rc=$?
check "allowed key still answered after a refusal" [ "$rc" -eq 0 ]

"$bin/specdex" -e "$ep" --timeout 300 ping > /dev/null 2>&1; rc=$?
check "plaintext client gets nothing (exit 3)" [ "$rc" -eq 3 ]

as alice --server "$tmp/keys/other-server.key" ping > /dev/null 2>&1; rc=$?
check "client trusting the wrong server key gets nothing (exit 3)" [ "$rc" -eq 3 ]

as alice stats --json > "$tmp/stats.json"; rc=$?
check "allowed key still served at the end" [ "$rc" -eq 0 ]

check "daemon logged the unknown key" grep -q "CURVE: refused unknown client" "$tmp/daemon.log"
check "daemon logged the plaintext client" grep -q "CURVE: refused a client.*handshake failed" "$tmp/daemon.log"

# The Python client with CURVE.
PYTHONPATH=$pydir $py - "$ep" "$tmp/keys" <<'PY' > "$tmp/py.txt" 2>&1
import sys, specdex
ep, keys = sys.argv[1], sys.argv[2]
with specdex.Client(ep, timeout=0.5, server_key=f"{keys}/server.key",
                    client_key=f"{keys}/alice.key_secret") as c:
    print("alice", c.search("root cause analysis", limit=1)["hits"][0]["id"])
with specdex.Client(ep, timeout=0.3, attempts=1,
                    server_key=f"{keys}/server.key",
                    client_key=f"{keys}/mallory.key_secret") as c:
    try:
        c.ping()
        print("mallory answered")
    except specdex.Unavailable:
        print("mallory refused")
PY
check "Python client with an allowed key" grep -q "alice 5365/key-resp-06" "$tmp/py.txt"
check "Python client with an unknown key refused" grep -q "mallory refused" "$tmp/py.txt"

# Without CURVE, an address other machines could reach is refused.
"$bin/specdexd" --index "$tmp/index" --endpoint tcp://0.0.0.0:0 \
  > /dev/null 2> "$tmp/bind.log" & bind_pid=$!
sleep 0.5
if kill -0 $bind_pid 2>/dev/null; then kill $bind_pid; wait $bind_pid; rc=0
else wait $bind_pid; rc=$?; fi
check "non-loopback bind without CURVE refused" bash -c "[ $rc -ne 0 ] && grep -qi 'curve\|insecure' '$tmp/bind.log'"

finish
