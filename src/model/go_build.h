/* A Go executable's build information as plain types: what readers/elf_go.c finds in the
 * .go.buildinfo blob and readers/go_modinfo.c parses out of its modinfo text (the formats are
 * described there). Here so that the process model can own and free them without a reader. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct gsm_go_info {
    char go_version[64];     /* "go1.19.8" (truncated if longer) */
    char main_path[256];     /* main package path from modinfo ("path" line), "" if none */
    char main_version[128];  /* main module version from the "mod" line, e.g. "(devel)", "" if none */
    char goarch[16];         /* from e_machine (+ class/endianness): "amd64", "arm64", "386", ... */
    bool inline_strings;     /* 1.18+ buildinfo form (flag bit 1) */
    char *modinfo;           /* raw modinfo text, sentinels stripped (malloc'd, may be NULL) */
};

struct gsm_go_module {
    char *path, *version, *sum;
    struct gsm_go_module *replace;   /* NULL when not replaced */
};

struct gsm_go_setting {
    char *key;
    char *value;       /* unquoted */
    char *raw;         /* as written after '=' (quoted when Go quoted it) */
};

struct gsm_go_buildinfo {
    char *path;                      /* main package */
    struct gsm_go_module main;
    struct gsm_go_module *deps;
    size_t n_deps;
    struct gsm_go_setting *settings;
    size_t n_settings;
};

/* Frees g->modinfo (not g itself) and clears it. NULL is fine. */
void gsm_go_info_free(struct gsm_go_info *g);
/* Frees every member (not bi itself) and clears it. */
void gsm_go_buildinfo_free(struct gsm_go_buildinfo *bi);
/* Frees m's strings and its replacement (not m itself); NULL members are fine. */
void gsm_go_module_free(struct gsm_go_module *m);
/* The value of a build setting ("CGO_ENABLED", "-ldflags", "vcs.revision"), or NULL. */
const char *gsm_go_buildinfo_setting(const struct gsm_go_buildinfo *bi, const char *key);
