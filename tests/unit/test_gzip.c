/* util/gzip: the compressed buffer inflates back to the input (zlib's inflate with the gzip
 * wrapper, and the gzip header bytes of RFC 1952), and the Accept-Encoding test. */
#include "test.h"
#include "util/gzip.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

/* inflate gz into a buffer of want_len + 1 bytes; true when it gives exactly want */
static bool inflates_to(const void *gz, size_t gl, const char *want, size_t want_len) {
    z_stream zs = {0};
    if (inflateInit2(&zs, 15 + 16) != Z_OK)   /* gzip wrapper only */
        return false;
    char *out = malloc(want_len + 1);
    zs.next_in = (unsigned char *)gz;
    zs.avail_in = (unsigned)gl;
    zs.next_out = (unsigned char *)out;
    zs.avail_out = (unsigned)want_len + 1;
    int r = inflate(&zs, Z_FINISH);
    bool ok = r == Z_STREAM_END && zs.total_out == want_len && zs.avail_in == 0 && memcmp(out, want, want_len) == 0;
    inflateEnd(&zs);
    free(out);
    return ok;
}

TEST(gzip_round_trip) {
    /* 1 MiB of exposition-like lines: compresses well, and crosses zlib's internal buffers */
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    for (unsigned i = 0; n + 128 < cap; i++)
        n += (size_t)snprintf(text + n, cap - n, "gsmapper_process_memory_bytes{pid=\"%u\",class=\"heap\",kind=\"rss\"} %u\n",
                              i, i * 4096u);
    int levels[][2] = {{1, 5}, {-1, 8}, {9, 9}};
    for (size_t k = 0; k < 3; k++) {
        void *gz = NULL;
        size_t gl = 0;
        CHECK(gsm_gzip(text, n, levels[k][0], levels[k][1], &gz, &gl) == 0);
        CHECK(gl > 18 && gl < n / 4);
        const unsigned char *h = gz;
        CHECK(h[0] == 0x1f && h[1] == 0x8b && h[2] == 8);   /* gzip magic, deflate */
        CHECK(inflates_to(gz, gl, text, n));
        free(gz);
    }
    void *gz = NULL;
    size_t gl = 0;
    CHECK(gsm_gzip("", 0, 1, 5, &gz, &gl) == 0);   /* an empty body is a valid gzip stream */
    CHECK(gl >= 18 && inflates_to(gz, gl, "", 0));
    free(gz);
    CHECK(gsm_gzip("x", 1, 42, 8, &gz, &gl) == -EINVAL);
    free(text);
}

TEST(gzip_accept_encoding) {
    CHECK(!gsm_accepts_gzip(NULL));
    CHECK(!gsm_accepts_gzip(""));
    CHECK(gsm_accepts_gzip("gzip"));                       /* what Prometheus sends */
    CHECK(gsm_accepts_gzip("GZip"));
    CHECK(gsm_accepts_gzip("x-gzip"));
    CHECK(gsm_accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
    CHECK(gsm_accepts_gzip("br;q=1.0, gzip ; q=0.001"));
    CHECK(gsm_accepts_gzip(" , ,gzip,"));
    CHECK(gsm_accepts_gzip("*"));
    CHECK(gsm_accepts_gzip("identity;q=0.5, *"));
    CHECK(!gsm_accepts_gzip("identity"));
    CHECK(!gsm_accepts_gzip("br, deflate"));
    CHECK(!gsm_accepts_gzip("gzip;q=0"));
    CHECK(!gsm_accepts_gzip("gzip;Q=0.000"));
    CHECK(!gsm_accepts_gzip("gzip; q=0."));
    CHECK(!gsm_accepts_gzip("gzip;q=0, *"));              /* listed and refused: * does not bring it back */
    CHECK(!gsm_accepts_gzip("*;q=0"));
    CHECK(!gsm_accepts_gzip("gzipx, xgzip, gzi"));
    CHECK(gsm_accepts_gzip("gzip;level=1;q=0.3"));
    CHECK(gsm_accepts_gzip("gzip;q=0.01"));
}
