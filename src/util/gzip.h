/* gzip: zlib's deflate with the gzip wrapper (RFC 1952), for pprof files and for HTTP's
 * `Content-Encoding: gzip` (RFC 9110 8.4.1.3), and the Accept-Encoding test that chooses it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Compresses in[0..len) into a malloc'd buffer (*ret_buf, *ret_len): level 1-9 (zlib's levels;
 * -1 for zlib's default, 6), mem_level 1-9 (zlib's memLevel: the deflate state is about
 * 128 KiB + 2^(mem_level + 9) bytes while compressing; 8 is zlib's default). The buffer is cut
 * down to the output when that is less than half of zlib's bound. 0, -ENOMEM, -EINVAL (bad
 * level) or -EIO. */
int gsm_gzip(const void *in, size_t len, int level, int mem_level, void **ret_buf, size_t *ret_len);

/* Whether an Accept-Encoding header value (NULL: none sent) accepts the gzip coding: a list
 * element "gzip" or "x-gzip", or "*" when gzip is not listed, with a weight (";q=") above 0.
 * Names and parameters are case-insensitive. */
bool gsm_accepts_gzip(const char *accept_encoding);
