/* serve's gzip path (util/gzip.c): `gsm_accepts_gzip` over a scraper's Accept-Encoding header
 * (outside input: any client may send any header; a C string, as libmicrohttpd hands it over,
 * so this harness NUL-terminates), and `gsm_gzip` over the same bytes. Oracle: zlib's inflate of
 * the compressed body gives back the input exactly. */
#include "fuzz.h"
#include "util/gzip.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *hdr = fuzz_cstr(data, size);
    if (!hdr)
        return 0;
    (void)gsm_accepts_gzip(hdr);
    free(hdr);

    char *in = fuzz_copy(data, size);
    void *gz = NULL;
    size_t gl = 0;
    int level = size ? data[0] % 10 : 1;
    if (in && gsm_gzip(in, size, level, 5, &gz, &gl) == 0) {
        unsigned char *back = malloc(size + 1);
        z_stream zs = {0};
        FUZZ_ASSERT(back && inflateInit2(&zs, 15 + 16) == Z_OK);
        zs.next_in = gz;
        zs.avail_in = (unsigned)gl;
        zs.next_out = back;
        zs.avail_out = (unsigned)size + 1;
        int zr = inflate(&zs, Z_FINISH);
        FUZZ_ASSERT(zr == Z_STREAM_END && zs.total_out == size && memcmp(back, data, size) == 0);
        inflateEnd(&zs);
        free(back);
        free(gz);
    }
    free(in);
    return 0;
}
