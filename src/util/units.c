#include "util/units.h"

#include <stdio.h>

const char *gsm_fmt_bytes(uint64_t bytes, char *buf, size_t size) {
    static const char *const suffix[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    unsigned i = 0;
    while (v >= 1024.0 && i + 1 < sizeof suffix / sizeof suffix[0]) {
        v /= 1024.0;
        i++;
    }
    snprintf(buf, size, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, suffix[i]);
    return buf;
}
