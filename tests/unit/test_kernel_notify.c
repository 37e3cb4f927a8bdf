/* readers/kernel_notify: a PSI trigger on the system-wide /proc/pressure/memory (where the kernel
 * has PSI and accepts triggers), and the inotify change watch that serves cgroup v2's
 * memory.events, on a real file. */
#include "test.h"
#include "readers/kernel_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

TEST(psi_trigger_system_memory) {
    int fd = -1;
    int r = gsm_psi_trigger_open(AT_FDCWD, "/proc/pressure/memory", "some 150000 1000000", &fd);
    /* without CAP_SYS_RESOURCE only windows of a multiple of 2 s (what engine/notify.c falls
     * back to) */
    if (r == -EINVAL || r == -EPERM) {
        fprintf(stderr, "  1 s window refused (%s): 2 s window\n", strerror(-r));
        r = gsm_psi_trigger_open(AT_FDCWD, "/proc/pressure/memory", "some 300000 2000000", &fd);
    }
    if (r == -ENOENT || r == -EOPNOTSUPP || r == -EPERM || r == -EACCES || r == -EINVAL) {
        char why[128];
        snprintf(why, sizeof why, "the kernel refused a PSI trigger on /proc/pressure/memory: %s", strerror(-r));
        gsm_test_skip(why);
        return;
    }
    CHECK(r == 0 && fd >= 0);
    /* registered: the descriptor polls (POLLPRI only when memory stalls), never an error */
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    CHECK(poll(&p, 1, 100) >= 0);
    CHECK((p.revents & (POLLERR | POLLNVAL | POLLHUP)) == 0);
    /* a second trigger on the same file is refused: one per descriptor (psi.rst) */
    CHECK(write(fd, "some 150000 1000000", 20) < 0 && errno == EBUSY);
    close(fd);
    /* a malformed trigger is refused, said by the return value */
    CHECK(gsm_psi_trigger_open(AT_FDCWD, "/proc/pressure/memory", "sometimes 1 2", &fd) == -EINVAL);
}

TEST(file_change_watch_sees_a_write) {
    char dir[] = "/tmp/gsm-notify-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    int f = openat(dfd, "memory.events", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    CHECK(f >= 0);
    CHECK(write(f, "oom 0\noom_kill 0\n", 17) == 17);
    int fd = -1;
    CHECK(gsm_file_change_open(dfd, "memory.events", &fd) == 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 0) == 0);                     /* nothing changed yet */
    CHECK(pwrite(f, "oom 1\noom_kill 1\n", 17, 0) == 17);
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));   /* the write is seen (5 s: load) */
    CHECK(gsm_file_change_drain(fd) >= 1);
    CHECK(poll(&p, 1, 0) == 0);                     /* drained */
    int missing = -1;
    CHECK(gsm_file_change_open(dfd, "memory.nothing", &missing) == -ENOENT);
    close(fd);
    close(f);
    unlinkat(dfd, "memory.events", 0);
    close(dfd);
    rmdir(dir);
}
