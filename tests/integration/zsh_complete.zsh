# zsh_complete.zsh FPATH_DIR BIN_DIR LOG LINE...: what zsh's completion
# offers at the end of each LINE, typed into an interactive zsh on a
# pseudo-terminal (zsh/zpty) with compinit and FPATH_DIR first in $fpath.
# compadd is wrapped to append each offer to LOG, under "== N" for the
# N-th line (from 1).  Each line is typed when the shell is idle at its
# prompt (LOG shows the marker it was asked to print), as a person types;
# keys sent ahead of the prompt ZLE may throw away; then its offers are
# waited for (every LINE must have some).  Each wait is bounded (10 s);
# exits 1 when a marker never came.  Run as `zsh -f zsh_complete.zsh ...`.
zmodload zsh/zpty || exit 2
dir=$1 bin=$2 log=$3; shift 3
: > $log
zpty z zsh -f -i
zpty -w z "fpath=($dir \$fpath); PATH=$bin:\$PATH; autoload -U compinit; compinit -u -D; bindkey '^I' complete-word"
zpty -w z 'compadd () { local -a __m; builtin compadd -O __m "$@"; (( $#__m )) && print -rl -- $__m >> '$log'; builtin compadd "$@"; }'

idle() { # idle MARKER: have the shell print MARKER to LOG; wait for it
  local _out
  zpty -w z "print -r -- '$1' >> $log"
  for _ in {1..100}; do
    grep -qx -- "$1" $log && { sleep 0.1; return 0; }
    while zpty -rt z _out; do :; done # keep the pty drained
    sleep 0.1
  done
  return 1
}
n=0 rc=0
for line in "$@"; do
  n=$((n + 1))
  idle "== $n" || rc=1
  before=$(wc -l < $log)
  zpty -w -n z "$line"$'\t'
  # the offers (every line asked has some), then a moment for the rest
  for _ in {1..100}; do
    (( $(wc -l < $log) > before )) && break
    sleep 0.1
  done
  sleep 0.3
  zpty -w -n z $'\C-u'
done
idle "== done" || rc=1
zpty -d z
exit $rc
