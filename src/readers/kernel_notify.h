/* The kernel's memory notifications as file descriptors to poll (engine/notify.c uses them):
 *
 *   PSI trigger   write "some|full <stall us> <window us>" to a pressure file (a cgroup v2
 *                 memory.pressure, or /proc/pressure/memory): POLLPRI when the stall is exceeded
 *                 within the window (Documentation/accounting/psi.rst)
 *   file change   an inotify watch (IN_MODIFY) on a file: cgroup v2 memory.events, which the
 *                 kernel marks modified when a counter moves (Documentation/admin-guide/cgroup-v2.rst);
 *                 the same works on a plain file (a --root fixture tree)
 *
 * Each returns 0 and the descriptor, or a negative errno (the kernel refused: an old kernel,
 * permissions, no PSI, a missing file). */
#pragma once

/* A PSI trigger on dirfd/path (O_RDWR; the trigger string with its NUL, as psi.rst writes it). */
int gsm_psi_trigger_open(int dirfd, const char *path, const char *trigger, int *ret_fd);

/* An inotify descriptor watching dirfd/path for modification: readable (POLLIN) after a change. */
int gsm_file_change_open(int dirfd, const char *path, int *ret_fd);

/* Reads the pending change events of such a descriptor (non-blocking): how many, or -errno. */
int gsm_file_change_drain(int fd);
