#!/bin/sh
# test_mcp: specdex-mcp through the reference MCP client (the TypeScript
# SDK, from npm) on a real daemon.  The SDK is installed by `npm ci`
# from tests/mcp/package-lock.json into BUILD/tests/mcp (once; again
# when the lock file changes), with Debian's nodejs and npm.  When the
# npm registry cannot be reached (no network, or a TLS interceptor whose
# CA this machine does not hold: SELF_SIGNED_CERT_IN_CHAIN), the test is
# skipped (exit 77, ctest's SKIP_RETURN_CODE) with the reason, and only
# then: any other failure of npm fails the test.  npm honours
# NODE_EXTRA_CA_CERTS when it is set.
# usage: test_mcp.sh BIN_DIR CORPUS_DIR SRC_TESTS_DIR BUILD_TESTS_DIR
set -eu
BIN=$1 CORPUS=$2 SRC=$3 OUT=$4
MCP=$OUT/mcp
mkdir -p "$MCP"
if ! cmp -s "$SRC/mcp/package-lock.json" "$MCP/package-lock.json" ||
   [ ! -d "$MCP/node_modules/@modelcontextprotocol/sdk" ]; then
  cp "$SRC/mcp/package.json" "$SRC/mcp/package-lock.json" "$MCP/"
  rm -f "$MCP/npm.log"
  if ! (cd "$MCP" && npm ci --no-audit --no-fund --loglevel=error \
          >"$MCP/npm.log" 2>&1); then
    if grep -Eq 'SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network request' "$MCP/npm.log"; then
      reason=$(grep -Eo 'SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT[A-Z_]*|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network request[^"]*' "$MCP/npm.log" | head -1)
      echo "SKIP: test_mcp: the npm registry cannot be reached ($reason), so the MCP SDK cannot be installed; npm said:"
      sed 's/^/  /' "$MCP/npm.log" | head -20
      rm -f "$MCP/package-lock.json" # try again next time
      exit 77
    fi
    echo "test_mcp: npm ci failed:" >&2
    cat "$MCP/npm.log" >&2
    rm -f "$MCP/package-lock.json"
    exit 1
  fi
fi

. "$SRC/integration/lib.sh"
serve "$BIN" "$CORPUS"
# The script runs from the install, so that its imports find node_modules.
cp "$SRC/integration/test_mcp.mjs" "$MCP/"
node "$MCP/test_mcp.mjs" "$BIN" "$ep"
