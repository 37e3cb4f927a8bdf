#include "renderers/json_text.h"
#include "util/text.h"

#include <errno.h>

int gsm_json_write(struct json_object *o, int flags, FILE *out) {
    size_t len;
    const char *s = json_object_to_json_string_length(o, flags, &len);
    if (!s || gsm_text_write_utf8(out, s, len) < 0 || fputc('\n', out) == EOF)
        return -EIO;
    return 0;
}

char *gsm_json_text(struct json_object *o, int flags) {
    size_t len;
    const char *s = json_object_to_json_string_length(o, flags, &len);
    return s ? gsm_utf8_repair(s, len, NULL) : NULL;
}
