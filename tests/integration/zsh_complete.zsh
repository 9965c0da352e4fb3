# zsh_complete.zsh FPATH_DIR BIN_DIR LOG LINE...: what zsh's completion
# offers at the end of each LINE, typed into an interactive zsh on a
# pseudo-terminal (zsh/zpty) with compinit and FPATH_DIR first in $fpath.
# compadd is wrapped to append each offer to LOG, under "== N" for the
# N-th line (from 1).  Sourced by nothing: run as `zsh -f zsh_complete.zsh`.
zmodload zsh/zpty || exit 2
dir=$1 bin=$2 log=$3; shift 3
: > $log
zpty z zsh -f -i
zpty -w z "fpath=($dir \$fpath); PATH=$bin:\$PATH; autoload -U compinit; compinit -u -D; bindkey '^I' complete-word"
zpty -w z 'compadd () { local -a __m; builtin compadd -O __m "$@"; (( $#__m )) && print -rl -- $__m >> '$log'; builtin compadd "$@"; }'
sleep 1
n=0
for line in "$@"; do
  n=$((n + 1))
  zpty -w z "print -r -- '== $n' >> $log"
  sleep 0.3
  zpty -w -n z "$line"$'\t'
  sleep 1
  zpty -w -n z $'\C-u'
  sleep 0.2
done
zpty -d z
