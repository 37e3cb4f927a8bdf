#!/usr/bin/env bash
# Builds the node-agent image from deploy/image/Containerfile without any container registry,
# then runs `gsmapper explain --self` inside it:
#   1. a Debian bookworm root filesystem from Debian's archive (debootstrap --variant=minbase,
#      with the build dependencies included so the build stage needs no network), cached as a
#      tarball under $GSM_IMAGE_DIR (default build/image);
#   2. imported as an image: `buildah from scratch`, the tarball unpacked into it, committed as
#      localhost/gsmapper-base:bookworm;
#   3. `buildah bud` with BASE=that image (vfs storage driver, no daemon; storage under
#      $GSM_IMAGE_DIR/storage);
#   4. the image tagged as deploy/kubernetes/daemonset.yaml names it (ghcr.io/gsmapper/gsmapper:
#      VERSION), run with `buildah run` (runc, as its USER 65532, the DaemonSet's two
#      capabilities): --version, explain --self, explain of a root process of the host with the
#      host's PID namespace, serve's /healthz and /metrics; its file capabilities read from the
#      image's tree;
#   5. saved as an OCI archive $GSM_IMAGE_DIR/gsmapper-VERSION.oci.tar (for `podman load`, `skopeo
#      copy oci-archive:...`, `ctr image import`).
# Root only. Prints PASS/FAIL lines and a summary (seconds, sizes). Exit 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
dir=$(realpath -m "${GSM_IMAGE_DIR:-build/image}")
mirror=${GSM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=$(sed -n "s/^  version : '\([^']*\)'.*/\1/p" meson.build)
image=ghcr.io/gsmapper/gsmapper
base=localhost/gsmapper-base:bookworm
deps="gcc libc6-dev meson ninja-build pkgconf libelf-dev libseccomp-dev libjson-c-dev libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev libcap2-bin"
mkdir -p "$dir"
B=(buildah --storage-driver vfs --root "$dir/storage" --runroot "$dir/run")
failed=0
f() { fail "$@"; failed=1; }
t0=$(date +%s)

[ "$(id -u)" -eq 0 ] || { skip image "needs root (debootstrap, buildah)"; exit 0; }
for c in debootstrap buildah; do
  command -v $c >/dev/null 2>&1 || { f image_tools "$c missing (scripts/install-deps.sh image)"; exit 1; }
done

# 1. The root filesystem.
tarball=$dir/debian-bookworm-build.tar
if [ ! -s "$tarball" ]; then
  rm -rf "$dir/rootfs"
  s=$(date +%s)
  if ! debootstrap --variant=minbase --include="$(tr ' ' , <<<"$deps")" bookworm "$dir/rootfs" "$mirror" \
      > "$dir/debootstrap.log" 2>&1; then
    f image_debootstrap "see $dir/debootstrap.log: $(tail -n 3 "$dir/debootstrap.log" | tr '\n' ' ')"; exit 1
  fi
  rm -rf "$dir/rootfs/var/cache/apt/archives/"*.deb "$dir/rootfs/var/lib/apt/lists/"*
  tar -C "$dir/rootfs" --numeric-owner --xattrs -cf "$tarball" . && rm -rf "$dir/rootfs"
  echo "# debootstrap: $(( $(date +%s) - s )) s, rootfs tarball $(du -m "$tarball" | cut -f1) MiB"
fi
pass image_rootfs

# 2. The base image.
if ! "${B[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  s=$(date +%s)
  ctr=$("${B[@]}" from scratch) && mnt=$("${B[@]}" mount "$ctr") &&
    tar -C "$mnt" --numeric-owner --xattrs -xf "$tarball" && "${B[@]}" umount "$ctr" >/dev/null &&
    "${B[@]}" config --cmd /bin/bash "$ctr" && "${B[@]}" commit -q "$ctr" "$base" >/dev/null ||
    { f image_base "importing the rootfs failed"; exit 1; }
  "${B[@]}" rm "$ctr" >/dev/null
  echo "# base image import: $(( $(date +%s) - s )) s"
fi
pass image_base

# 3. The build.
s=$(date +%s)
if ! "${B[@]}" bud --isolation chroot --network host --layers=false --build-arg BASE="$base" \
    -f deploy/image/Containerfile -t "$image:$version" -t "$image:latest" . > "$dir/build.log" 2>&1; then
  f image_build "buildah bud failed, see $dir/build.log: $(tail -n 5 "$dir/build.log" | tr '\n' ' ')"; exit 1
fi
build_s=$(( $(date +%s) - s ))
pass image_build
echo "# buildah bud: $build_s s"

# The DaemonSet runs this image name.
ds_image=$(sed -n 's/^ *image: *\([^ ]*\).*/\1/p' deploy/kubernetes/daemonset.yaml | head -n 1)
if [ "$ds_image" = "$image:$version" ]; then pass image_name_matches_daemonset; else
  f image_name_matches_daemonset "daemonset.yaml: $ds_image, built: $image:$version"; fi

# Working containers are removed on any exit; earlier builds' untagged images are pruned.
ctr=
trap '[ -z "$ctr" ] || "${B[@]}" rm "$ctr" >/dev/null 2>&1' EXIT
"${B[@]}" rmi --prune >/dev/null 2>&1 || true

# 4. Run it, with the DaemonSet's capabilities: the bounding set exactly {SYS_PTRACE,
# DAC_READ_SEARCH} (buildah's defaults dropped one by one: its --cap-drop ALL also drops what
# --cap-add adds), non-root (the image's USER), runc as in Kubernetes.
ctr=$("${B[@]}" from "$image:$version")
user=$("${B[@]}" inspect --type image -f '{{.OCIv1.Config.User}}' "$image:$version")
[ "$user" = "65532:65532" ] && pass image_non_root || f image_non_root "USER is '$user'"
run=(run)
command -v runc >/dev/null 2>&1 && run+=(--runtime runc) || run+=(--isolation chroot)
caps=()
for c in CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT NET_RAW MKNOD AUDIT_WRITE; do
  caps+=(--cap-drop "CAP_$c")
done
caps+=(--cap-add CAP_SYS_PTRACE --cap-add CAP_DAC_READ_SEARCH)
R=("${B[@]}" "${run[@]}" "${caps[@]}")
out=$("${R[@]}" "$ctr" -- /usr/local/bin/gsmapper --version 2>&1)
[ "$out" = "gsmapper $version" ] && pass image_version || f image_version "$out"
out=$("${R[@]}" "$ctr" -- /usr/local/bin/gsmapper explain --self -o json 2>&1)
if python3 -c 'import json,sys; d=json.load(sys.stdin); t=d["target"]; assert t["uid"] == 65532 and t["pid"] > 0 and d["totals"], t' <<<"$out" 2>/dev/null; then
  pass image_explain_self
else
  f image_explain_self "$(head -c 400 <<<"$out")"
fi
# hostPID as in the DaemonSet: uid 65532 explains a root process of the host, which needs the
# file capabilities (CAP_SYS_PTRACE) to be in effect.
sleep 120 &
victim=$!
out=$("${R[@]}" --pid host "$ctr" -- /usr/local/bin/gsmapper explain -o json --no-go-stats "$victim" 2>&1)
if python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["target"]["pid"] == int(sys.argv[1]) and d["target"]["uid"] == 0 and d["totals"]' "$victim" <<<"$out" 2>/dev/null; then
  pass image_host_pid_root_process
else
  f image_host_pid_root_process "$(head -c 400 <<<"$out")"
fi
kill "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
# Control: without CAP_SYS_PTRACE in the bounding set the kernel refuses to execute the binary
# (its file capabilities cannot be granted), so a pod missing `capabilities.add` fails to start
# instead of running blind.
out=$("${B[@]}" "${run[@]}" --cap-drop CAP_SYS_PTRACE "$ctr" -- /usr/local/bin/gsmapper --version 2>&1)
if grep -q 'operation not permitted' <<<"$out"; then pass image_needs_caps; else f image_needs_caps "ran without CAP_SYS_PTRACE: $out"; fi
# serve dlopen()s libmicrohttpd and answers /healthz and /metrics from inside the image.
port=$((19000 + RANDOM % 1000))
"${R[@]}" --network host "$ctr" -- /usr/local/bin/gsmapper serve \
  --listen 127.0.0.1:$port --quiet --interval 1 > "$dir/serve.log" 2>&1 &
srv=$!
code=
for _ in $(seq 1 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" 2>/dev/null) && [ "$code" = 200 ] && break
  sleep 0.2
done
metrics=$(curl -s "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -c '^gsmapper_' || true)
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
if [ "$code" = 200 ] && [ "${metrics:-0}" -gt 0 ]; then pass image_serve_healthz; else
  f image_serve_healthz "healthz $code, $metrics gsmapper_ samples: $(head -c 300 "$dir/serve.log")"; fi
mnt=$("${B[@]}" mount "$ctr")
caps=$(getcap "$mnt/usr/local/bin/gsmapper" 2>&1)
[ "${caps#* }" = "cap_dac_read_search,cap_sys_ptrace=ep" ] && pass image_file_capabilities ||
  f image_file_capabilities "getcap: $caps"
# Every library the binary and its two dlopen()ed libraries need resolves inside the image
# (the image's own dynamic loader and ld.so.cache, run in a chroot of its tree).
unresolved=
libs=$(cd "$mnt" && ls -d usr/lib/*/libmicrohttpd.so.12 usr/lib/*/libcurl.so.4 2>/dev/null)
[ "$(wc -w <<<"$libs")" -eq 2 ] || unresolved+="dlopen targets absent: [$libs] "
for lib in usr/local/bin/gsmapper $libs; do
  o=$(chroot "$mnt" /lib64/ld-linux-x86-64.so.2 --list "/$lib" 2>&1) || unresolved+="$lib(ld.so failed) "
  unresolved+=$(grep 'not found' <<<"$o" | awk -v l="$lib" '{ printf "%s:%s ", l, $1 }')
done
[ -z "$unresolved" ] && pass image_libraries_resolve || f image_libraries_resolve "$unresolved"
# Nothing but the closure: no shell, no package manager.
extra=$(cd "$mnt" && ls -d bin/sh usr/bin/apt usr/bin/dpkg bin/bash 2>/dev/null | tr '\n' ' ')
[ -z "$extra" ] && pass image_minimal || f image_minimal "present: $extra"
files=$(cd "$mnt" && find . -type f | wc -l)
tree_kib=$(du -sk "$mnt" | cut -f1)
"${B[@]}" umount "$ctr" >/dev/null
"${B[@]}" rm "$ctr" >/dev/null
ctr=

# 5. Export.
rm -f "$dir/gsmapper-$version.oci.tar"
"${B[@]}" push -q "$image:$version" "oci-archive:$dir/gsmapper-$version.oci.tar:$image:$version" >/dev/null 2>&1 &&
  pass image_oci_archive || f image_oci_archive "buildah push oci-archive failed"
size=$("${B[@]}" images --format '{{.Size}}' "$image:$version" | head -n 1)
echo "# image $image:$version: $size ($files files, $tree_kib KiB unpacked), OCI archive $(du -k "$dir/gsmapper-$version.oci.tar" 2>/dev/null | cut -f1) KiB; total $(( $(date +%s) - t0 )) s"
exit $failed
