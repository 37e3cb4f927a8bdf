/* /proc/PID/net/tcp and tcp6 (readers/go_discover.c), and the loopback host of each listener. */
#include "fuzz.h"
#include "readers/go_discover.h"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    for (int k = 0; k < 2; k++) {
        struct gsm_tcp_listener *l = NULL;
        size_t n = 0;
        char err[128], host[64];
        if (gsm_parse_proc_net_tcp(buf, size, k ? AF_INET6 : AF_INET, &l, &n, err, sizeof err) == 0)
            for (size_t i = 0; i < n; i++)
                (void)gsm_tcp_listener_loopback_host(&l[i], host, sizeof host);
        free(l);
    }
    free(buf);
    return 0;
}
