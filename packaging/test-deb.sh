#!/usr/bin/env bash
# Installs the .deb on this machine and checks it, then purges it:
#   packaging/test-deb.sh [DEB]     (default build/package/gsmapper_*.deb)
# First from `dpkg-deb -x` (nothing installed): the binary runs. Then a real install (apt-get
# install ./DEB, which also brings missing dependencies), and: --version and explain --self of
# /usr/bin/gsmapper, the postinst's owner, mode and file capabilities, that a member of the
# gsmapper group (and no one else) gets CAP_SYS_PTRACE (it explains PID 1 as uid 65534), the man
# pages and completions where man and bash-completion look, `systemd-analyze verify` of the unit,
# and that `dpkg --purge` leaves nothing behind. Root only (it installs a package). The service
# is enabled by the postinst but started only where systemd is PID 1.
# Prints PASS/FAIL/SKIP lines (tests/lib.sh); exit 1 on any FAIL.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
deb=${1:-$(ls build/package/gsmapper_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || { fail deb_exists "no .deb (run make package)"; exit 1; }
deb=$(realpath "$deb")
[ "$(id -u)" -eq 0 ] || { skip deb_install "needs root"; exit 0; }
tmp=$(mktemp -d)
failed=0
f() { fail "$@"; failed=1; }
ok() { local n=$1; shift; if "$@"; then pass "$n"; else f "$n" "$*"; fi; }
version=$(dpkg-deb -f "$deb" Version)
group_existed=false
getent group gsmapper >/dev/null && group_existed=true
if dpkg-query -W -f='${Status}' gsmapper 2>/dev/null | grep -q 'install ok installed'; then
  f deb_not_installed_before "a gsmapper package is installed already; dpkg -P gsmapper first"
  exit 1
fi
cleanup() {
  dpkg --purge gsmapper >/dev/null 2>&1
  $group_existed || { getent group gsmapper >/dev/null && groupdel gsmapper; }
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- extracted, not installed ------------------------------------------------------------------
dpkg-deb -x "$deb" "$tmp/x"
ok deb_extracted_version [ "$("$tmp/x/usr/bin/gsmapper" --version)" = "gsmapper $version" ]
if out=$("$tmp/x/usr/bin/gsmapper" explain --self -o json 2>&1) &&
   [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["target"]["pid"])' <<<"$out" 2>/dev/null)" -gt 0 ] 2>/dev/null; then
  pass deb_extracted_explain_self
else
  f deb_extracted_explain_self "$(head -c 300 <<<"$out")"
fi

# --- installed ---------------------------------------------------------------------------------
start=$(date +%s)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" > "$tmp/install.log" 2>&1; then
  f deb_install "apt-get install $deb: $(tail -n 10 "$tmp/install.log" | tr '\n' ' ')"
  exit 1
fi
pass deb_install
echo "# installed in $(( $(date +%s) - start )) s"
B=/usr/bin/gsmapper
ok deb_version [ "$($B --version)" = "gsmapper $version" ]
ok deb_on_path [ "$(command -v gsmapper)" = "$B" ]
if out=$(gsmapper explain --self -o json 2>&1); then
  pid=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["target"]["pid"])' <<<"$out" 2>/dev/null)
  if [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null; then pass deb_explain_self; else f deb_explain_self "no process.pid in: $(head -c 300 <<<"$out")"; fi
else
  f deb_explain_self "$(head -c 300 <<<"$out")"
fi
ok deb_owner_mode [ "$(stat -c '%U:%G %a' $B)" = "root:gsmapper 750" ]
caps=$(getcap $B 2>&1)
ok deb_file_capabilities [ "${caps#* }" = "cap_dac_read_search,cap_sys_ptrace=ep" ]

# The capabilities at work: uid 65534 reads a root process's smaps only with CAP_SYS_PTRACE.
# (The exec happens in an unprivileged sh: setpriv itself still holds root's capabilities.)
gid=$(getent group gsmapper | cut -d: -f3)
if command -v setpriv >/dev/null 2>&1 && [ -n "$gid" ]; then
  sleep 120 &
  victim=$!
  as_nobody() { local g=$1; shift; setpriv --reuid=65534 --regid="$g" --clear-groups sh -c 'exec "$@"' sh "$@"; }
  if out=$(as_nobody "$gid" $B explain -o json --no-go-stats "$victim" 2>&1) &&
     python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["target"]["pid"] == int(sys.argv[1]) and d["totals"]' "$victim" <<<"$out" 2>/dev/null; then
    pass deb_group_member_has_caps
  else
    f deb_group_member_has_caps "uid 65534 in group gsmapper: explain $victim (root's): $(head -c 300 <<<"$out")"
  fi
  # Positive controls: without the group the binary does not execute (126), and an
  # unprivileged copy (no file capabilities) is refused the root process's smaps (exit 4).
  as_nobody 65534 $B --version >/dev/null 2>&1
  ok deb_others_cannot_execute [ $? -eq 126 ]
  cp $B "$tmp/plain" && chmod 0755 "$tmp" "$tmp/plain"
  as_nobody 65534 "$tmp/plain" explain -o json --no-go-stats "$victim" >/dev/null 2>&1
  ok deb_without_caps_denied [ $? -eq 4 ]
  # As gsmapper.service runs it: a dynamic (non-root) uid with SupplementaryGroups=gsmapper,
  # NoNewPrivileges=yes and the unit's AmbientCapabilities=. Under no_new_privs the file
  # capabilities grant only what the process already holds (the ambient ones), so the unit
  # works with the setcap'd binary; without them (control) the same exec is refused smaps.
  amb=$(sed -n 's/^AmbientCapabilities=//p' /lib/systemd/system/gsmapper.service |
    tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ \+/,/g; s/ *$//')
  unit_run() {
    setpriv --reuid=61000 --regid=61000 --groups="$gid" --no-new-privs "$@" \
      sh -c 'exec "$@"' sh $B explain -o json --no-go-stats "$victim"
  }
  if [ -n "$amb" ] && out=$(unit_run --inh-caps="$amb" --ambient-caps="$amb" 2>&1) &&
     python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["target"]["pid"] == int(sys.argv[1])' "$victim" <<<"$out" 2>/dev/null; then
    pass deb_unit_credentials
  else
    f deb_unit_credentials "ambient '$amb', no_new_privs: $(head -c 300 <<<"$out")"
  fi
  unit_run >/dev/null 2>&1
  ok deb_unit_credentials_control [ $? -eq 4 ]
  kill "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
else
  skip deb_group_member_has_caps "setpriv (util-linux) missing"
fi

cmds=$($B --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
[ "$(wc -w <<<"$cmds")" -ge 4 ] || f deb_commands "gsmapper --help lists: $cmds"
for p in gsmapper $(sed 's/^/gsmapper-/' <<<"$cmds"); do
  [ "$(man -w "$p" 2>/dev/null)" = "/usr/share/man/man1/$p.1.gz" ] || f deb_man_$p "man -w $p: $(man -w "$p" 2>&1)"
done
o=$(MANWIDTH=80 man -P cat gsmapper-watch 2>&1)
if grep -q -- '--rollup-budget-ms' <<<"$o"; then pass deb_man_pages; else f deb_man_pages "man gsmapper-watch: $(head -c 200 <<<"$o")"; fi
if [ -f /usr/share/bash-completion/bash_completion ]; then
  o=$(bash -c '. /usr/share/bash-completion/bash_completion; __load_completion gsmapper && complete -p gsmapper' 2>&1)
  ok deb_bash_completion_loads [ "$o" = "complete -F _gsmapper gsmapper" ]
fi
ok deb_zsh_completion [ -f /usr/share/zsh/vendor-completions/_gsmapper ]
ok deb_conffile [ -f /etc/default/gsmapper ]
unit=/lib/systemd/system/gsmapper.service
if command -v systemd-analyze >/dev/null 2>&1; then
  if out=$(systemd-analyze verify "$unit" 2>&1) && [ -z "$out" ]; then
    pass deb_systemd_verify
  else
    f deb_systemd_verify "$(tr '\n' ' ' <<<"$out")"
  fi
else
  skip deb_systemd_verify "systemd-analyze missing"
fi
ok deb_unit_paths grep -qx 'ExecStart=/usr/bin/gsmapper serve .*' "$unit"
ok deb_unit_group grep -qx 'SupplementaryGroups=gsmapper' "$unit"
ok deb_unit_enabled [ -L /etc/systemd/system/multi-user.target.wants/gsmapper.service ]

# --- purge -------------------------------------------------------------------------------------
dpkg --purge gsmapper > "$tmp/purge.log" 2>&1 || f deb_purge "$(tail -n 5 "$tmp/purge.log")"
left=
for p in $B $unit /etc/default/gsmapper /usr/share/man/man1/gsmapper.1.gz \
         /etc/systemd/system/multi-user.target.wants/gsmapper.service; do
  [ -e "$p" ] && left+="$p "
done
if [ -z "$left" ]; then pass deb_purge_clean; else f deb_purge_clean "left behind: $left"; fi
exit $failed
