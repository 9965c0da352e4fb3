/*
 * fuzz_contract: what the harnesses of tests/fuzz do alike.  A harness
 * that finds its module breaking the contract stops the run with
 * broken(), which libFuzzer (or replay_main.c) reports like a crash; the
 * readers' error messages are checked the same way in each harness.
 *
 * Define FUZZ_HARNESS (the harness's name, a string) before including.
 * Header only, static inline: each harness stays one file, linked with
 * libFuzzer or replay_main.c.
 */
#ifndef SDX_FUZZ_CONTRACT_H
#define SDX_FUZZ_CONTRACT_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_HARNESS
#error "define FUZZ_HARNESS before including fuzz_contract.h"
#endif

/* Stop the run: the module broke its contract on this input. */
static inline void
broken(const char *what)
{
    fprintf(stderr, FUZZ_HARNESS ": contract broken: %s\n", what);
    abort();
}

/* ERR (SIZE bytes, filled with other bytes before the call) holds a
 * terminated message that starts "NAME:". */
static inline void
check_message(const char *err, size_t size, const char *name)
{
    size_t n = strlen(name);
    if (memchr(err, '\0', size) == NULL)
        broken("error message not terminated");
    if (strncmp(err, name, n) != 0 || err[n] != ':')
        broken("error message does not start with the file name");
}

/* TINY, a buffer of SIZE bytes whose byte TINY[SIZE] was set to '#'
 * before the call, was written within bounds and terminated. */
static inline void
check_tiny(const char *tiny, size_t size)
{
    if (tiny[size] != '#' || memchr(tiny, '\0', size) == NULL)
        broken("a small error buffer overflowed or is unterminated");
}

#endif /* SDX_FUZZ_CONTRACT_H */
