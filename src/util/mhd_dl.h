/* libmicrohttpd, loaded when `serve` starts (dlopen "libmicrohttpd.so.12") instead of linked:
 * Debian's build pulls in GnuTLS, nettle, gmp, p11-kit and more, ~2.8 MiB of resident library
 * pages in every gsmapper process (measured: watch's peak RSS 7.0 -> 9.8 MiB at 510 targets),
 * which only the exporter needs. serve.c includes this after <microhttpd.h>. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>

struct gsm_mhd_api {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *d);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
    struct MHD_Response *(*create_response_from_buffer_with_free_callback)(size_t size, void *buffer,
                                                                           MHD_ContentReaderFreeCallback crfc);
    enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header, const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
    void (*destroy_response)(struct MHD_Response *r);
    const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key);
};

extern struct gsm_mhd_api gsm_mhd;

/* Load once; false (with the reason in errbuf) when libmicrohttpd cannot be loaded. */
bool gsm_mhd_load(char *errbuf, size_t errlen);

#ifndef GSM_MHD_DL_IMPL
#define MHD_start_daemon gsm_mhd.start_daemon
#define MHD_stop_daemon gsm_mhd.stop_daemon
#define MHD_create_response_from_buffer gsm_mhd.create_response_from_buffer
#define MHD_create_response_from_buffer_with_free_callback gsm_mhd.create_response_from_buffer_with_free_callback
#define MHD_add_response_header gsm_mhd.add_response_header
#define MHD_queue_response gsm_mhd.queue_response
#define MHD_destroy_response gsm_mhd.destroy_response
#define MHD_lookup_connection_value gsm_mhd.lookup_connection_value
#endif
