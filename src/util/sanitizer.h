/* GSM_ASAN is 1 in an AddressSanitizer build (gcc defines __SANITIZE_ADDRESS__, clang answers
 * __has_feature(address_sanitizer)). The sandbox and the /proc broker allow what ASan's runtime
 * needs (ptrace for LeakSanitizer's stop-the-world, sigaltstack at exit) only then. */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define GSM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GSM_ASAN 1
#endif
#endif
