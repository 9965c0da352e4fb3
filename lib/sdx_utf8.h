/*
 * sdx_utf8: the one UTF-8 validator of specdex.  Corpus files, JSON Lines
 * records, request strings and JSON output all decide what is valid
 * UTF-8 here, so they cannot disagree: no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
#ifndef SDX_UTF8_H
#define SDX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length (1..4) of the valid UTF-8 sequence at P, of which LEFT (>= 1)
 * bytes may be read; 0 when the bytes there are not valid UTF-8.
 */
size_t sdx_utf8_seq_len(const unsigned char *p, size_t left);

/*
 * True when BUF (LEN bytes) is valid UTF-8.  On false, *bad (when not
 * NULL) is the offset of the first bad byte.
 */
bool sdx_utf8_valid(const char *buf, size_t len, size_t *bad);

#endif /* SDX_UTF8_H */
