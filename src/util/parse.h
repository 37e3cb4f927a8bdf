/* Small, strict number parsing shared by every reader. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse an unsigned decimal at *p, skipping leading blanks; advance *p past the digits.
 * Returns 0, -EINVAL when there is no digit, -ERANGE on overflow (e.g. a 25-digit number). */
int gsm_parse_u64(const char **p, uint64_t *ret);

/* Same for a signed decimal (optional '-'). */
int gsm_parse_i64(const char **p, int64_t *ret);

/* The same two, never reading at or past end (for buffers that are not NUL-terminated: the
 * kernel's reads are not; tests/fuzz). end == NULL: up to the NUL, as above. */
int gsm_parse_u64_end(const char **p, const char *end, uint64_t *ret);
int gsm_parse_i64_end(const char **p, const char *end, int64_t *ret);

/* Parse hexadecimal digits (no 0x prefix) at *p, never reading at or past end (buffers from
 * the kernel are not NUL-terminated). Returns 0, -EINVAL when there is no digit, -ERANGE. */
int gsm_parse_hex64(const char **p, const char *end, uint64_t *ret);

/* A whole command-line argument as seconds (a decimal number, "0.5", "300"), from min to max.
 * Returns 0 or -EINVAL (not a number, trailing text, out of range, NaN). */
int gsm_parse_seconds_arg(const char *arg, double min, double max, double *ret);

/* Next line of a NUL-terminated buffer: returns the line start and sets *ret_len (without '\n'),
 * advancing *cursor; NULL at end. */
const char *gsm_next_line(const char **cursor, const char *end, size_t *ret_len);
