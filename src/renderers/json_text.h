/* JSON text that is always valid UTF-8. json-c copies string bytes as they are (0.16: bytes
 * >= 0x80 unchecked), so a comm, path or cgroup name with invalid UTF-8 would make the whole
 * document unparsable; every serialization goes through here and repairs the text by the rule
 * of util/text.h (json-c's own output is ASCII outside strings, so only string contents change). */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

/* o serialized with json-c flags (JSON_C_TO_STRING_*), repaired, and a newline. 0 or -EIO. */
int gsm_json_write(struct json_object *o, int flags, FILE *out);

/* o serialized and repaired, as a new string (free it); NULL on ENOMEM. */
char *gsm_json_text(struct json_object *o, int flags);
