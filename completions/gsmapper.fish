# fish completion for gsmapper(1). tests/cli/test_packaging.sh checks the options below against
# `gsmapper SUB --help`.

function __gsmapper_pids --description 'PIDs with their /proc/PID/comm (never cmdline)'
    for d in (string match -r '^/proc/\d+$' -- /proc/*)
        set -l comm
        begin
            read comm <$d/comm
        end 2>/dev/null; or continue
        printf '%s\t%s\n' (string replace /proc/ '' -- $d) $comm
    end
end

function __gsmapper_cgroups --description 'memory-cgroup directories relative to the hierarchy root'
    set -l mnt
    set -l v2
    while read -l line
        set -l rest (string replace -r '^.* - ' '' -- $line)
        set -l point (string split ' ' -- $line)[5]
        if string match -q 'cgroup *' -- $rest; and string match -q -r '(^|,)memory(,|$)' -- (string split ' ' -- $rest)[-1]
            set mnt $point
            break
        else if string match -q 'cgroup2 *' -- $rest; and test -z "$v2"
            set v2 $point
        end
    end </proc/self/mountinfo
    test -n "$mnt"; or set mnt $v2
    test -n "$mnt"; or return
    set -l cur (commandline -ct)
    string match -q -- '/*' $cur; or set cur /$cur
    for d in $mnt$cur*/
        test -d $d; and string replace -- $mnt '' $d
    end
end

set -l cmds explain watch serve report advise drill symbolize
complete -c gsmapper -f
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a explain -d "attribute a process's or cgroup's memory"
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a watch -d 'OOM sentinel: forecasts, growth, OOM signals'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a serve -d 'Prometheus exporter with the watch engine'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a report -d 'offline HTML page: flame graph, heat map, diff'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a advise -d 'request/limit and GOMEMLIMIT from a history'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a drill -d 'prove the OOM warning path with a controlled leak'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -a symbolize -d 'Go program counters to function and file:line'
complete -c gsmapper -n "not __fish_seen_subcommand_from $cmds" -l version -d 'print the version'
complete -c gsmapper -s h -l help -d 'print the help'

# explain
set -l c '__fish_seen_subcommand_from explain'
complete -c gsmapper -n $c -a '(__gsmapper_pids)'
complete -c gsmapper -n $c -s o -l output -x -a 'table json folded pprof' -d 'output format'
complete -c gsmapper -n $c -l output-file -r -F -d 'write to PATH atomically'
complete -c gsmapper -n $c -l mappings -d 'JSON: every mapping with all smaps fields'
complete -c gsmapper -n $c -l top -x -d 'the N largest mappings'
complete -c gsmapper -n $c -l rollup -d 'check the totals against smaps_rollup'
complete -c gsmapper -n $c -l best-effort -d 'status/statm if smaps is not readable'
complete -c gsmapper -n $c -l self -d "explain gsmapper's own process"
complete -c gsmapper -n $c -l cgroup -x -a '(__gsmapper_cgroups)' -d 'explain a whole memory cgroup'
complete -c gsmapper -n $c -l fail-on -x -a 'warn critical' -d 'exit 1 when a finding reaches LEVEL'
complete -c gsmapper -n $c -l go-endpoint -x -d "a Go process's pprof/expvar/Prometheus URL"
complete -c gsmapper -n $c -l no-go-stats -d 'do not contact the process over HTTP'
complete -c gsmapper -n $c -l go-endpoint-any -d 'accept a --go-endpoint the process does not own'
complete -c gsmapper -n $c -l gc -d 'ask the Go runtime for a GC before the heap profile'
complete -c gsmapper -n $c -l read-env -d 'read GOMEMLIMIT, GOGC, GODEBUG, GOMAXPROCS'
complete -c gsmapper -n $c -l root -x -a '(__fish_complete_directories)' -d 'read /proc under DIR'
complete -c gsmapper -n $c -l no-sandbox -d 'do not restrict this process (docs/sandbox.md)'

# watch and serve share the engine's options
set -l c '__fish_seen_subcommand_from watch serve'
complete -c gsmapper -n $c -a '(__gsmapper_pids)'
complete -c gsmapper -n $c -l cgroup -x -a '(__gsmapper_cgroups)' -d 'watch a memory cgroup'
complete -c gsmapper -n $c -l all -d 'every limited cgroup and every process'
complete -c gsmapper -n $c -l interval -x -d 'tick in seconds'
complete -c gsmapper -n $c -l no-go-stats -d 'no Go runtime statistics over HTTP'
complete -c gsmapper -n $c -l ring -x -d 'flight-recorder length in seconds'
complete -c gsmapper -n $c -l dump-dir -x -a '(__fish_complete_directories)' -d 'bundles under DIR'
complete -c gsmapper -n $c -l dump-quota -x -d 'total size of the bundles kept'
complete -c gsmapper -n $c -l dump-min-interval -x -d 'one bundle per target per interval'
complete -c gsmapper -n $c -l history -r -F -d 'memory history (SQLite) in FILE'
complete -c gsmapper -n $c -l history-retention -x -d 'history kept this long (8d)'
complete -c gsmapper -n $c -l history-max-mb -x -d 'size cap of the history file'
complete -c gsmapper -n $c -l history-flush -x -d 'seconds between history writes'
complete -c gsmapper -n $c -l no-sandbox -d 'do not restrict this process (docs/sandbox.md)'
complete -c gsmapper -n $c -l protect -x -d 'NAME=ADJ: oom_score_adj for processes named NAME'
complete -c gsmapper -n $c -l root -x -a '(__fish_complete_directories)' -d 'read /proc and /sys under DIR'

set -l c '__fish_seen_subcommand_from watch'
complete -c gsmapper -n $c -l horizon -x -d 'warn when the time to the limit is under this'
complete -c gsmapper -n $c -l window -x -d 'trend window in seconds'
complete -c gsmapper -n $c -l baseline -x -d 'growth Z-score baseline in seconds'
complete -c gsmapper -n $c -l z-threshold -x -d 'sudden-growth threshold'
complete -c gsmapper -n $c -l warmup -x -d 'no ETA while a process is younger'
complete -c gsmapper -n $c -l rollup-budget-ms -x -d 'kernel time per tick for smaps_rollup'
complete -c gsmapper -n $c -l exec -x -a '(__fish_complete_command)' -d 'run CMD for each event'
complete -c gsmapper -n $c -l duration -x -d 'stop after this long'
complete -c gsmapper -n $c -l emit-samples -d 'print every sample too'
complete -c gsmapper -n $c -l stats -d 'on exit, print the cost of each tier'
complete -c gsmapper -n $c -s o -l output -x -a 'json text' -d 'output format'

set -l c '__fish_seen_subcommand_from serve'
complete -c gsmapper -n $c -l listen -x -d 'HOST:PORT to listen on'
complete -c gsmapper -n $c -l top -x -d 'export the N largest processes by RSS'
complete -c gsmapper -n $c -l max-series -x -d 'per-process series at most'
complete -c gsmapper -n $c -l smaps-budget-ms -x -d 'time per tick for full smaps reads'
complete -c gsmapper -n $c -l read-env -d 'GOMEMLIMIT, GOGC, GODEBUG, GOMAXPROCS of Go processes'
complete -c gsmapper -n $c -l quiet -d 'do not print watch events'
complete -c gsmapper -n $c -l emit-samples -d 'print every sample too'

# report
set -l c '__fish_seen_subcommand_from report'
complete -c gsmapper -n $c -a '(__gsmapper_pids)' -F
complete -c gsmapper -n $c -s o -l output -r -F -d 'write the page here (atomically)'
complete -c gsmapper -n $c -l cgroup -x -a '(__gsmapper_cgroups)' -d 'report a whole memory cgroup'
complete -c gsmapper -n $c -l diff -d 'two inputs follow: before and after'
complete -c gsmapper -n $c -l top -x -d 'children kept per node'
complete -c gsmapper -n $c -l title -x -d "the page's title"
complete -c gsmapper -n $c -l root -x -a '(__fish_complete_directories)' -d 'read /proc and /sys under DIR'
complete -c gsmapper -n $c -l go-endpoint -x -d "a Go process's pprof base URL"
complete -c gsmapper -n $c -l no-go-stats -d 'do not contact the process over HTTP'
complete -c gsmapper -n $c -l gc -d 'a GC before the heap profile'
complete -c gsmapper -n $c -l no-sandbox -d 'do not restrict this process (docs/sandbox.md)'

# advise
set -l c '__fish_seen_subcommand_from advise'
complete -c gsmapper -n $c -l history -r -F -d 'the history watch/serve --history wrote'
complete -c gsmapper -n $c -l target -x -d 'key, cgroup path or PID'
complete -c gsmapper -n $c -l prometheus -x -d 'read peaks from a Prometheus server'
complete -c gsmapper -n $c -l source -x -a 'gsmapper cadvisor' -d 'series to query'
complete -c gsmapper -n $c -l range -x -d 'how far back to query (8d)'
complete -c gsmapper -n $c -l allow-remote -d 'allow a Prometheus server outside loopback'
complete -c gsmapper -n $c -l half-life -x -d 'peak weight half-life (24h)'
complete -c gsmapper -n $c -l margin -x -d 'percent added (15)'
complete -c gsmapper -n $c -l max-limit -x -d 'never recommend more than MIB'
complete -c gsmapper -n $c -s o -l output -x -a 'table json' -d 'output format'
complete -c gsmapper -n $c -l no-sandbox -d 'do not restrict this process (docs/sandbox.md)'

# drill
set -l c '__fish_seen_subcommand_from drill'
complete -c gsmapper -n $c -l limit -x -d 'memory limit of the drill cgroup (64MiB)'
complete -c gsmapper -n $c -l rate -x -d 'leak rate per second (8MiB)'
complete -c gsmapper -n $c -l serve -x -d "also check this serve's /metrics"
complete -c gsmapper -n $c -l serve-wait -x -d 'how long serve may take to list the cgroup'
complete -c gsmapper -n $c -l timeout -x -d 'how long the leak may take to be killed'
complete -c gsmapper -n $c -l wait -x -d 'after the kill, how long watch may take'
complete -c gsmapper -n $c -l dump-dir -x -a '(__fish_complete_directories)' -d 'keep the bundles here'
complete -c gsmapper -n $c -l cgroup-version -x -a '1 2' -d 'the hierarchy to use'
complete -c gsmapper -n $c -l watch-cgroup -x -a '(__gsmapper_cgroups)' -d 'test aid: watch another cgroup'
complete -c gsmapper -n $c -s o -l output -x -a 'table json' -d 'output format'

# symbolize
set -l c '__fish_seen_subcommand_from symbolize'
complete -c gsmapper -n $c -a '(__gsmapper_pids)' -F
complete -c gsmapper -n $c -s o -l output -x -a 'table json' -d 'output format'
complete -c gsmapper -n $c -l root -x -a '(__fish_complete_directories)' -d 'read /proc under DIR'
