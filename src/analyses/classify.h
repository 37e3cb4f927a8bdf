/* Level 2 of attribution: give every mapping a runtime class (PRODUCT.md, "Classes").
 *
 * Needs: the mappings (address order), the exe path, whether the process is Go (and its
 * GOARCH), and the tasks' stack pointers when readable. Writes mapping->cls and ->class_reason. */
#pragma once

#include "model/process.h"

void gsm_classify(struct gsm_process *p);

/* Exposed for unit tests. Go's heap arena hints (runtime/malloc.go, mallocinit): on amd64 the
 * i-th hint is i<<40 | 0x00c0<<32 (0xc000000000, 0x1c000000000, ...); on arm64 i<<40 | 0x0040<<32.
 * True when addr lies in the arena range that the hints describe for that architecture. */
bool gsm_go_arena_hint_range(uint64_t addr, const char *goarch);
