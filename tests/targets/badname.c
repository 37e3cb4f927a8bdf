/* badname: a process whose strings are hostile text (tests/live/test_text_safety.sh).
 *
 * Usage: badname DIR
 *
 * Renames itself with prctl(PR_SET_NAME, "\xff\xfe\"bad\n") (invalid UTF-8, a quote and a
 * newline), and maps 64 KiB of a file it creates in DIR whose name is "map-\xff\xfe\"\n;\x1b.bin"
 * (every page read, so the mapping has RSS). Prints "READY <pid>" once set up, then blocks
 * reading stdin until EOF or SIGTERM. Any failure prints a message on stderr and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAP_BYTES (64 * 1024)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: badname DIR\n");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/map-\xff\xfe\"\n;\x1b.bin", argv[1]);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    static char page[4096];
    memset(page, 'x', sizeof page);
    for (int i = 0; fd >= 0 && i < MAP_BYTES / 4096; i++)
        if (write(fd, page, sizeof page) != sizeof page) {
            perror("badname: write");
            return 1;
        }
    volatile const char *m = fd < 0 ? MAP_FAILED : mmap(NULL, MAP_BYTES, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        perror("badname: map file");
        return 1;
    }
    unsigned sum = 0;
    for (size_t off = 0; off < MAP_BYTES; off += 4096)
        sum += (unsigned)m[off];
    close(fd);
    if (prctl(PR_SET_NAME, "\xff\xfe\"bad\n", 0, 0, 0) != 0) {
        perror("badname: prctl");
        return 1;
    }
    printf("READY %d %u\n", (int)getpid(), sum);
    fflush(stdout);
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0) {
    }
    return 0;
}
