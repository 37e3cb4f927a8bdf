/* The modinfo text of a Go binary's build info (what `go version -m` prints after the version),
 * parsed as runtime/debug.ParseBuildInfo does (src/runtime/debug/mod.go):
 *
 *   path\tgsmapper.test/targets/memshape
 *   mod\tgsmapper.test/targets\t(devel)\t
 *   dep\tgolang.org/x/sys\tv0.5.0\th1:...=
 *   =>\t../sys\t\t                          replacement of the line above
 *   build\t-ldflags="-X main.version=1.2"   value quoted (strconv.Quote) when it has blanks or quotes
 *   build\tCGO_ENABLED=1
 *   build\tvcs.revision=4f1c...
 *
 * Lines count only when they end in '\n'. */
#pragma once

#include "model/go_build.h"

#include <stdbool.h>
#include <stddef.h>

/* Returns 0, -EBADMSG for a malformed line (*ret_line set, 1-based), -ENOMEM. */
int gsm_go_modinfo_parse(const char *text, struct gsm_go_buildinfo *ret, size_t *ret_line);

/* Go's strconv.Unquote for "..." and `...` strings (the forms mod.go writes). Exposed for tests.
 * Returns a malloc'd string, or NULL when malformed. *ret_len is the quoted prefix's length. */
char *gsm_go_unquote_prefix(const char *s, size_t *ret_len);
