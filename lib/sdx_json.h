/*
 * sdx_json: print msgpack data as JSON.  One printer serves every place
 * JSON leaves specdex: `specdex-index --dump` (clause records) and the
 * CLI's --json (a reply's data), so both escape text the same way.
 */
#ifndef SDX_JSON_H
#define SDX_JSON_H

#include <stdio.h>

#include <msgpack.h>

/*
 * Write OBJ to OUT as compact JSON on one line (no newline added).  Text
 * is written as UTF-8 with the escapes JSON requires; invalid UTF-8 bytes
 * become U+FFFD.  Map keys that are not strings are printed as strings of
 * their JSON form.  bin and ext objects become base-less strings of hex.
 */
void sdx_json_print(FILE *out, const msgpack_object *obj);

/* Write S (NUL-terminated) as a JSON string literal, quotes included. */
void sdx_json_print_str(FILE *out, const char *s, size_t len);

#endif /* SDX_JSON_H */
