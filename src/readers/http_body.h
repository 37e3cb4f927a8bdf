/* A response body as both HTTP paths receive it (libcurl's in http_client.c, the plain socket's
 * in http_loopback.c): grown in one buffer, kept NUL-terminated, capped at the decoded size the
 * caller allows; and the end of a GET they share (the status check, the messages). */
#pragma once

#include <stddef.h>

struct gsm_http_body {
    char *buf;                 /* malloc'd, NUL-terminated; NULL while empty */
    size_t len, cap, max;      /* max: the cap on len (gsm_http_opts.max_body_bytes) */
};

/* Append n bytes. Returns 0, -EFBIG when len would pass max (nothing appended), -ENOMEM. */
int gsm_http_body_put(struct gsm_http_body *b, const char *p, size_t n);

/* Hand the body out (an empty one as "") and leave b empty. Returns 0 or -ENOMEM (b freed). */
int gsm_http_body_take(struct gsm_http_body *b, char **ret_body, size_t *ret_len);

/* The end of a GET whose transfer completed: status 200 hands the body out as above; any other
 * status frees it and returns -EPROTO with "URL: HTTP N" in errbuf. */
int gsm_http_body_finish(struct gsm_http_body *b, const char *url, long status, char **ret_body, size_t *ret_len,
                         char *errbuf, size_t errlen);

/* errbuf for a body over the cap; returns -EFBIG. */
int gsm_http_body_too_big(const char *url, size_t max, char *errbuf, size_t errlen);
