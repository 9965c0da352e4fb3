/*
 * sdx_util: the two small helpers every part of specdex needs the same
 * way, written once: a 64-bit FNV-1a hash (the index's group keys, the
 * result cache's buckets, the query hash of a slow-request log line)
 * and the monotonic clock (latencies, uptimes, build times, and the
 * benchmark programs' nanoseconds).
 */
#ifndef SDX_UTIL_H
#define SDX_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define SDX_FNV1A_INIT 0xcbf29ce484222325ull /* FNV-1a 64 offset basis */

/*
 * FNV-1a, 64 bits, over LEN bytes at P, continuing from H (start with
 * SDX_FNV1A_INIT).  Not a cryptographic hash: the same bytes give the
 * same value on every machine, which the index's group keys rely on.
 */
uint64_t sdx_fnv1a(uint64_t h, const void *p, size_t len);

/* Microseconds of CLOCK_MONOTONIC (since an arbitrary start). */
uint64_t sdx_now_us(void);

/* The same clock in nanoseconds (sdx_now_us() is this / 1000). */
uint64_t sdx_now_ns(void);

#endif /* SDX_UTIL_H */
