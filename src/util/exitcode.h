/* Exit codes of the gsmapper binary (the contract in PRODUCT.md; README lists them). */
#pragma once

enum gsm_exit {
    GSM_EXIT_OK = 0,
    GSM_EXIT_FAILURE = 1,   /* runtime failure, malformed input file, --fail-on reached */
    GSM_EXIT_USAGE = 2,     /* bad command line */
    GSM_EXIT_NOTFOUND = 3,  /* target process or cgroup does not exist or went away */
    GSM_EXIT_PERM = 4,      /* permission denied; the message names the capability */
};

/* Map a negative errno from a reader to an exit code: ENOENT/ESRCH -> 3, EACCES/EPERM -> 4,
 * anything else -> 1. */
int gsm_exit_from_errno(int negative_errno);
