#!/usr/bin/env bash
# Packaging, the fast part (the .deb and the image are `make package-test` / `make image`):
# - the man pages (man/*.1) lint clean with mandoc and groff, and there is one per subcommand;
# - option drift: every subcommand's options (long and short, and which take a value) in the
#   built binary's `--help` equal those of its man page and of the bash, zsh and fish
#   completions. A new option in src/ fails here until man/ and completions/ know it;
# - bash completion driven as bash does it (COMP_WORDS/COMP_CWORD, then COMPREPLY): commands,
#   options, -o values, PIDs with /proc/PID/comm names, memory-cgroup paths;
# - `meson install` with --prefix and DESTDIR: the installed file list.
# Run from the repository root (tests/run.sh does).
set -uo pipefail
. "${GSM_TESTS_DIR:-tests}/lib.sh"

tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT

if [ ! -x "$GSM" ]; then
  fail packaging_binary "no gsmapper binary at $GSM"
  exit 1
fi

# same NAME WHAT-A LIST-A WHAT-B LIST-B: PASS when the two whitespace-separated sets are equal.
same() {
  local n=$1 wa=$2 a=$3 wb=$4 b=$5 only_a only_b
  a=$(tr -s ' \n' '\n\n' <<<"$a" | sed '/^$/d' | sort -u)
  b=$(tr -s ' \n' '\n\n' <<<"$b" | sed '/^$/d' | sort -u)
  if [ -z "$a" ]; then fail "$n" "$wa is empty"; return; fi
  only_a=$(comm -23 <(echo "$a") <(echo "$b") | tr '\n' ' ')
  only_b=$(comm -13 <(echo "$a") <(echo "$b") | tr '\n' ' ')
  if [ -z "$only_a$only_b" ]; then
    pass "$n"
  else
    fail "$n" "only in $wa: [${only_a% }]; only in $wb: [${only_b% }]"
  fi
}

# The subcommands, from the binary: the indented lines of "Commands:" in `gsmapper --help`.
cmds=$("$GSM" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | tr '\n' ' ')
if [ "$(wc -w <<<"$cmds")" -lt 4 ]; then
  fail packaging_commands "could not read the commands of '$GSM --help': [$cmds]"
fi

# help_opts SUB [args]: the options in SUB's --help "Options:" block (lines indented at most
# 8 columns that start with '-'); with "args", only those followed by a value (FORMAT, N, ...).
help_opts() {
  "$GSM" "$1" --help | sed -n '/^Options:/,/^$/p' | grep -E '^ {1,8}-' |
    if [ "${2:-}" = args ]; then
      grep -oE -- '(^ *-[A-Za-z], --[a-z0-9-]+|^ *-[A-Za-z]|--[a-z0-9-]+)[ =][A-Z]' |
        grep -oE -- '-{1,2}[A-Za-z0-9-]+'
    else
      grep -oE -- '(^ *-[A-Za-z]\b|--[a-z0-9-]+)' | tr -d ' '
    fi
}
# man_opts PAGE [args]: the options of the ".It Fl ..." items of PAGE's OPTIONS section; with
# "args", only the items that have an argument (Ar).
man_opts() {
  sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$1" | grep -E '^\.It Fl ' |
    if [ "${2:-}" = args ]; then grep -E ' Ar '; else cat; fi |
    grep -oE -- 'Fl [-A-Za-z0-9]+' | sed 's/^Fl /-/'
}

# --- man pages ---------------------------------------------------------------------------------
pages="man/gsmapper.1"
for c in $cmds; do pages+=" man/gsmapper-$c.1"; done
missing=
for p in $pages; do [ -f "$p" ] || missing+="$p "; done
if [ -z "$missing" ]; then pass man_page_per_command; else fail man_page_per_command "missing: $missing"; fi
same man_commands_listed "gsmapper --help" "$cmds" "gsmapper.1 COMMANDS" \
  "$(sed -n '/^\.Sh COMMANDS/,/^\.Sh /s/^\.It Cm \([a-z0-9-]*\).*/\1/p' man/gsmapper.1)"

if command -v mandoc >/dev/null 2>&1; then
  out=
  for p in $pages; do
    [ -f "$p" ] || continue
    # -W warning: warnings and errors (style notes, e.g. a missing mandoc.db entry, are not).
    o=$(mandoc -T lint -W warning "$p" 2>&1) || out+="$o "
  done
  if [ -z "$out" ]; then pass man_mandoc_lint; else fail man_mandoc_lint "$out"; fi
else
  skip man_mandoc_lint "mandoc not installed (Debian package mandoc)"
fi
if command -v groff >/dev/null 2>&1; then
  out=
  for p in $pages; do
    [ -f "$p" ] || continue
    o=$(LC_ALL=C.UTF-8 groff -ww -z -mandoc -Tutf8 "$p" 2>&1)
    [ -z "$o" ] || out+="$p: $o "
  done
  if [ -z "$out" ]; then pass man_groff_warnings; else fail man_groff_warnings "$out"; fi
else
  skip man_groff_warnings "groff not installed"
fi
if command -v lexgrog >/dev/null 2>&1; then
  bad=
  for p in $pages; do
    [ -f "$p" ] || continue
    n=$(basename "$p" .1)
    lexgrog "$p" 2>/dev/null | grep -q "\"$n - " || bad+="$n "
  done
  if [ -z "$bad" ]; then pass man_whatis; else fail man_whatis "lexgrog finds no NAME line in: $bad"; fi
fi

# --- option drift: --help vs man page vs completions -------------------------------------------
# shellcheck disable=SC1091
. completions/gsmapper.bash
same compl_bash_commands "gsmapper --help" "$cmds" "gsmapper.bash" "$_gsmapper_commands"
same compl_zsh_commands "gsmapper --help" "$cmds" "_gsmapper" \
  "$(sed -n "s/^ *'\([a-z][a-z0-9-]*\):.*/\1/p" completions/_gsmapper)"

# zsh_specs SUB: the _arguments specs _gsmapper hands zsh for SUB (zsh runs the file with
# _arguments stubbed to print them). zsh_opts SUB [args]: their option names.
zsh_specs() {
  SUB=$1 zsh -fc '_arguments() { if [[ $1 == -C ]]; then state=args; words=($SUB); return 1; fi
    printf "%s\n" "$@"; }; _describe() { :; }; source completions/_gsmapper' 2>&1 || true
}
zsh_opts() {
  zsh_specs "$1" | grep -E '^(\([^)]*\))?\*?-' | sed -E 's/^(\([^)]*\))?\*?//' |
    if [ "${2:-}" = args ]; then grep -E '^-{1,2}[A-Za-z0-9-]+[=+]'; else cat; fi |
    grep -oE '^-{1,2}[A-Za-z0-9-]+'
}
have_zsh=false have_fish=false
command -v zsh >/dev/null 2>&1 && have_zsh=true
command -v fish >/dev/null 2>&1 && have_fish=true
for c in $cmds; do
  h=$(help_opts "$c"); ha=$(help_opts "$c" args)
  page=man/gsmapper-$c.1
  if [ -f "$page" ]; then
    same "man_options_$c" "$c --help" "$h" "$page" "$(man_opts "$page")"
    same "man_value_options_$c" "$c --help (taking a value)" "$ha" "$page (with Ar)" \
      "$(man_opts "$page" args)"
  fi
  same "compl_bash_options_$c" "$c --help" "$h" "gsmapper.bash" "$(_gsmapper_options "$c")"
  same "compl_bash_value_options_$c" "$c --help (taking a value)" "$ha" "gsmapper.bash" \
    "$(_gsmapper_argopts "$c")"
  if $have_zsh; then
    same "compl_zsh_options_$c" "$c --help" "$h" "_gsmapper" "$(zsh_opts "$c")"
    same "compl_zsh_value_options_$c" "$c --help (taking a value)" "$ha" "_gsmapper" \
      "$(zsh_opts "$c" args)"
  fi
  if $have_fish; then
    same "compl_fish_options_$c" "$c --help" "$h" "gsmapper.fish" \
      "$(fish -c "source completions/gsmapper.fish; complete -C'gsmapper $c -'" 2>/dev/null | cut -f1)"
  fi
done
$have_zsh || skip compl_zsh "zsh not installed (Debian package zsh)"
$have_fish || skip compl_fish "fish not installed (Debian package fish)"

# --- bash completion, driven -------------------------------------------------------------------
# complete_words WORD...: COMPREPLY for the command line WORD... (the last word is the one
# being completed), one candidate per line.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _gsmapper gsmapper "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
  [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
}
same compl_bash_drive_commands "gsmapper --help + --help --version" "$cmds --help --version" \
  "completion of 'gsmapper '" "$(complete_words gsmapper '')"
same compl_bash_drive_commands_prefix "expected" "serve symbolize" "completion of 'gsmapper s'" \
  "$(complete_words gsmapper s)"
same compl_bash_drive_long_options "explain --help (long)" "$(help_opts explain | grep -- '^--')" \
  "completion of 'gsmapper explain --'" "$(complete_words gsmapper explain --)"
same compl_bash_drive_option_prefix "expected" "--dump-dir --dump-quota --dump-min-interval" \
  "completion of 'gsmapper watch --dump'" "$(complete_words gsmapper watch --dump)"
same compl_bash_drive_output_values "formats named in explain --help" "table json folded pprof" \
  "completion of 'gsmapper explain -o '" "$(complete_words gsmapper explain -o '')"
same compl_bash_drive_output_eq "formats named in watch --help" "json text" \
  "completion of 'gsmapper watch --output='" "$(complete_words gsmapper watch --output =)"
same compl_bash_drive_fail_on "explain --help" "warn critical" \
  "completion of 'gsmapper explain --fail-on '" "$(complete_words gsmapper explain --fail-on '')"
# Every -o value is a word of the subcommand's --help text.
bad=
for c in explain watch symbolize; do
  for v in $(_gsmapper_formats "$c"); do
    "$GSM" "$c" --help | grep -qw -- "$v" || bad+="$c:$v "
  done
done
if [ -z "$bad" ]; then pass compl_bash_formats_in_help; else fail compl_bash_formats_in_help "not in --help: $bad"; fi

# PIDs: a process whose comm we chose (a symlink's name is what execve puts in comm).
ln -s "$(command -v sleep)" "$tmp/gsmcompl-$$"
"$tmp/gsmcompl-$$" 60 &
spid=$!
for _ in $(seq 1 100); do [ "$(cat /proc/$spid/comm 2>/dev/null)" = "gsmcompl-$$" ] && break; sleep 0.02; done
name=$(cat "/proc/$spid/comm")
before=$(ls /proc | grep -E '^[0-9]+$' | sort)
list=$(complete_words gsmapper explain '')
after=$(ls /proc | grep -E '^[0-9]+$' | sort)
if [ "$name" = "gsmcompl-$$" ] && grep -qxF "$spid ($name)" <<<"$list"; then
  pass compl_bash_drive_pid_named
else
  fail compl_bash_drive_pid_named "no '$spid (gsmcompl-$$)' among $(wc -l <<<"$list") candidates (comm: $name)"
fi
# The candidates are the PIDs in /proc: every PID listed both before and after is one, and
# none is unknown to both listings (other than processes that lived only in between).
got=$(sed 's/ .*//' <<<"$list" | sort)
missing=$(comm -23 <(comm -12 <(echo "$before") <(echo "$after")) <(echo "$got") | wc -l)
extra=$(comm -13 <(sort -u <(echo "$before") <(echo "$after")) <(echo "$got") | wc -l)
if [ "$missing" -eq 0 ] && [ "$extra" -le 20 ] && [ "$(wc -l <<<"$got")" -ge 2 ]; then
  pass compl_bash_drive_pids_all
else
  fail compl_bash_drive_pids_all "$missing stable PIDs missing, $extra candidates not in /proc"
fi
# Typing the whole PID: that PID is a candidate, bare when it is the only one.
list=$(complete_words gsmapper watch --interval 1 "$spid")
if grep -qxE "$spid( \(gsmcompl-$$\))?" <<<"$list" && { [ "$(wc -l <<<"$list")" -gt 1 ] || [ "$list" = "$spid" ]; }; then
  pass compl_bash_drive_pid_prefix
else
  fail compl_bash_drive_pid_prefix "completion of '$spid': $(tr '\n' ' ' <<<"$list")"
fi
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null

# Cgroups: relative to the memory hierarchy (from /proc/self/mountinfo, independently here).
mnt=$(awk '{ split($0, a, " - "); split(a[2], b, " ");
  if (b[1] == "cgroup" && ("," b[3] ",") ~ /,memory,/) { print $5; exit } }' /proc/self/mountinfo)
[ -n "$mnt" ] || mnt=$(awk '{ split($0, a, " - "); split(a[2], b, " "); if (b[1] == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
if [ -z "$mnt" ]; then
  skip compl_bash_drive_cgroup "no memory cgroup hierarchy mounted"
else
  want=$(find "$mnt" -mindepth 1 -maxdepth 1 -type d -printf '/%f/\n')
  same compl_bash_drive_cgroup_root "directories of $mnt" "$want" \
    "completion of '--cgroup /'" "$(complete_words gsmapper explain --cgroup /)"
  # Our own cgroup: the memory line of /proc/self/cgroup (v1), else the "0::" line (v2).
  own=$(sed -nE 's/^[0-9]+:([^:]*,)?memory(,[^:]*)?:(.*)$/\3/p' /proc/self/cgroup)
  [ -n "$own" ] || own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  if [ -n "$own" ] && [ "$own" != / ]; then
    list=$(complete_words gsmapper watch --cgroup "${own%?}")
    if grep -qxF "$own/" <<<"$list"; then pass compl_bash_drive_cgroup_own; else
      fail compl_bash_drive_cgroup_own "'${own%?}' does not complete to '$own/': $(tr '\n' ' ' <<<"$list")"; fi
    list=$(complete_words gsmapper watch --cgroup "$mnt${own%?}")
    if grep -qxF "$mnt$own/" <<<"$list"; then pass compl_bash_drive_cgroup_absolute; else
      fail compl_bash_drive_cgroup_absolute "'$mnt${own%?}': $(tr '\n' ' ' <<<"$list")"; fi
  fi
fi

# --- meson install: --prefix and DESTDIR -------------------------------------------------------
# A fresh configuration with --prefix (no compilation): the built binary is copied into it and
# `meson install --no-rebuild` installs it with everything else under DESTDIR.
if ! command -v meson >/dev/null 2>&1; then
  skip meson_install "meson not installed"
elif ! meson setup "$tmp/b" --prefix=/opt/gsm >"$tmp/setup.log" 2>&1; then
  fail meson_install "meson setup --prefix=/opt/gsm failed: $(tail -n 5 "$tmp/setup.log" | tr '\n' ' ')"
else
  cp "$GSM" "$tmp/b/gsmapper"
  if ! DESTDIR="$tmp/dest" meson install -C "$tmp/b" --no-rebuild >"$tmp/install.log" 2>&1; then
    fail meson_install "meson install failed: $(tail -n 5 "$tmp/install.log" | tr '\n' ' ')"
  else
    got=$(cd "$tmp/dest" && find . -type f | sed 's/^\.//' | sort)
    want="/opt/gsm/bin/gsmapper /opt/gsm/share/man/man1/gsmapper.1
      /opt/gsm/share/bash-completion/completions/gsmapper /opt/gsm/share/zsh/site-functions/_gsmapper
      /opt/gsm/share/fish/vendor_completions.d/gsmapper.fish"
    for c in $cmds; do want+=" /opt/gsm/share/man/man1/gsmapper-$c.1"; done
    for d in README.md docs/serve.md docs/watch.md docs/advise.md docs/drill.md docs/findings.md docs/cgroups.md docs/permissions.md; do
      want+=" /opt/gsm/share/doc/gsmapper/${d#docs/}"
    done
    same meson_install_files "expected" "$want" "DESTDIR/--prefix install" "$got"
    v=$("$tmp/dest/opt/gsm/bin/gsmapper" --version 2>&1)
    if [ "$v" = "$("$GSM" --version)" ] && [[ $v == "gsmapper "[0-9]* ]]; then
      pass meson_install_binary_runs
    else
      fail meson_install_binary_runs "installed --version: $v"
    fi
    # man finds the installed pages through MANPATH.
    if command -v man >/dev/null 2>&1; then
      o=$(MANPATH="$tmp/dest/opt/gsm/share/man" MANWIDTH=80 man -P cat gsmapper-explain 2>&1)
      if grep -q -- '--output-file' <<<"$o"; then pass meson_install_man_renders; else
        fail meson_install_man_renders "man gsmapper-explain: $(head -c 300 <<<"$o")"; fi
    fi
  fi
fi

# --- versions and names that must agree --------------------------------------------------------
version=$(sed -n "s/^  version : '\([^']*\)'.*/\1/p" meson.build)
bin_version=$("$GSM" --version)
ok_v=true why=
[ "$bin_version" = "gsmapper $version" ] || { ok_v=false; why+="binary says '$bin_version', meson.build $version; "; }
deb_version=$(sed -n '1s/^gsmapper (\([^)]*\)).*/\1/p' debian/changelog)
[ "${deb_version%%-*}" = "$version" ] || { ok_v=false; why+="debian/changelog $deb_version; "; }
if $ok_v; then pass packaging_versions_agree; else fail packaging_versions_agree "$why"; fi
# The DaemonSet runs the image packaging/build-image.sh tags, whose ENTRYPOINT is the path the
# DaemonSet's IMAGE REQUIREMENT names.
ds_image=$(sed -n 's/^ *image: *\([^ ]*\).*/\1/p' deploy/kubernetes/daemonset.yaml | head -n 1)
built=$(sed -n 's/^image=\(.*\)$/\1/p' packaging/build-image.sh):$version
entry=$(sed -n 's/^ENTRYPOINT \["\([^"]*\)"\]$/\1/p' deploy/image/Containerfile)
if [ "$ds_image" = "$built" ] && [ "$entry" = /usr/local/bin/gsmapper ] &&
   grep -q "setcap cap_sys_ptrace,cap_dac_read_search=ep $entry" deploy/kubernetes/daemonset.yaml; then
  pass packaging_image_name_matches_daemonset
else
  fail packaging_image_name_matches_daemonset "daemonset $ds_image, build-image.sh $built, ENTRYPOINT $entry"
fi
