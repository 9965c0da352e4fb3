/*
 * sdx_json: msgpack data as JSON and back, through jansson.  One
 * translation serves every place JSON crosses into or out of specdex:
 * `specdex-index --dump` (clause records), the CLI's --json (a reply's
 * data), and the gateways (gateway/: HTTP/JSON and MCP), which turn a
 * JSON request into the daemon's msgpack request and its msgpack reply
 * into JSON with these two calls and no knowledge of any op, so an op
 * added to the daemon is served with no gateway code.
 *
 * The jansson type is named through its struct tag, so this header
 * does not need <jansson.h>; callers that build or read trees include
 * it themselves.
 */
#ifndef SDX_JSON_H
#define SDX_JSON_H

#include <stddef.h>
#include <stdio.h>

#include <msgpack.h>

#include "sdx_status.h"

struct json_t; /* jansson's value (json_t in <jansson.h>) */

/*
 * OBJ as a new jansson value (caller owns; json_decref), or NULL when out
 * of memory.  Text keeps its UTF-8; invalid UTF-8 bytes become U+FFFD.
 * Map keys that are not strings become strings of their compact JSON
 * form; bin and ext objects become strings of hex digits; a float that
 * is not finite becomes null (JSON has no NaN).
 */
struct json_t *sdx_json_from_msgpack(const msgpack_object *obj);

/*
 * OBJ as compact JSON text, by the rules of sdx_json_from_msgpack, as
 * jansson's json_dumps writes it (JSON_COMPACT, 17 digits of a real):
 * malloc'd and NUL-terminated (caller frees), its length in *LEN when
 * LEN is not NULL; NULL when out of memory.  Written straight from the
 * msgpack objects, with no tree.
 */
char *sdx_json_dumps(const msgpack_object *obj, size_t *len);

/*
 * Pack the JSON value V into PK: objects become maps with str keys,
 * arrays arrays, strings str, integers ints, reals float64, true/false
 * bool, null nil.  Nothing is checked beyond that: what a value means is
 * the daemon's to judge (sdx_proto), so a request is refused with the
 * same messages whichever way it came.  Returns SDX_OK, or SDX_NOMEM
 * when the packer's buffer could not grow.
 */
sdx_status_t sdx_json_to_msgpack(const struct json_t *v, msgpack_packer *pk);

/*
 * Write OBJ to OUT as compact JSON on one line (no newline added), as
 * sdx_json_from_msgpack converts it; non-ASCII text is written as UTF-8,
 * control characters with JSON's escapes.
 */
void sdx_json_print(FILE *out, const msgpack_object *obj);

#endif /* SDX_JSON_H */
