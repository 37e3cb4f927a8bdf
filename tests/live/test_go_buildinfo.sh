#!/usr/bin/env bash
# Live: a Go program built in a git repository, with a dependency replaced by a local module,
# -ldflags and -tags: `explain` reports the Go version, main module, dependencies (with the
# replacement) and every build setting exactly as `go version -m` prints them.
set -u
. "$(dirname "$0")/../lib.sh"
if ! command -v go >/dev/null || ! command -v git >/dev/null; then
  skip go_buildinfo "needs go and git"; exit 0
fi
tmp=$(mktemp -d); trap 'stop_target; rm -rf "$tmp"' EXIT
export GOCACHE=${GSM_GOCACHE:-$PWD/build/.gocache} GOPATH=$tmp/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
mkdir -p "$tmp/dep" "$tmp/app"
cat > "$tmp/dep/go.mod" <<'M'
module example.com/dep

go 1.19
M
cat > "$tmp/dep/dep.go" <<'G'
package dep

func Hello() string { return "hello" }
G
cat > "$tmp/app/go.mod" <<'M'
module example.com/app

go 1.19

require example.com/dep v1.2.3

replace example.com/dep v1.2.3 => ../dep
M
cat > "$tmp/app/main.go" <<'G'
package main

import (
	"bufio"
	"fmt"
	"os"

	"example.com/dep"
)

var version = "dev"

func main() {
	fmt.Println("READY", os.Getpid(), dep.Hello(), version)
	bufio.NewReader(os.Stdin).ReadString('\n')
}
G
( cd "$tmp/app" && git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init &&
  go build -tags 'netgo,osusergo' -ldflags '-X main.version=1.2.3-test -s -w' -o app . ) > "$tmp/build.log" 2>&1 ||
  { fail go_buildinfo_build "$(tail -5 "$tmp/build.log")"; exit 0; }
go version -m "$tmp/app/app" > "$tmp/gover.txt"
start_target "$tmp/app/app" || { fail go_buildinfo_start "did not start"; exit 0; }
"$GSM" explain "$TARGET_PID" -o json > "$tmp/out.json" || { fail go_buildinfo_explain "explain failed"; exit 0; }
python3 - "$tmp/out.json" "$tmp/gover.txt" <<'PY'
import json, sys
go = json.load(open(sys.argv[1]))["target"]["go"]
lines = open(sys.argv[2]).read().splitlines()
version = lines[0].split(": ", 1)[1]
want = {"deps": [], "settings": {}}
for l in lines[1:]:
    f = l.strip("\t").split("\t")
    if f[0] == "path": want["path"] = f[1]
    elif f[0] == "mod": want["mod"] = f[1:3]
    elif f[0] == "dep": want["deps"].append({"path": f[1], "version": f[2], "replace": None})
    elif f[0] == "=>": want["deps"][-1]["replace"] = f[1]
    elif f[0] == "build":
        k, v = f[1].split("=", 1)
        want["settings"][k] = json.loads(v) if v.startswith('"') else v
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
check("go_buildinfo_version", go["version"] == version, f'{go["version"]} != {version}')
check("go_buildinfo_package", go["main_package"] == want["path"], f'{go["main_package"]} != {want["path"]}')
mm = go["main_module"]
check("go_buildinfo_module", [mm["path"], mm["version"]] == want["mod"], f"{mm} != {want['mod']}")
got_deps = [{"path": d["path"], "version": d["version"], "replace": (d.get("replace") or {}).get("path")} for d in go["deps"]]
check("go_buildinfo_deps", got_deps == want["deps"], f"{got_deps} != {want['deps']}")
check("go_buildinfo_settings", go["build_settings"] == want["settings"], f'{go["build_settings"]} != {want["settings"]}')
check("go_buildinfo_has_ldflags_vcs", "-ldflags" in want["settings"] and "vcs.revision" in want["settings"], str(want["settings"]))
PY
