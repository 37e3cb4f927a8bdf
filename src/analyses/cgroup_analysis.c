#include "analyses/cgroup_analysis.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- (a) Effective limit ------------------------------------------------------------- */

void gsm_cg_effective_free(struct gsm_cg_effective *e) {
    if (!e)
        return;
    free(e->max.path);
    free(e->high.path);
    e->max.path = e->high.path = NULL;
}

/* The smallest finite limit; on a tie the nearest level. */
static int bind_min(const struct gsm_cg_level *levels, size_t n, bool high, struct gsm_cg_binding *ret) {
    struct gsm_cg_binding b = {.bytes = UINT64_MAX};
    for (size_t i = 0; i < n; i++) {
        const struct gsm_cg_limit *l = high ? &levels[i].high : &levels[i].max;
        b.unknown = b.unknown || l->malformed;
        if (!l->have || l->unlimited || (b.limited && l->bytes >= b.bytes))
            continue;
        b.limited = true;
        b.bytes = l->bytes;
        b.level = i;
    }
    if (b.limited && levels[b.level].path && !(b.path = strdup(levels[b.level].path)))
        return -ENOMEM;
    *ret = b;
    return 0;
}

int gsm_cg_effective_from_levels(const struct gsm_cg_level *levels, size_t n,
                                 const struct gsm_cg_limit *v1_hierarchical, struct gsm_cg_effective *ret) {
    struct gsm_cg_effective e = {.n_levels = n, .high = {.bytes = UINT64_MAX}};
    int r;
    if (v1_hierarchical && v1_hierarchical->have) {
        /* v1: the kernel computed it (mm/memcontrol-v1.c: memcg1_stat_format() takes the
         * minimum of memory.max over the ancestors); find the nearest level that set it. */
        e.max = (struct gsm_cg_binding){.bytes = UINT64_MAX, .unknown = v1_hierarchical->malformed};
        if (!v1_hierarchical->unlimited) {
            e.max.limited = true;
            e.max.bytes = v1_hierarchical->bytes;
            for (size_t i = 0; i < n; i++) {
                const struct gsm_cg_limit *l = &levels[i].max;
                if (l->have && !l->unlimited && l->bytes == e.max.bytes) {
                    e.max.level = i;
                    if (levels[i].path && !(e.max.path = strdup(levels[i].path)))
                        return -ENOMEM;
                    break;
                }
            }
        }
        *ret = e;
        return 0;
    }
    if ((r = bind_min(levels, n, false, &e.max)) < 0)
        return r;
    if ((r = bind_min(levels, n, true, &e.high)) < 0) {
        gsm_cg_effective_free(&e);
        return r;
    }
    *ret = e;
    return 0;
}

int gsm_cgroup_effective_limits(const struct gsm_cgroup_location *loc, const struct gsm_cgroup_memory *mem,
                                const struct gsm_cg_ancestry *anc, struct gsm_cg_effective *ret) {
    _cleanup_free_ struct gsm_cg_level *levels = calloc(anc->n + 1, sizeof *levels);
    if (!levels)
        return -ENOMEM;
    levels[0] = (struct gsm_cg_level){.path = loc->path, .max = mem->max, .high = mem->high};
    for (size_t i = 0; i < anc->n; i++)
        levels[i + 1] = anc->levels[i];

    struct gsm_cg_limit hier = {0};
    const struct gsm_cg_limit *hp = NULL;
    if (loc->version == GSM_CGROUP_V1 && mem->stat.have && mem->stat.have_v1[GSM_CG1_HIERARCHICAL_MEMORY_LIMIT]) {
        uint64_t v = mem->stat.v1[GSM_CG1_HIERARCHICAL_MEMORY_LIMIT];
        hier.have = true;
        hier.unlimited = v >= GSM_CG1_UNLIMITED_BYTES;
        hier.bytes = hier.unlimited ? UINT64_MAX : v;
        hp = &hier;
    }
    struct gsm_cg_effective e;
    int r = gsm_cg_effective_from_levels(levels, anc->n + 1, hp, &e);
    if (r < 0)
        return r;
    e.complete = anc->reached_top && loc->top_is_root;
    *ret = e;
    return 0;
}

/* ---- (b) Breakdown ------------------------------------------------------------------- */

static const char *const part_names[GSM_CG_PART__COUNT] = {
#define X(id, name) [GSM_CG_PART_##id] = name,
    GSM_CG_PARTS(X)
#undef X
};

static void set_part(struct gsm_cg_breakdown *b, enum gsm_cg_part p, bool have, uint64_t bytes, const char *formula) {
    b->parts[p].have = have;
    b->parts[p].bytes = have ? bytes : 0;
    b->parts[p].formula = formula;
}

/* Saturating arithmetic: a sum held at 2^64 - 1, a difference at 0; *sat records that it
 * happened (only malformed input gets there: 2^64 bytes is 16 EiB). */
static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
static uint64_t sat_add_flag(uint64_t a, uint64_t b, bool *sat) {
    if (a > UINT64_MAX - b) {
        *sat = true;
        return UINT64_MAX;
    }
    return a + b;
}

int gsm_cgroup_breakdown(const struct gsm_cgroup_memory *m, struct gsm_cg_breakdown *ret) {
    if (!m->usage_bytes.have || !m->stat.have)
        return -ENODATA;
    const struct gsm_cg_stat *s = &m->stat;
    struct gsm_cg_breakdown b = {.version = m->version, .usage_bytes = m->usage_bytes.value};
    for (size_t i = 0; i < GSM_CG_PART__COUNT; i++) {
        b.parts[i].name = part_names[i];
        b.parts[i].formula = "";
    }
    b.parts[GSM_CG_PART_FILE_ACTIVE].reclaimable = true;
    b.parts[GSM_CG_PART_FILE_INACTIVE].reclaimable = true;
    b.parts[GSM_CG_PART_SLAB_RECLAIMABLE].reclaimable = true;
    for (int k = GSM_CG_PART_SLAB_RECLAIMABLE; k <= GSM_CG_PART_KERNEL_OTHER; k++)
        b.parts[k].kernel = true;

    uint64_t inactive_file = 0;
    bool have_inactive_file = false;

    if (m->version == GSM_CGROUP_V2) {
        const uint64_t *v = s->v2;
        const bool *h = s->have_v2;
        b.usage_formula = "memory.current";
#define P(part, key, formula) set_part(&b, GSM_CG_PART_##part, h[GSM_CG2_##key], v[GSM_CG2_##key], formula)
        P(ANON, ANON, "memory.stat:anon");
        P(FILE_ACTIVE, ACTIVE_FILE, "memory.stat:active_file");
        P(FILE_INACTIVE, INACTIVE_FILE, "memory.stat:inactive_file");
        P(SHMEM, SHMEM, "memory.stat:shmem");
        P(SLAB_RECLAIMABLE, SLAB_RECLAIMABLE, "memory.stat:slab_reclaimable");
        P(SLAB_UNRECLAIMABLE, SLAB_UNRECLAIMABLE, "memory.stat:slab_unreclaimable");
        P(SOCK, SOCK, "memory.stat:sock");
        P(KERNEL_STACK, KERNEL_STACK, "memory.stat:kernel_stack");
        P(PERCPU, PERCPU, "memory.stat:percpu");
        P(VMALLOC, VMALLOC, "memory.stat:vmalloc");
#undef P
        set_part(&b, GSM_CG_PART_PAGETABLES, h[GSM_CG2_PAGETABLES],
                 sat_add_flag(v[GSM_CG2_PAGETABLES], h[GSM_CG2_SEC_PAGETABLES] ? v[GSM_CG2_SEC_PAGETABLES] : 0,
                              &b.saturated),
                 h[GSM_CG2_SEC_PAGETABLES] ? "memory.stat:pagetables + sec_pagetables" : "memory.stat:pagetables");
        /* "kernel" (5.18+) covers slab, stacks, page tables, percpu, vmalloc and the rest of
         * __GFP_ACCOUNT allocations; sock is charged beside it. */
        if (h[GSM_CG2_KERNEL]) {
            uint64_t named = 0;
            for (int k = GSM_CG_PART_SLAB_RECLAIMABLE; k <= GSM_CG_PART_VMALLOC; k++)
                if (k != GSM_CG_PART_SOCK)
                    named = sat_add_flag(named, b.parts[k].bytes, &b.saturated);
            set_part(&b, GSM_CG_PART_KERNEL_OTHER, true, sat_sub(v[GSM_CG2_KERNEL], named),
                     "memory.stat:kernel - (slab_reclaimable + slab_unreclaimable + pagetables + "
                     "sec_pagetables + kernel_stack + percpu + vmalloc), floor 0");
        }
        have_inactive_file = h[GSM_CG2_INACTIVE_FILE];
        inactive_file = v[GSM_CG2_INACTIVE_FILE];
        b.swap_bytes = m->swap_usage_bytes;
        b.swap_formula = "memory.swap.current (not part of memory.current)";
        b.working_set_formula = "memory.current - memory.stat:inactive_file, floor 0";
        b.reclaimable_formula = "memory.stat:active_file + inactive_file + slab_reclaimable";
    } else {
        const uint64_t *v = s->v1;
        const bool *h = s->have_v1;
        b.usage_formula = "memory.usage_in_bytes";
#define P(part, key, formula) set_part(&b, GSM_CG_PART_##part, h[GSM_CG1_##key], v[GSM_CG1_##key], formula)
        P(ANON, TOTAL_RSS, "memory.stat:total_rss");
        P(FILE_ACTIVE, TOTAL_ACTIVE_FILE, "memory.stat:total_active_file");
        P(FILE_INACTIVE, TOTAL_INACTIVE_FILE, "memory.stat:total_inactive_file");
        P(SHMEM, TOTAL_SHMEM, "memory.stat:total_shmem");
#undef P
        /* v1 charges kernel memory to usage_in_bytes too, but memory.stat has no split; tcp
         * buffers go to the separate kmem.tcp counter, not to usage. */
        set_part(&b, GSM_CG_PART_KERNEL_OTHER, m->kmem_usage_bytes.have, m->kmem_usage_bytes.value,
                 "memory.kmem.usage_in_bytes (v1 has no slab/stack split)");
        have_inactive_file = h[GSM_CG1_TOTAL_INACTIVE_FILE];
        inactive_file = v[GSM_CG1_TOTAL_INACTIVE_FILE];
        if (h[GSM_CG1_TOTAL_SWAP]) {
            b.swap_bytes = (struct gsm_cg_value){true, v[GSM_CG1_TOTAL_SWAP]};
            b.swap_formula = "memory.stat:total_swap";
        } else if (m->memsw_usage_bytes.have) {
            b.swap_bytes = (struct gsm_cg_value){true, sat_sub(m->memsw_usage_bytes.value, b.usage_bytes)};
            b.swap_formula = "memory.memsw.usage_in_bytes - memory.usage_in_bytes";
        } else {
            b.swap_formula = "";
        }
        b.working_set_formula = "memory.usage_in_bytes - memory.stat:total_inactive_file, floor 0";
        b.reclaimable_formula = "memory.stat:total_active_file + total_inactive_file";
    }

    uint64_t named = 0;
    for (int k = 0; k < GSM_CG_PART_OTHER; k++)
        named = sat_add_flag(named, b.parts[k].bytes, &b.saturated);
    if (named > b.usage_bytes) {
        b.overcounted = true;
        /* From a sum held at 2^64 - 1 the difference means nothing: 0, and saturated says why. */
        b.excess_bytes = b.saturated ? 0 : named - b.usage_bytes;
    }
    set_part(&b, GSM_CG_PART_OTHER, true, sat_sub(b.usage_bytes, named),
             m->version == GSM_CGROUP_V2 ? "memory.current - sum of the parts above, floor 0"
                                         : "memory.usage_in_bytes - sum of the parts above, floor 0");

    b.working_set_bytes = have_inactive_file ? sat_sub(b.usage_bytes, inactive_file) : b.usage_bytes;
    uint64_t recl = 0;
    for (int k = 0; k < GSM_CG_PART__COUNT; k++)
        if (b.parts[k].reclaimable)
            recl = sat_add_flag(recl, b.parts[k].bytes, &b.saturated);
    b.reclaimable_bytes = recl > b.usage_bytes ? b.usage_bytes : recl;
    b.unreclaimable_bytes = b.usage_bytes - b.reclaimable_bytes;
    b.anon_swappable_bytes =
        sat_add_flag(b.parts[GSM_CG_PART_ANON].bytes, b.parts[GSM_CG_PART_SHMEM].bytes, &b.saturated);
    *ret = b;
    return 0;
}

/* ---- (c) Container identity ---------------------------------------------------------- */

const char *gsm_k8s_qos_name(enum gsm_k8s_qos q) {
    switch (q) {
    case GSM_QOS_GUARANTEED: return "guaranteed";
    case GSM_QOS_BURSTABLE: return "burstable";
    case GSM_QOS_BESTEFFORT: return "besteffort";
    default: return "";
    }
}

const char *gsm_container_runtime_name(enum gsm_container_runtime r) {
    switch (r) {
    case GSM_RUNTIME_UNKNOWN: return "unknown";
    case GSM_RUNTIME_DOCKER: return "docker";
    case GSM_RUNTIME_CONTAINERD: return "containerd";
    case GSM_RUNTIME_CRIO: return "cri-o";
    case GSM_RUNTIME_PODMAN: return "podman";
    default: return "";
    }
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

static bool starts_with(const char *s, size_t len, const char *prefix) {
    size_t pl = strlen(prefix);
    return len >= pl && memcmp(s, prefix, pl) == 0;
}

/* A container id: 12..64 lowercase hex digits. */
static bool is_container_id(const char *s, size_t len) {
    if (len < 12 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A pod UID: a UUID (with '-' or, from the systemd driver, '_') or 32 hex digits (static
 * pods' config hash). Copies it with '_' -> '-' into out. */
static bool take_pod_uid(const char *s, size_t len, char *out, size_t outsz) {
    if (len < 32 || len > 36 || len >= outsz)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '_')
            c = '-';
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
            return false;
        out[i] = c;
    }
    out[len] = '\0';
    return true;
}

static void copy_comp(char *dst, size_t dstsz, const char *s, size_t len) {
    if (len >= dstsz)
        len = dstsz - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

/* "<prefix><id><suffix>" -> id, when the middle is a container id. */
static bool match_id(const char *c, size_t len, const char *prefix, const char *suffix, const char **ret_id,
                     size_t *ret_len) {
    if (!starts_with(c, len, prefix) || !ends_with(c, len, suffix))
        return false;
    size_t pl = strlen(prefix), sl = strlen(suffix);
    if (len < pl + sl)
        return false;
    if (!is_container_id(c + pl, len - pl - sl))
        return false;
    *ret_id = c + pl;
    *ret_len = len - pl - sl;
    return true;
}

int gsm_container_identity_parse(const char *cgroup_path, struct gsm_container_identity *ret) {
    if (!cgroup_path || cgroup_path[0] != '/')
        return -EINVAL;
    struct gsm_container_identity id = {0};
    bool in_kubepods_dir = false;    /* cgroupfs driver: below a "kubepods" directory */
    bool prev_was_pod = false, prev_was_docker = false;

    const char *p = cgroup_path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *c = p;
        const char *e = strchrnul(p, '/');
        size_t len = (size_t)(e - c);
        p = e;
        bool this_is_pod = false, this_is_docker = false;

        if (ends_with(c, len, ".slice"))
            copy_comp(id.slice, sizeof id.slice, c, len);
        else if (ends_with(c, len, ".service") || ends_with(c, len, ".scope"))
            copy_comp(id.unit, sizeof id.unit, c, len);

        const char *cid = NULL;
        size_t cid_len = 0;
        enum gsm_container_runtime rt = GSM_RUNTIME_NONE;
        bool helper = false;
        const char *kp = memmem(c, len, "kubepods", 8);

        if (kp && ends_with(c, len, ".slice")) {
            /* systemd driver: kubepods[-qos]-pod<uid_with_underscores>.slice, possibly with a
             * cgroup-root prefix ("kubelet-kubepods-..."). */
            id.in_kubernetes = true;
            size_t rest = len - (size_t)(kp - c);
            const char *pod = memmem(kp, rest, "-pod", 4);
            if (pod) {
                const char *u = pod + 4;
                size_t ulen = (size_t)(c + len - strlen(".slice") - u);
                if (take_pod_uid(u, ulen, id.pod_uid, sizeof id.pod_uid)) {
                    this_is_pod = true;
                    if (memmem(kp, (size_t)(pod - kp) + 1, "-burstable-", 11))
                        id.qos = GSM_QOS_BURSTABLE;
                    else if (memmem(kp, (size_t)(pod - kp) + 1, "-besteffort-", 12))
                        id.qos = GSM_QOS_BESTEFFORT;
                    else
                        id.qos = GSM_QOS_GUARANTEED;
                }
            } else if (ends_with(c, len, "-burstable.slice")) {
                id.qos = GSM_QOS_BURSTABLE;
            } else if (ends_with(c, len, "-besteffort.slice")) {
                id.qos = GSM_QOS_BESTEFFORT;
            }
        } else if (len == 8 && memcmp(c, "kubepods", 8) == 0) {
            in_kubepods_dir = true;
            id.in_kubernetes = true;
        } else if (in_kubepods_dir && !id.pod_uid[0] && len == 9 && memcmp(c, "burstable", 9) == 0) {
            id.qos = GSM_QOS_BURSTABLE;
        } else if (in_kubepods_dir && !id.pod_uid[0] && len == 10 && memcmp(c, "besteffort", 10) == 0) {
            id.qos = GSM_QOS_BESTEFFORT;
        } else if (in_kubepods_dir && starts_with(c, len, "pod") &&
                   take_pod_uid(c + 3, len - 3, id.pod_uid, sizeof id.pod_uid)) {
            this_is_pod = true;
            if (id.qos == GSM_QOS_NONE)
                id.qos = GSM_QOS_GUARANTEED;
        } else if (match_id(c, len, "docker-", ".scope", &cid, &cid_len)) {
            rt = GSM_RUNTIME_DOCKER;
        } else if (match_id(c, len, "cri-containerd-", ".scope", &cid, &cid_len)) {
            rt = GSM_RUNTIME_CONTAINERD;
        } else if (match_id(c, len, "crio-conmon-", ".scope", &cid, &cid_len) ||
                   match_id(c, len, "crio-conmon-", "", &cid, &cid_len)) {
            rt = GSM_RUNTIME_CRIO;
            helper = true;
        } else if (match_id(c, len, "crio-", ".scope", &cid, &cid_len) || match_id(c, len, "crio-", "", &cid, &cid_len)) {
            rt = GSM_RUNTIME_CRIO;
        } else if (match_id(c, len, "libpod-conmon-", ".scope", &cid, &cid_len)) {
            rt = GSM_RUNTIME_PODMAN;
            helper = true;
        } else if (match_id(c, len, "libpod-", ".scope", &cid, &cid_len) ||
                   match_id(c, len, "libpod-", "", &cid, &cid_len)) {
            rt = GSM_RUNTIME_PODMAN;
        } else if (len == 6 && memcmp(c, "docker", 6) == 0) {
            this_is_docker = true;
        } else if (is_container_id(c, len) && (prev_was_docker || prev_was_pod || len == 64)) {
            /* A bare id counts only under /docker or a pod directory, or at full length (64):
             * a shorter hex name elsewhere is just a name (e.g. a sandbox's session id). */
            cid = c;
            cid_len = len;
            /* cgroupfs driver: the id alone. Under a pod directory that is containerd's CRI
             * (dockershim is gone since Kubernetes 1.24; cri-o writes crio-<id>); under
             * /docker it is docker's cgroupfs driver. */
            rt = prev_was_docker ? GSM_RUNTIME_DOCKER : prev_was_pod ? GSM_RUNTIME_CONTAINERD : GSM_RUNTIME_UNKNOWN;
        }

        if (rt != GSM_RUNTIME_NONE) {
            id.runtime = rt;
            id.runtime_helper = helper;
            copy_comp(id.container_id, sizeof id.container_id, cid, cid_len);
        }
        prev_was_pod = this_is_pod;
        prev_was_docker = this_is_docker;
    }
    *ret = id;
    return 0;
}
