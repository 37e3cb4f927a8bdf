/* Human-readable sizes for tables: 1023 B, 4.0 KiB, 12.3 MiB, 1.50 GiB (binary units). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Writes into buf (at least 16 bytes) and returns it. */
const char *gsm_fmt_bytes(uint64_t bytes, char *buf, size_t size);
