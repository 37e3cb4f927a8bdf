#include "test.h"

#include <stdlib.h>

static struct gsm_test *head, **tail = &head;
static enum { T_PASS, T_FAIL, T_SKIP } outcome;
static char message[1024];

void gsm_test_register(struct gsm_test *t) {
    *tail = t;
    tail = &t->next;
}

void gsm_test_fail(const char *file, int line, const char *expr) {
    outcome = T_FAIL;
    snprintf(message, sizeof message, "%s:%d: %s", file, line, expr);
}

void gsm_test_skip(const char *reason) {
    outcome = T_SKIP;
    snprintf(message, sizeof message, "%s", reason);
}

const char *gsm_test_dir(void) {
    const char *d = getenv("GSM_TESTS_DIR");
    return d ? d : "tests";
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    unsigned passed = 0, failed = 0, skipped = 0;
    for (struct gsm_test *t = head; t; t = t->next) {
        if (only && !strstr(t->name, only))
            continue;
        outcome = T_PASS;
        message[0] = '\0';
        t->fn();
        switch (outcome) {
        case T_PASS: passed++; printf("PASS %s\n", t->name); break;
        case T_FAIL: failed++; printf("FAIL %s: %s\n", t->name, message); break;
        case T_SKIP: skipped++; printf("SKIP %s: %s\n", t->name, message); break;
        }
    }
    printf("unit: %u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    return failed ? 1 : 0;
}
