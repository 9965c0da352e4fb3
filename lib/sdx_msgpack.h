/*
 * sdx_msgpack: the two msgpack helpers every part of specdex uses, once:
 * packing a C string, and finding a key in a map.  Everything else is
 * msgpack-c's own API (<msgpack.h>), which callers use directly.
 */
#ifndef SDX_MSGPACK_H
#define SDX_MSGPACK_H

#include <msgpack.h>

/* Pack the NUL-terminated string S as a msgpack str (NULL packs nil). */
void sdx_msgpack_pack_str(msgpack_packer *pk, const char *s);

/*
 * The value of KEY in MAP (a msgpack map), or NULL when MAP is NULL, not
 * a map, or has no such str key.
 */
const msgpack_object *sdx_msgpack_get(const msgpack_object *map,
                                      const char *key);

#endif /* SDX_MSGPACK_H */
