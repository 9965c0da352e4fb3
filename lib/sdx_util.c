/*
 * sdx_util: FNV-1a 64 and the monotonic clock (sdx_util.h).
 */
#include "sdx_util.h"

#include <time.h>

#define FNV1A_PRIME 0x100000001b3ull /* FNV-1a 64 prime */

uint64_t
sdx_fnv1a(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= FNV1A_PRIME;
    }
    return h;
}

uint64_t
sdx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sdx_now_us(void)
{
    return sdx_now_ns() / 1000u;
}
