/* Text safety for strings that come from processes and files (comm, paths, cgroup names, build
 * info, label values): any byte string made valid UTF-8 before it reaches JSON, the Prometheus
 * exposition format, a table, folded stacks or an event line (docs/text-safety.md).
 *
 * The one rule: a well-formed UTF-8 sequence (Unicode 15, table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF) is kept; each maximal ill-formed subpart (Unicode 15,
 * §3.9 "U+FFFD substitution of maximal subparts" — what Python's decode(errors="replace") does)
 * and each NUL byte become U+FFFD (EF BF BD). Output formats add their own escaping on top. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define GSM_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Length (1..4) of the well-formed sequence at s[0..len), or 0 when it is ill-formed; then
 * *ret_bad is the length (1..3) of the maximal ill-formed subpart to replace. len > 0. */
size_t gsm_utf8_seq(const unsigned char *s, size_t len, size_t *ret_bad);

/* True when s[0..len) is well-formed UTF-8 with no NUL byte. */
bool gsm_utf8_valid(const char *s, size_t len);

/* s[0..len) repaired by the rule above into a new NUL-terminated string (NULL on ENOMEM);
 * *ret_len (may be NULL) is its length. */
char *gsm_utf8_repair(const char *s, size_t len, size_t *ret_len);

/* Writes s[0..len) repaired to out. Returns 0 or -EIO. */
int gsm_text_write_utf8(FILE *out, const char *s, size_t len);

/* A Prometheus / OpenMetrics label value (without the quotes): repaired UTF-8, then backslash,
 * double quote and newline escaped as \\, \" and \n (the text format's only escapes). NULL
 * writes nothing. */
void gsm_text_write_label_value(FILE *out, const char *s);

/* s for a table cell, a text line or a folded-stack frame: repaired UTF-8, every control
 * character (C0, DEL, C1) written as \xNN so nothing can break a line or drive a terminal,
 * and `;` as \x3b when fold is true (it separates frames). Truncated at a character boundary
 * to fit size (at least 1). Returns buf; NULL s gives "". */
const char *gsm_text_printable(const char *s, bool fold, char *buf, size_t size);

/* Text made of lines (a whole table): repaired UTF-8, control characters other than newline
 * and tab written as \xNN. Returns 0 or -EIO. */
int gsm_text_write_lines(FILE *out, const char *s, size_t len);
