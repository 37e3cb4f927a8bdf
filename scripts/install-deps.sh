#!/usr/bin/env bash
# Installs the Debian packages gsmapper's build, tests, demo and benchmarks need.
# Idempotent: packages already present are skipped; `apt-get update` runs at most once,
# and only when something is missing.
#   install-deps.sh           build, tests, demo, benchmarks
#   install-deps.sh package   + the .deb build and its checks (make package, make package-test)
#   install-deps.sh image     + the container image build (make image)
#   install-deps.sh scenarios + the other runtimes of the watch scenarios (make scenarios: Node.js)
set -euo pipefail

PKGS=(
  # build
  gcc clang meson ninja-build pkg-config
  libelf-dev libseccomp-dev libjson-c-dev libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev
  libsqlite3-dev sqlite3  # --history (sqlite3: the CLI the history test checks the file with)
  # tests and demo targets (Go is used for test targets only, never inside gsmapper)
  golang-go procps curl xz-utils binutils time git util-linux python3
  # allocator tests (tests/live/test_allocators.sh): malloc replacements and a jemalloc service
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev musl-tools redis-server redis-tools
  # benchmarks: the alternatives we compare against
  smem hyperfine prometheus-process-exporter
  prometheus  # promtool, for the deploy/ rule and config checks
  # packaging tests (tests/cli/test_packaging.sh): man page lint, the completions' own shells
  mandoc groff-base man-db bash-completion zsh fish
  # report tests: the page is loaded and driven in a real browser (headless, DevTools over a pipe)
  chromium
)
for group in "$@"; do
  case $group in
  package) PKGS+=(debhelper dpkg-dev fakeroot lintian libcap2-bin systemd) ;;
  image) PKGS+=(debootstrap buildah runc curl) ;;
  scenarios) PKGS+=(nodejs) ;;
  *) echo "install-deps: unknown group '$group' (package, image, scenarios)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
