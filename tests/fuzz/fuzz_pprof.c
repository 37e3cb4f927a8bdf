/* The Go heap profile decoder (readers/go_heap_profile.c): gzip or plain profile.proto, with a
 * 4 MiB inflate cap (the decoder's own limits keep protobuf-c's allocations bounded). */
#include "fuzz.h"
#include "readers/go_heap_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    struct gsm_heap_profile hp;
    if (gsm_heap_profile_parse(buf, size, (size_t)4 << 20, &hp) == 0)
        gsm_heap_profile_free(&hp);
    free(buf);
    return 0;
}
