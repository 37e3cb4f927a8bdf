#include "cmd/watch_bundles.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void gsm_recorder_cli_init(struct gsm_recorder_cli *rc) {
    *rc = (struct gsm_recorder_cli){.quota_bytes = 256ull << 20, .min_interval_s = 60};
}

int gsm_recorder_cli_parse(struct gsm_recorder_cli *rc, const char *cmd, int opt, const char *arg, uint64_t *ring_ms) {
    double v;
    switch (opt) {
    case GSM_OPT_RING:
        if (gsm_parse_seconds_arg(arg, 10, 86400, &v) < 0) {
            gsm_error("%s: --ring wants seconds from 10 to 86400, not '%s'", cmd, arg);
            return -1;
        }
        *ring_ms = (uint64_t)(v * 1000);
        return 1;
    case GSM_OPT_DUMP_DIR: rc->dump_dir = arg; return 1;
    case GSM_OPT_DUMP_QUOTA: {
        const char *p = arg;
        if (gsm_parse_u64(&p, &rc->quota_bytes) < 0 || *p || rc->quota_bytes < (1u << 20)) {
            gsm_error("%s: --dump-quota wants bytes (at least 1 MiB), not '%s'", cmd, arg);
            return -1;
        }
        return 1;
    }
    case GSM_OPT_DUMP_MIN:
        if (gsm_parse_seconds_arg(arg, 0, 86400 * 365, &rc->min_interval_s) < 0) {
            gsm_error("%s: --dump-min-interval wants a number of seconds >= 0, not '%s'", cmd, arg);
            return -1;
        }
        return 1;
    default: return 0;
    }
}

int gsm_recorder_cli_open(const struct gsm_recorder_cli *rc, const char *cmd, const char *root_dir,
                          struct gsm_recorder **ret) {
    *ret = NULL;
    if (!rc->dump_dir)
        return GSM_EXIT_OK;
    struct gsm_recorder_opts ro = {
        .dump_dir = rc->dump_dir, .quota_bytes = rc->quota_bytes,
        .min_interval_ms = (uint64_t)(rc->min_interval_s * 1000) + 1, .root_dir = root_dir,
    };
    /* A missing dump dir is created, private (its parent must exist). */
    if (mkdir(rc->dump_dir, 0700) == 0)
        gsm_debug("%s: created the dump dir %s (0700)", cmd, rc->dump_dir);
    int r = gsm_recorder_new(&ro, ret);
    if (r < 0) {
        gsm_error("%s: dump dir %s: %s", cmd, rc->dump_dir, strerror(-r));
        return r == -ENOENT || r == -ENOTDIR ? GSM_EXIT_USAGE : gsm_exit_from_errno(r);
    }
    return GSM_EXIT_OK;
}
