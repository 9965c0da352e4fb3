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

/*
 * True when TEXT (LEN bytes) reads as a text file: valid UTF-8 without
 * NUL bytes or control characters other than tab, CR and LF.  On false,
 * *LINE is the 1-based line of the first bad byte and MSG (MSG_SIZE
 * bytes; none written when 0) says what it is and its column, counted
 * in characters from 1: "NUL byte at column 3: not a text file",
 * "control character 0x01 at column 3" or "invalid UTF-8 (byte 0xff) at
 * column 3".  The corpus readers refuse the same bytes in the same words
 * through this one function.
 */
bool sdx_utf8_check_text(const char *text, size_t len, size_t *line,
                         char *msg, size_t msg_size);

#endif /* SDX_UTF8_H */
