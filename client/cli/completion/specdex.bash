# bash completion for specdex(1): commands, options and their values.
#
# The commands and each command's options are read from the program's
# own --help (no daemon needed), so they cannot drift from it; the
# section kinds and --color's values are the ones --help lists, checked
# against it by tests/integration/test_install.sh.  Installed as
# share/bash-completion/completions/specdex, loaded on first use.

_specdex_help_words() # _specdex_help_words PROGRAM [COMMAND]: its options
{
    # the lines that define options ("  -n, --limit N  ..."), not the
    # examples and prose that mention them
    "$@" --help 2> /dev/null | grep -E '^ +-' |
        grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z-]*(\[?=)?' |
        sed -E 's/^[ ,]//; s/\[?=$/=/' | sort -u
}

_specdex()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local prog=${COMP_WORDS[0]} cmd='' i
    local sections="summary scope responsibility ksa education condition environment"

    # --color=WHEN: one word, or three ("--color" "=" "a") where '=' is
    # in COMP_WORDBREAKS, as it is by default
    if [[ $cur == --color=* ]]; then
        mapfile -t COMPREPLY < <(compgen -P --color= \
            -W "auto always never" -- "${cur#--color=}")
        return
    fi
    if [[ $prev == = && ${COMP_WORDS[COMP_CWORD-2]} == --color ]]; then
        mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
        return
    fi

    # The command: the first word that is neither an option nor the
    # value of one of the options before it.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -e|--endpoint|-t|--timeout|--server-key|--client-key)
                # its value; bash splits "--timeout=5" and "ipc:///x"
                # at '=' and ':' (COMP_WORDBREAKS): skip the pieces too
                ((i++))
                [[ ${COMP_WORDS[i]} == = ]] && ((i++))
                while [[ ${COMP_WORDS[i+1]} == : ]]; do ((i += 2)); done ;;
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    case $prev in
        -s|--section)
            # a comma list: complete its last entry
            local done_part=
            [[ $cur == *,* ]] && done_part=${cur%,*},
            mapfile -t COMPREPLY < <(compgen -P "$done_part" -W "$sections" -- "${cur##*,}")
            [[ ${#COMPREPLY[@]} -eq 1 ]] && compopt -o nospace 2> /dev/null
            return ;;
        --server-key|--client-key)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return ;;
        --syntax)
            mapfile -t COMPREPLY < <(compgen -W "plain query" -- "$cur")
            return ;;
        -e|--endpoint|-t|--timeout|-l|--level|-r|--row|-c|--code|-n|--limit|-o|--offset|-k|--k|-m|--max-chars|-S|--series|--min-score)
            return ;; # a value only the user knows
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$(_specdex_help_words "$prog")" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$("$prog" --help 2> /dev/null |
                sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')" -- "$cur")
        fi
    elif [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_specdex_help_words "$prog" "$cmd")" -- "$cur")
    elif [[ $cmd == keygen ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    # --color= wants its value next, with no space
    [[ ${COMPREPLY[*]} == *= ]] && compopt -o nospace 2> /dev/null
}
complete -F _specdex specdex
