#define GSM_MHD_DL_IMPL
#include "util/mhd_dl.h"

#include <dlfcn.h>
#include <stdio.h>

struct gsm_mhd_api gsm_mhd;

bool gsm_mhd_load(char *errbuf, size_t errlen) {
    static bool loaded;
    if (loaded)
        return true;
    void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(errbuf, errlen, "libmicrohttpd could not be loaded: %s", dlerror());
        return false;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
        {"MHD_start_daemon", (void **)&gsm_mhd.start_daemon},
        {"MHD_stop_daemon", (void **)&gsm_mhd.stop_daemon},
        {"MHD_create_response_from_buffer", (void **)&gsm_mhd.create_response_from_buffer},
        {"MHD_create_response_from_buffer_with_free_callback",
         (void **)&gsm_mhd.create_response_from_buffer_with_free_callback},
        {"MHD_add_response_header", (void **)&gsm_mhd.add_response_header},
        {"MHD_queue_response", (void **)&gsm_mhd.queue_response},
        {"MHD_destroy_response", (void **)&gsm_mhd.destroy_response},
        {"MHD_lookup_connection_value", (void **)&gsm_mhd.lookup_connection_value},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            snprintf(errbuf, errlen, "libmicrohttpd has no %s", syms[i].name);
            return false;
        }
    loaded = true;
    return true;
}
