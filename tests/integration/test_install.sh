#!/usr/bin/env bash
# test_install: `cmake --install` lays out a working specdex.
#
# Installs the build into a DESTDIR with prefix /usr, checks the layout,
# verifies the systemd units offline (systemd-analyze verify, and the
# sandbox's exposure score from systemd-analyze security, at most 1.0,
# the daemon's with its TCP drop-in too),
# then uses only installed files: indexes the installed corpus, starts the
# installed daemon, and queries it from a C program compiled against the
# installed library through its pkg-config file; the installed shell
# completions complete commands, options and sections (bash, and zsh
# when it is installed); the installed specdex-http serves its page and
# the daemon's search.
set -u
build=${1:?usage: test_install.sh BUILD_DIR [UNIT_DIR]}
# Where the units are installed, as an absolute path (the prefix /usr).
unitdir=${2:-/usr/lib/systemd/system}
unitdir=${unitdir#/}
. "$(dirname "$0")/lib.sh"
root=$tmp/root

DESTDIR=$root cmake --install "$build" --prefix /usr > "$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log"; echo "0 passed, 1 failed"; exit 1; }
libdir=$(cd "$root/usr" && dirname "$(find . -name 'libspecdex-client.so' | head -1)")
libdir=${libdir#./}

for f in usr/bin/specdex usr/bin/specdex-index usr/bin/specdex-ship usr/sbin/specdexd \
         usr/bin/specdex-http usr/bin/specdex-mcp \
         usr/share/man/man1/specdex-http.1 usr/share/man/man1/specdex-mcp.1 \
         usr/share/man/man1/specdex-ship.1 \
         "$unitdir/specdex-http.service" \
         "usr/$libdir/libspecdex-client.so" \
         "usr/$libdir/pkgconfig/specdex-client.pc" \
         usr/include/specdex/sdx_client.h usr/include/specdex/sdx_clause.h \
         usr/share/man/man1/specdex.1 usr/share/man/man1/specdex-index.1 \
         usr/share/man/man8/specdexd.8 \
         usr/share/bash-completion/completions/specdex \
         usr/share/zsh/vendor-completions/_specdex \
         usr/share/specdex/corpus/clinical-applications-professional-hx.txt \
         "$unitdir/specdexd.service" \
         "$unitdir/specdex-index.service" \
         "$unitdir/specdex-index.path" \
         usr/lib/sysusers.d/specdex.conf \
         usr/share/specdex/examples/specdexd.conf; do
  check "installed: $f" [ -e "$root/$f" ]
done

# The units, offline.  verify checks that ExecStart= programs exist, so
# it reads copies whose /usr points into the install root.
units=$root/$unitdir
mkdir "$tmp/units"
for u in specdexd.service specdex-index.service specdex-index.path \
         specdex-http.service; do
  sed "s|=/usr/|=$root/usr/|" "$units/$u" > "$tmp/units/$u"
done
if systemd-analyze verify --man=no "$tmp/units/specdexd.service" \
     "$tmp/units/specdex-index.service" "$tmp/units/specdex-index.path" \
     "$tmp/units/specdex-http.service" \
     > "$tmp/verify.log" 2>&1; then
  verified=yes
else
  verified=no; cat "$tmp/verify.log"
fi
check "systemd-analyze verify: every unit" [ "$verified" = yes ]
# Each unit's exposure, and the daemon's with the TCP drop-in installed
# as the example says: each at most 1.0 (docs/SYSTEMD.md lists what is
# left and why).
exposure() { # exposure UNIT-NAME: the score systemd-analyze gives it
  systemd-analyze security --offline=yes --root="$root" "$1" \
    > "$tmp/security-$1.log" 2>&1
  sed -n "s/.*Overall exposure level for $1: \([0-9.]*\).*/\1/p" \
    "$tmp/security-$1.log"
}
for u in specdexd.service specdex-index.service specdex-http.service; do
  score=$(exposure "$u")
  echo "# $u exposure: ${score:-unknown}"
  check "$u exposure ${score:-?} <= 1.0" \
    awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.0) }'
  check "$u sets LimitNOFILE=" grep -q '^LimitNOFILE=' "$units/$u"
  check "$u sets MemoryMax=" grep -q '^MemoryMax=' "$units/$u"
done
mkdir -p "$root/etc/systemd/system/specdexd.service.d"
cp "$root/usr/share/specdex/examples/specdexd-tcp.conf" \
  "$root/etc/systemd/system/specdexd.service.d/tcp.conf"
score=$(exposure specdexd.service)
echo "# specdexd.service with the TCP drop-in exposure: ${score:-unknown}"
check "specdexd.service with the TCP drop-in exposure ${score:-?} <= 1.0" \
  awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.0) }'
check "the TCP drop-in allows loopback only" \
  grep -q 'IP address allow list with only localhost' \
    "$tmp/security-specdexd.service.log"
rm -r "$root/etc/systemd/system/specdexd.service.d"

# Installed programs only, on the installed corpus.
export LD_LIBRARY_PATH=$root/usr/$libdir
"$root/usr/bin/specdex-index" -o "$tmp/index" "$root/usr/share/specdex/corpus" > /dev/null
ep="ipc://$tmp/sdx.sock"
"$root/usr/sbin/specdexd" --index "$tmp/index" --endpoint "$ep" --threads 1 2> /dev/null &
daemon_pid=$!

# A C program built against the installed library through pkg-config.
cat > "$tmp/top.c" <<'C'
#include <stdio.h>
#include <sdx_client.h>
int main(int argc, char **argv)
{
    const char *eps[] = { argv[1] };
    sdx_client_t *c = NULL;
    sdx_result_t *r = NULL;
    sdx_query_t q = { .q = argv[2], .limit = 1 };
    (void)argc;
    if (sdx_client_new(eps, 1, 500, 10, &c) != SDX_OK)
        return 2;
    sdx_status_t st = sdx_client_search(c, &q, &r);
    if (st == SDX_OK && r->nhits > 0)
        printf("%s\n", r->hits[0].clause->id);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
    return st == SDX_OK ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$root/usr/$libdir/pkgconfig
# A sanitizer build's library needs the sanitizer runtime in the program.
san=
ldd "$root/usr/$libdir/libspecdex-client.so" | grep -q libasan \
  && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046
cc -std=c17 -Wall -Werror $san -o "$tmp/top" "$tmp/top.c" \
   $(pkg-config --cflags --libs specdex-client) 2> "$tmp/cc.log"
check "a C program compiles against the installed library" [ -x "$tmp/top" ] \
  || cat "$tmp/cc.log"
top=$("$tmp/top" "$ep" "root cause analysis" 2>&1)
check "it queries the installed daemon ($top)" [ "$top" = "5365/key-resp-06" ]
# The installed gateway serves the installed daemon, page and API.
"$root/usr/bin/specdex-http" --listen 127.0.0.1:0 --endpoint "$ep" \
  2> "$tmp/http.log" &
http_pid=$!
port=
for _ in $(seq 50); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/http.log")
  [ -n "$port" ] && break
  sleep 0.1
done
top=$(/usr/bin/python3 -c 'import json, sys, urllib.request as u
r = json.load(u.urlopen(sys.argv[1] + "/v1/search?q=root+cause+analysis"))
page = u.urlopen(sys.argv[1] + "/").read().decode()
print(r["hits"][0]["id"], "page" if "specdex" in page else "no-page")' \
  "http://127.0.0.1:$port" 2>&1)
kill "$http_pid"; wait "$http_pid" 2>/dev/null
check "the installed specdex-http answers ($top)" \
  [ "$top" = "5365/key-resp-06 page" ]
# Shell completions, as installed, with the installed specdex on PATH.
export PATH=$root/usr/bin:$PATH
bash_complete() { # bash_complete WORD...: what bash offers for the last
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _specdex; printf "%s\n" "${COMPREPLY[@]}"' _ \
    "$root/usr/share/bash-completion/completions/specdex" "$@" | sort | tr '\n' ' '
}
commands=$(specdex --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | sort | tr '\n' ' ')
got=$(bash_complete specdex "")
check "bash: the commands of --help ($got)" [ "$got" = "$commands" ]
got=$(bash_complete specdex search x --)
check "bash: search's options ($got)" \
  bash -c "[[ '$got' == *--limit* && '$got' == *--section* && '$got' == *--series* && '$got' == *--color=* && '$got' != *--max-chars* ]]"
got=$(bash_complete specdex row "key resp 06" --)
check "bash: row's options ($got)" \
  bash -c "[[ '$got' == *--series* && '$got' != *--limit* ]]"
got=$(bash_complete specdex search x --section k)
check "bash: --section k -> ksa ($got)" [ "$got" = "ksa " ]
got=$(bash_complete specdex search x --section ksa,res)
check "bash: --section ksa,res -> ksa,responsibility ($got)" [ "$got" = "ksa,responsibility " ]
got=$(bash_complete specdex context x --)
check "bash: context's options ($got)" \
  bash -c "[[ '$got' == *--syntax* && '$got' == *--min-score* && '$got' != *--limit* ]]"
got=$(bash_complete specdex context x --syntax p)
check "bash: --syntax p -> plain ($got)" [ "$got" = "plain " ]
got=$(bash_complete specdex --color = a)
check "bash: --color=a, split at '=' as by default -> auto always ($got)" [ "$got" = "always auto " ]
got=$(bash_complete specdex --color=a)
check "bash: --color=a, one word -> --color=auto --color=always ($got)" [ "$got" = "--color=always --color=auto " ]
got=$(bash_complete specdex -e ipc : ///run/x.sock --timeout = 500 ro)
check "bash: the command after split option values ($got)" [ "$got" = "row " ]
# The sections the completions offer are the program's own.
sections=$(specdex -e "$ep" search x --section none 2>&1 | sed -n 's/.*(one of \(.*\))$/\1/p' | tr -d ',' | tr ' ' '\n' | sort | tr '\n' ' ')
got=$(bash_complete specdex search x --section "")
check "bash: the sections are specdex's ($got)" [ "$got" = "$sections" ]
if command -v zsh > /dev/null; then
  timeout 60 zsh -f "$(dirname "$0")/zsh_complete.zsh" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/bin" "$tmp/zsh.log" \
    "specdex " "specdex search x --" "specdex search x --section k" \
    "specdex search x --color=al" "specdex context x --syntax q" > /dev/null 2>&1
  check "zsh: the session on a pty ran to its end" [ $? -eq 0 ]
  offers() { awk -v n="== $1" '/^== /{on = ($0 == n); next} on' "$tmp/zsh.log" | sort -u | tr '\n' ' '; }
  check "zsh: the commands of --help ($(offers 1))" [ "$(offers 1)" = "$commands" ]
  got=$(offers 2)
  check "zsh: search's options ($got)" \
    bash -c "[[ '$got' == *--limit* && '$got' == *--section* && '$got' == *--series* && '$got' == *--color=* && '$got' != *--max-chars* ]]"
  check "zsh: --section k -> ksa ($(offers 3))" [ "$(offers 3)" = "ksa " ]
  check "zsh: --color=al -> always ($(offers 4))" [ "$(offers 4)" = "always " ]
  check "zsh: --syntax q -> query ($(offers 5))" [ "$(offers 5)" = "query " ]
else
  echo "# zsh is not installed: its completion is not exercised"
fi

# Rendered as a terminal would, overstrike (bold) undone.
nroff -man "$root/usr/share/man/man1/specdex.1" 2>/dev/null \
  | sed "s/.\x08//g" > "$tmp/man.txt"
check "specdex(1) renders" grep -q "EXIT STATUS" "$tmp/man.txt"

finish
