#!/usr/bin/env bash
# The layers (docs/ARCHITECTURE.md): util -> proto -> model -> readers -> store -> analyses -> renderers ->
# engine -> recorder -> cmd. Includes only go downward, analyses do no I/O, and the build's
# layer-check libraries (meson.build: each layer linked with -Wl,--no-undefined against the
# layers below it alone) exist, which means every layer's calls resolved downward. The mechanism
# itself is shown to refuse an upward call.
set -u
. "$(dirname "$0")/../lib.sh"
src=$TESTS_DIR/../src

declare -A allowed=(
  [util]="util"
  [model]="model util"
  [readers]="readers model util proto"
  [store]="store model util"
  [analyses]="analyses model util"
  [renderers]="renderers analyses model util proto"
  [engine]="engine readers analyses model util proto"
  [recorder]="recorder engine renderers readers analyses model util proto"
  [cmd]="cmd store recorder engine renderers readers analyses model util proto"
)
for layer in "${!allowed[@]}"; do
  bad=""
  while IFS= read -r line; do
    file=${line%%:*}; inc=${line#*#include \"}; dir=${inc%%/*}
    case " ${allowed[$layer]} " in *" $dir "*) ;; *) bad="$bad ${file#$src/}->$dir";; esac
  done < <(grep -H '#include "[a-z_]*/' "$src/$layer"/*.[ch] 2>/dev/null)
  if [ -z "$bad" ]; then pass "includes_downward_$layer"; else fail "includes_downward_$layer" "upward:$bad"; fi
done

# analyses/ computes on what was read: no file, directory or HTTP call (comments and strings
# stripped).
io=$(for f in "$src"/analyses/*.c; do
       sed -e 's://.*$::' "$f" | perl -0pe 's:/\*.*?\*/::gs; s/"(\\.|[^"\\\n])*"//g' |
         grep -nE '\b(open|openat|fopen|fdopen|opendir|read|pread|readlink|readlinkat|stat|fstatat|curl_easy_[a-z]+)\s*\(' |
         sed "s|^|$(basename "$f"):|"
     done)
if [ -z "$io" ]; then pass analyses_no_io; else fail analyses_no_io "$(head -3 <<<"$io" | tr '\n' ' ')"; fi

builddir=$(dirname "$GSM")
if [ ! -f "$builddir/libgsm_analyses.a" ]; then
  skip layer_link_checks "no layer libraries beside $GSM"
elif [ ! -f "$builddir/libgsm_layercheck_cmd.so" ]; then
  skip layer_link_checks "$builddir is a sanitizer or fuzz build: the link check runs in the plain build"
else
  missing=""
  for layer in util proto model readers store analyses renderers engine recorder cmd; do
    [ -f "$builddir/libgsm_layercheck_$layer.so" ] || missing="$missing $layer"
  done
  if [ -z "$missing" ]; then pass layer_link_checks_built; else fail layer_link_checks_built "missing:$missing"; fi
  # The mechanism: analyses + model + util link alone; add one call into readers/ and it must not.
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  printf 'struct gsm_root; struct gsm_meminfo;\nint gsm_meminfo_read(const struct gsm_root *r, struct gsm_meminfo *m);\nint probe(void) { return gsm_meminfo_read(0, 0); }\n' > "$tmp/up.c"
  printf 'int probe(void) { return 0; }\n' > "$tmp/ok.c"
  link() {
    cc -shared -fPIC -o "$tmp/out.so" "$1" -Wl,--no-undefined -Wl,--whole-archive "$builddir/libgsm_analyses.a" \
      -Wl,--no-whole-archive "$builddir/libgsm_model.a" "$builddir/libgsm_util.a" \
      $(pkg-config --libs json-c libelf libprotobuf-c zlib) -lm -pthread 2> "$tmp/err"
  }
  if link "$tmp/ok.c"; then pass layer_link_analyses_alone; else fail layer_link_analyses_alone "$(head -2 "$tmp/err")"; fi
  if ! link "$tmp/up.c" && grep -q "undefined reference to .gsm_meminfo_read" "$tmp/err"; then
    pass layer_link_refuses_upward_call
  else
    fail layer_link_refuses_upward_call "an analysis calling a reader linked"
  fi
fi
