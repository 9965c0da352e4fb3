/*
 * sdx_msgpack: a C string packed, a map's key found (sdx_msgpack.h).
 */
#include "sdx_msgpack.h"

#include <string.h>

void
sdx_msgpack_pack_str(msgpack_packer *pk, const char *s)
{
    if (!s) {
        msgpack_pack_nil(pk);
        return;
    }
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

const msgpack_object *
sdx_msgpack_get(const msgpack_object *map, const char *key)
{
    size_t klen = strlen(key);
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}
