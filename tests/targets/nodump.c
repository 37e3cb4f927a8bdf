/* Target for tests/live/test_permissions.sh: touches 8 MiB of anonymous memory, optionally makes
 * itself non-dumpable (argument "nodump": prctl(PR_SET_DUMPABLE, 0), as sshd, gpg-agent and
 * setuid programs are; its /proc/PID files then belong to root and only CAP_SYS_PTRACE opens
 * them), prints "READY <pid>" and sleeps until a signal ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "nodump") == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        perror("prctl(PR_SET_DUMPABLE)");
        return 1;
    }
    size_t len = (size_t)8 << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(p, 1, len);
    printf("READY %d dumpable=%d\n", (int)getpid(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    fflush(stdout);
    for (;;)
        pause();
}
