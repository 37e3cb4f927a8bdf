#!/usr/bin/env bash
# SIGKILL during bundle writes (issue 12, item 5). A memory cgroup (a child of our own, v1, limit
# 32 MiB) runs an OOM loop (`head -c 96M /dev/zero | tail -c 96M`, killed over and over), so
# `gsmapper watch --cgroup` sees an OOM kill every fraction of a second and writes a flight-recorder
# bundle for each (--dump-min-interval 0, --dump-quota 1 MiB; before each round the dump dir gets
# old bundles of 400 files, 400 KiB each, so every write rotates one or two out).
# KILL_ROUNDS times (default 200): start watch and SIGKILL it at a random moment: in half of the
# rounds within 1.5 bundle-write times after a temp directory appears (a write under way), in a
# quarter as soon as the oldest bundle starts losing files (rotation), else anywhere in the first
# 3 write times. Then look at the dump dir. What is under a final name (anything not starting with
# ".tmp-gsmapper-") must be a whole bundle: a directory with a MANIFEST, every file it lists there
# with the listed size, no file it does not list. Temp directories a kill leaves behind are
# allowed (readers skip dot-names; a later write removes them once 10 minutes old) and counted.
# Prints PASS/FAIL lines and one "RESULT bundle_kill ..." line.
# Env: GSMAPPER, KILL_ROUNDS, STRESS_OUT (keep the dump dir there).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
ROUNDS=${KILL_ROUNDS:-200}
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ]; then
  skip bundle_kill "needs root and our own cgroup under the v1 memory controller ($V1)"; exit 0
fi
rel=${own%/}/gsm-stress-bundle-$$
cg=$V1$rel
out=${STRESS_OUT:-}
[ -z "$out" ] && out=$(mktemp -d)
mkdir -p "$out"; rm -rf "$out/dump"; mkdir -m 700 "$out/dump"
cleanup() {
  for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
  [ -z "${STRESS_OUT:-}" ] && rm -rf "$out"
}
trap cleanup EXIT
mkdir "$cg" && echo $((32 << 20)) > "$cg/memory.limit_in_bytes" || { fail bundle_kill_setup "cannot make $cg"; exit 0; }
# The OOM loop: `head | tail` until tail is killed, again and again. The loop asks not to be the
# victim (oom_score_adj -1000, tail 0 again), but the kernel has been seen to kill it anyway, so
# the driver below starts it again when the cgroup is empty (and counts that).
loop_cmd='echo -1000 > /proc/self/oom_score_adj; echo $$ > '"$cg"'/cgroup.procs
  while :; do head -c 96M /dev/zero | sh -c "echo 0 > /proc/self/oom_score_adj; exec tail -c 96M" > /dev/null; sleep 0.05; done'
export loop_cmd

python3 - "$(realpath "$GSM")" "$rel" "$out/dump" "$ROUNDS" "$cg" <<'PY'
import os, random, re, signal, subprocess, sys, time
gsm, rel, dump, rounds, cg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def oom_kills():
    return int(re.search(r"oom_kill (\d+)", open(os.path.join(cg, "memory.oom_control")).read())[1])
kills0 = oom_kills()
loop_starts = 0
def ensure_loop():
    global loop_starts
    if not open(os.path.join(cg, "cgroup.procs")).read().split():
        subprocess.Popen(["bash", "-c", os.environ["loop_cmd"]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loop_starts += 1
        for _ in range(100):
            if open(os.path.join(cg, "cgroup.procs")).read().split():
                break
            time.sleep(0.02)
ensure_loop()
TMP = ".tmp-gsmapper-"
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)

def partial(d):
    """Why the final-named entry d is not a whole bundle, or None."""
    p = os.path.join(dump, d)
    if not os.path.isdir(p) or os.path.islink(p):
        return f"{d}: not a directory"
    try:
        man = open(os.path.join(p, "MANIFEST")).read().splitlines()
    except OSError as e:
        return f"{d}: no MANIFEST ({e.strerror})"
    listed = {}
    for l in man:
        m = re.fullmatch(r"(\S+) (\d+)", l)
        if m:   # "name bytes"; the notes after them are sentences
            listed[m[1]] = int(m[2])
    have = {}
    for root, dirs, files in os.walk(p):
        for f in files:
            rp = os.path.relpath(os.path.join(root, f), p)
            if rp != "MANIFEST":
                have[rp] = os.lstat(os.path.join(root, f)).st_size
    for f, n in listed.items():
        if f not in have:
            return f"{d}: {f} listed in MANIFEST, missing"
        if have[f] != n:
            return f"{d}: {f} has {have[f]} bytes, MANIFEST says {n}"
    extra = sorted(set(have) - set(listed))
    if extra:
        return f"{d}: files not in MANIFEST: {extra[:5]}"
    return None

SEED_FILES, SEED_BYTES = 400, 1024
seeds = 0
def seed(n):
    """n old bundles (the oldest times there are, so rotation takes them first) of SEED_FILES
    files each: with --dump-quota 1 MiB every new bundle rotates one or two of them out, and a
    kill in the middle of that would leave a partial one under its final name."""
    global seeds
    for _ in range(n):
        seeds += 1
        tmp = os.path.join(dump, f"{TMP}seed-{seeds}")
        os.mkdir(tmp, 0o700)
        man = []
        for k in range(SEED_FILES):
            with open(os.path.join(tmp, f"f{k:03d}"), "wb") as f:
                f.write(b"x" * SEED_BYTES)
            man.append(f"f{k:03d} {SEED_BYTES}")
        with open(os.path.join(tmp, "MANIFEST"), "w") as f:
            f.write("\n".join(man) + "\n")
        os.rename(tmp, os.path.join(dump, f"gsmapper-seed-{1000000 + seeds}"))

def n_seeds():
    return sum(n.startswith("gsmapper-seed-") for n in os.listdir(dump))

def start():
    return subprocess.Popen([gsm, "watch", "--cgroup", rel, "--interval", "0.2", "--dump-dir", dump,
                             "--dump-min-interval", "0", "--dump-quota", str(1 << 20), "-o", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

# Calibration: how long a bundle takes, from its temp dir to its final name.
w = start()
durations, seen_tmp = [], {}
t_end = time.time() + 30
while time.time() < t_end and len(durations) < 3:
    now = time.time()
    names = os.listdir(dump)
    for n in names:
        if n.startswith(TMP) and n not in seen_tmp:
            seen_tmp[n] = now
    finals = [n for n in names if not n.startswith(TMP)]
    for n in list(seen_tmp):
        if n not in names and seen_tmp[n] is not None:
            durations.append(now - seen_tmp[n]); seen_tmp[n] = None
    time.sleep(0.001)
os.killpg(w.pid, signal.SIGKILL); w.wait()
if not durations:
    check("bundle_kill_calibrate", False, "no bundle written within 30 s")
    sys.exit(0)
write_s = sorted(durations)[len(durations) // 2]
print(f"# a bundle takes {write_s * 1000:.0f} ms to write here (median of {len(durations)})", flush=True)

random.seed(os.getpid())
bad, leftovers, killed_during, kills, during_rotation = [], set(), 0, 0, 0
rotated = 0
for i in range(rounds):
    ensure_loop()
    if n_seeds() < 3:
        seed(3 - n_seeds())
    seeds_before = n_seeds()
    w = start()
    t0 = time.time()
    mode = (0.0, 0.0, 0.7, 0.9)[i % 4]   # the kinds below in turn: 2 of 4, 1 of 4, 1 of 4
    if mode < 0.6:   # wait for a temp dir (a write under way), up to 20 s; kill within 1.5 writes
        while time.time() - t0 < 20 and not any(n.startswith(TMP) and n not in leftovers for n in os.listdir(dump)):
            time.sleep(0.0005)
        time.sleep(random.uniform(0, 1.5 * write_s))
    elif mode < 0.85:   # kill as soon as the oldest seed bundle starts losing files (rotation)
        oldest = os.path.join(dump, min(n for n in os.listdir(dump) if n.startswith("gsmapper-seed-")))
        while time.time() - t0 < 20:
            try:
                if len(os.listdir(oldest)) < SEED_FILES + 1:
                    break
            except OSError:
                break
        during_rotation += 1
    else:   # anywhere
        time.sleep(random.uniform(0, 3 * write_s))
    busy = any(n.startswith(TMP) and n not in leftovers for n in os.listdir(dump))
    os.kill(w.pid, signal.SIGKILL)
    w.wait()
    kills += 1
    killed_during += busy
    time.sleep(0.05)
    try:
        os.killpg(w.pid, signal.SIGKILL)   # its explain/report children, if any are left
    except ProcessLookupError:
        pass
    rotated += seeds_before - n_seeds()
    for n in os.listdir(dump):
        if n.startswith(TMP):
            leftovers.add(n)
        else:
            why = partial(n)
            if why and why not in bad:
                bad.append(f"round {i}: {why}")
finals = [n for n in os.listdir(dump) if not n.startswith(TMP)]
check("bundle_kill_no_partial_bundle", not bad, "; ".join(bad[:5]))
check("bundle_kill_killed_during_writes", killed_during > 0, f"no kill landed while a temp dir was there ({kills} kills)")
check("bundle_kill_bundles_written", len(finals) > 0, "no bundle ever finished")
check("bundle_kill_rotation_exercised", rotated > 0, "no old bundle was rotated out")
check("bundle_kill_oom_loop_ran", oom_kills() > kills0, "no OOM kill in the cgroup")
print(f"RESULT bundle_kill rounds={kills} killed_while_temp_dir_present={killed_during} write_ms={write_s * 1000:.0f} "
      f"kills_when_rotation_began={during_rotation} seed_bundles_rotated={rotated} final_bundles_now={len(finals)} temp_dirs_left={len([n for n in os.listdir(dump) if n.startswith(TMP)])} "
      f"partial_final={len(bad)} oom_kills={oom_kills() - kills0} oom_loop_starts={loop_starts}", flush=True)
PY
