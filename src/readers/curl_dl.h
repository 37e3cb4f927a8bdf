/* libcurl, loaded on first use (dlopen "libcurl.so.4") instead of linked: libcurl pulls in
 * OpenSSL, GnuTLS, Kerberos, LDAP and more, about 6 MiB of resident library pages at start-up
 * (measured with `gsmapper explain` on `gsmapper watch`), which a node agent watching non-Go
 * processes never needs. http_client.c includes this after <curl/curl.h>: the curl_* calls it makes
 * go through the table. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>

struct gsm_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    CURLcode (*easy_perform)(CURL *c);
    void (*easy_cleanup)(CURL *c);
    const char *(*easy_strerror)(CURLcode code);
    void (*free)(void *p);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *u);
    CURLUcode (*url_get)(const CURLU *u, CURLUPart part, char **ret, unsigned int flags);
    CURLUcode (*url_set)(CURLU *u, CURLUPart part, const char *content, unsigned int flags);
};

extern struct gsm_curl_api gsm_curl;

/* True once libcurl has been loaded (without loading it). */
bool gsm_curl_is_loaded(void);

/* Load libcurl once (thread-safe) and run curl_global_init. False when it cannot be loaded. */
bool gsm_curl_load(void);

#ifndef GSM_CURL_DL_IMPL
#define curl_global_init gsm_curl.global_init
#define curl_easy_init gsm_curl.easy_init
#undef curl_easy_setopt
#define curl_easy_setopt gsm_curl.easy_setopt
#undef curl_easy_getinfo
#define curl_easy_getinfo gsm_curl.easy_getinfo
#define curl_easy_perform gsm_curl.easy_perform
#define curl_easy_cleanup gsm_curl.easy_cleanup
#define curl_easy_strerror gsm_curl.easy_strerror
#define curl_free gsm_curl.free
#define curl_slist_append gsm_curl.slist_append
#define curl_slist_free_all gsm_curl.slist_free_all
#define curl_url gsm_curl.url
#define curl_url_cleanup gsm_curl.url_cleanup
#define curl_url_get gsm_curl.url_get
#define curl_url_set gsm_curl.url_set
#endif
