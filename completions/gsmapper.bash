# bash completion for gsmapper(1): subcommands, options, option values, PIDs (shown with their
# /proc/PID/comm when several match) and memory-cgroup paths. Self-contained: works with or
# without the bash-completion package loaded. tests/cli/test_packaging.sh checks the option
# lists below against `gsmapper SUB --help`.

_gsmapper_commands="explain watch serve report advise drill symbolize"

# _gsmapper_options SUB: every option of SUB. _gsmapper_argopts SUB: those taking a value.
_gsmapper_options() {
    case $1 in
    explain) echo "-o --output --output-file --mappings --top --rollup --best-effort --self
        --cgroup --fail-on --go-endpoint --go-endpoint-any --gc --no-go-stats --read-env --root --no-sandbox -h --help" ;;
    watch) echo "--cgroup --all --interval --horizon --window --baseline --z-threshold --warmup
        --rollup-budget-ms --ring --dump-dir --dump-quota --dump-min-interval --exec --duration
        --history --history-retention --history-max-mb --history-flush --protect --emit-samples --no-go-stats --stats -o --output --root --no-sandbox -h --help" ;;
    serve) echo "--listen --top --max-series --smaps-budget-ms --cgroup --all --interval --no-go-stats --read-env
        --quiet --emit-samples --ring --dump-dir --dump-quota --dump-min-interval
        --history --history-retention --history-max-mb --history-flush --protect --root --no-sandbox -h --help" ;;
    report) echo "-o --output --cgroup --diff --top --title --root --go-endpoint --no-go-stats --gc
        --no-sandbox -h --help" ;;
    advise) echo "--history --prometheus --source --range --allow-remote --target --half-life --margin
        --max-limit -o --output --no-sandbox -h --help" ;;
    drill) echo "--limit --rate --serve --serve-wait --timeout --wait --dump-dir --cgroup-version
        --watch-cgroup -o --output -h --help" ;;
    symbolize) echo "-o --output --root -h --help" ;;
    esac
}
_gsmapper_argopts() {
    case $1 in
    explain) echo "-o --output --output-file --top --cgroup --fail-on --go-endpoint --root" ;;
    watch) echo "--cgroup --interval --horizon --window --baseline --z-threshold --warmup
        --rollup-budget-ms --ring --dump-dir --dump-quota --dump-min-interval --exec --duration
        --history --history-retention --history-max-mb --history-flush --protect -o --output --root" ;;
    serve) echo "--listen --top --max-series --smaps-budget-ms --cgroup --interval --ring --dump-dir --dump-quota
        --dump-min-interval --history --history-retention --history-max-mb --history-flush --protect --root" ;;
    report) echo "-o --output --cgroup --top --title --root --go-endpoint" ;;
    advise) echo "--history --prometheus --source --range --target --half-life --margin --max-limit -o --output" ;;
    drill) echo "--limit --rate --serve --serve-wait --timeout --wait --dump-dir --cgroup-version
        --watch-cgroup -o --output" ;;
    symbolize) echo "-o --output --root" ;;
    esac
}
# _gsmapper_formats SUB: the values of -o/--output.
_gsmapper_formats() {
    case $1 in
    explain) echo "table json folded pprof" ;;
    watch) echo "json text" ;;
    symbolize | advise | drill) echo "table json" ;;
    esac
}

# _gsmapper_pids CUR: PIDs starting with CUR. One match: the PID alone (it is inserted);
# several: "PID (comm)" so the list shows names; their common prefix is always digits, since
# PIDs are unique. Names come from /proc/PID/comm only (never cmdline).
_gsmapper_pids() {
    local cur=$1 d pid comm
    local -a found=()
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $pid == "$cur"* ]] || continue
        comm=
        read -r comm 2>/dev/null < "$d/comm" || continue
        found+=("$pid (${comm})")
    done
    if [ ${#found[@]} -eq 1 ]; then
        COMPREPLY+=("${found[0]%% *}")
    else
        COMPREPLY+=("${found[@]}")
    fi
}

# _gsmapper_memory_mount: the mount point of the memory cgroup hierarchy (cgroup v1 with the
# memory controller, else cgroup2), from /proc/self/mountinfo.
_gsmapper_memory_mount() {
    local line mnt v2= rest
    while read -r line; do
        rest=${line#* - }
        mnt=${line#* * * * }
        mnt=${mnt%% *}
        case $rest in
        "cgroup "*) [[ ,${rest##* }, == *,memory,* ]] && { echo "$mnt"; return; } ;;
        "cgroup2 "*) [ -n "$v2" ] || v2=$mnt ;;
        esac
    done < /proc/self/mountinfo
    [ -n "$v2" ] && echo "$v2"
}

# _gsmapper_cgroups CUR: cgroup directories as gsmapper takes them: relative to the memory
# hierarchy's root ("/system.slice/"), or absolute under its mount point when CUR starts so.
_gsmapper_cgroups() {
    local cur=$1 mnt d
    mnt=$(_gsmapper_memory_mount)
    [ -n "$mnt" ] || return
    if [[ $cur == "$mnt"* ]]; then
        for d in "$cur"*/; do [ -d "$d" ] && COMPREPLY+=("$d"); done
    else
        [[ $cur == /* ]] || cur=/$cur
        for d in "$mnt$cur"*/; do [ -d "$d" ] && COMPREPLY+=("${d#"$mnt"}"); done
    fi
    compopt -o nospace 2>/dev/null
}

_gsmapper() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
    # "--opt=value": bash splits at '=' (COMP_WORDBREAKS).
    if [ "$cur" = "=" ]; then
        cur=
    elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    COMPREPLY=()

    if [ "$COMP_CWORD" -le 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W "$_gsmapper_commands --help --version" -- "$cur")
        return
    fi
    local sub=${COMP_WORDS[1]}
    case " $_gsmapper_commands " in *" $sub "*) ;; *) return ;; esac

    case " $(_gsmapper_argopts "$sub") " in
    *" $prev "*)
        case $prev in
        -o | --output)
            if [ "$sub" = report ]; then   # report's -o names the page
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                compopt -o filenames 2>/dev/null
            else
                mapfile -t COMPREPLY < <(compgen -W "$(_gsmapper_formats "$sub")" -- "$cur")
            fi ;;
        --fail-on)
            mapfile -t COMPREPLY < <(compgen -W "warn critical" -- "$cur") ;;
        --cgroup | --watch-cgroup) _gsmapper_cgroups "$cur" ;;
        --cgroup-version)
            mapfile -t COMPREPLY < <(compgen -W "1 2" -- "$cur") ;;
        --root | --dump-dir)
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            compopt -o filenames 2>/dev/null ;;
        --output-file)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null ;;
        --exec)
            mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
        esac
        return ;;
    esac

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_gsmapper_options "$sub")" -- "$cur")
        return
    fi
    # Positional arguments.
    case $sub in
    explain | watch | serve) _gsmapper_pids "$cur" ;;
    report)
        # a PID, an explain JSON file or a bundle directory
        _gsmapper_pids "$cur"
        local -a files
        mapfile -t files < <(compgen -f -- "$cur")
        COMPREPLY+=("${files[@]}")
        compopt -o filenames 2>/dev/null ;;
    symbolize)
        # The first positional is a PID or a file; the rest are addresses.
        local i n=0 w argopts
        argopts=" $(_gsmapper_argopts "$sub") "
        for ((i = 2; i < COMP_CWORD; i++)); do
            w=${COMP_WORDS[i]}
            case $w in
            -*) [[ $argopts == *" $w "* ]] && ((i++)) ;;
            *) ((n++)) ;;
            esac
        done
        if [ "$n" -eq 0 ]; then
            _gsmapper_pids "$cur"
            local -a files
            mapfile -t files < <(compgen -f -- "$cur")
            COMPREPLY+=("${files[@]}")
        fi ;;
    esac
}
complete -F _gsmapper gsmapper
