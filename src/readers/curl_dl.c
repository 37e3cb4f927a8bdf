#define GSM_CURL_DL_IMPL
#include "readers/curl_dl.h"
#include "util/log.h"

#include <dlfcn.h>
#include <pthread.h>

struct gsm_curl_api gsm_curl;
static bool loaded;

static void load(void) {
    /* The soname of libcurl 7.x and 8.x (Debian's libcurl4). */
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        gsm_debug("libcurl: %s", dlerror());
        return;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
        {"curl_global_init", (void **)&gsm_curl.global_init},
        {"curl_easy_init", (void **)&gsm_curl.easy_init},
        {"curl_easy_setopt", (void **)&gsm_curl.easy_setopt},
        {"curl_easy_getinfo", (void **)&gsm_curl.easy_getinfo},
        {"curl_easy_perform", (void **)&gsm_curl.easy_perform},
        {"curl_easy_cleanup", (void **)&gsm_curl.easy_cleanup},
        {"curl_easy_strerror", (void **)&gsm_curl.easy_strerror},
        {"curl_free", (void **)&gsm_curl.free},
        {"curl_slist_append", (void **)&gsm_curl.slist_append},
        {"curl_slist_free_all", (void **)&gsm_curl.slist_free_all},
        {"curl_url", (void **)&gsm_curl.url},
        {"curl_url_cleanup", (void **)&gsm_curl.url_cleanup},
        {"curl_url_get", (void **)&gsm_curl.url_get},
        {"curl_url_set", (void **)&gsm_curl.url_set},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            gsm_debug("libcurl: no symbol %s", syms[i].name);
            return;
        }
    }
    if (gsm_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return;
    __atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
}

bool gsm_curl_is_loaded(void) {
    return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE);
}

bool gsm_curl_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return loaded;
}
