/*
 * sdx_clause: the clause record's lifecycle and its msgpack form.
 *
 * The msgpack map packed here is stored in the index's record slot by
 * the indexer and copied into replies by the daemon without being rebuilt,
 * so this is the only place that knows the record's key names.
 */
#include "sdx_clause.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_msgpack.h"

const char *const sdx_sections[] = {
    "summary", "scope", "responsibility", "ksa",
    "education", "condition", "environment", NULL,
};

bool
sdx_section_valid(const char *name)
{
    for (const char *const *s = sdx_sections; *s; s++)
        if (strcmp(*s, name) == 0)
            return true;
    return false;
}

sdx_status_t
sdx_clause_set(char **field, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return SDX_NOMEM;
    free(*field);
    *field = copy;
    return SDX_OK;
}

/* The string members, in packing order, for loops over all of them. */
#define CLAUSE_STRINGS(c)                                                   \
    { &(c)->id, &(c)->series, &(c)->job_code, &(c)->title, &(c)->flsa,      \
      &(c)->row, &(c)->section, &(c)->text }

sdx_clause_t *
sdx_clause_new(void)
{
    sdx_clause_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    char **fields[] = CLAUSE_STRINGS(c);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (sdx_clause_set(fields[i], "") != SDX_OK) {
            sdx_clause_destroy(&c);
            return NULL;
        }
    }
    return c;
}

void
sdx_clause_destroy(sdx_clause_t **clause_p)
{
    if (!clause_p || !*clause_p)
        return;
    sdx_clause_t *c = *clause_p;
    char **fields[] = CLAUSE_STRINGS(c);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free(*fields[i]);
    free(c);
    *clause_p = NULL;
}

int
sdx_slug(const char *label, char *out, size_t out_size)
{
    size_t n = 0;
    bool dash = false;
    if (out_size == 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
        if (isalnum(*p) && *p < 0x80) {
            if (dash && n > 0) {
                if (n + 1 >= out_size)
                    goto full;
                out[n++] = '-';
            }
            dash = false;
            if (n + 1 >= out_size)
                goto full;
            out[n++] = (char)tolower(*p);
        } else {
            dash = true;
        }
    }
    out[n] = '\0';
    return (int)n;
full:
    out[n] = '\0';
    return -1;
}

/* Pack the pair KEY: the str S. */
static void
s_pack_pair(msgpack_packer *pk, const char *key, const char *s)
{
    sdx_msgpack_pack_str(pk, key);
    sdx_msgpack_pack_str(pk, s);
}

/* Pack the pair KEY: the int V. */
static void
s_pack_int_pair(msgpack_packer *pk, const char *key, int v)
{
    sdx_msgpack_pack_str(pk, key);
    msgpack_pack_int(pk, v);
}

void
sdx_clause_pack(const sdx_clause_t *c, msgpack_packer *pk, unsigned extra)
{
    msgpack_pack_map(pk, SDX_CLAUSE_FIELDS + extra);
    s_pack_pair(pk, "id", c->id);
    s_pack_pair(pk, "series", c->series);
    s_pack_int_pair(pk, "level", c->level);
    s_pack_pair(pk, "job_code", c->job_code);
    s_pack_pair(pk, "title", c->title);
    s_pack_pair(pk, "flsa", c->flsa);
    s_pack_pair(pk, "row", c->row);
    s_pack_pair(pk, "section", c->section);
    s_pack_int_pair(pk, "item", c->item);
    s_pack_pair(pk, "text", c->text);
}

/*
 * Read the msgpack str or scalar at P[*i], bounded by LEN: for a str,
 * *s and *n are its bytes.  Returns false on anything else (arrays, maps,
 * floats, bin: a clause record has none) or when it runs past LEN.
 */
static bool
s_scalar(const unsigned char *p, size_t len, size_t *i, const char **s,
         size_t *n)
{
    if (*i >= len)
        return false;
    unsigned char c = p[(*i)++];
    size_t body = 0, hdr = 0;
    *s = NULL;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return true;                       /* fixint, nil, bool */
    if (c >= 0xcc && c <= 0xd3) {          /* (u)int 8..64 */
        size_t w = (size_t)1 << ((c - 0xcc) & 3);
        if (len - *i < w)
            return false;
        *i += w;
        return true;
    }
    if (c >= 0xa0 && c <= 0xbf)
        body = c & 0x1f;
    else if (c == 0xd9)
        hdr = 1;
    else if (c == 0xda)
        hdr = 2;
    else if (c == 0xdb)
        hdr = 4;
    else
        return false;
    if (len - *i < hdr)
        return false;
    for (size_t k = 0; k < hdr; k++)
        body = body << 8 | p[(*i)++];
    if (len - *i < body)
        return false;
    *s = (const char *)p + *i;
    *n = body;
    *i += body;
    return true;
}

bool
sdx_clause_text(const void *buf, size_t len, const char **text,
                size_t *text_len)
{
    const unsigned char *p = buf;
    size_t i = 0, n = 0;
    if (len < 1)
        return false;
    if (p[0] >= 0x80 && p[0] <= 0x8f) {
        n = p[0] & 0x0f;
        i = 1;
    } else if (p[0] == 0xde && len >= 3) {
        n = (size_t)p[1] << 8 | p[2];
        i = 3;
    } else {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        const char *key, *val;
        size_t klen = 0, vlen = 0;
        if (!s_scalar(p, len, &i, &key, &klen) || !key ||
            !s_scalar(p, len, &i, &val, &vlen))
            return false;
        if (klen == 4 && memcmp(key, "text", 4) == 0) {
            if (!val)
                return false;
            *text = val;
            *text_len = vlen;
            return true;
        }
    }
    return false;
}

static bool
key_is(const msgpack_object *key, const char *name)
{
    size_t len = strlen(name);
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == len &&
           memcmp(key->via.str.ptr, name, len) == 0;
}

static sdx_status_t
copy_str(char **field, const msgpack_object *val)
{
    if (val->type != MSGPACK_OBJECT_STR)
        return SDX_BAD_INPUT;
    char *copy = strndup(val->via.str.ptr, val->via.str.size);
    if (!copy)
        return SDX_NOMEM;
    free(*field);
    *field = copy;
    return SDX_OK;
}

static sdx_status_t
copy_int(int *field, const msgpack_object *val)
{
    if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        val->via.u64 > 1000000)
        return SDX_BAD_INPUT;
    *field = (int)val->via.u64;
    return SDX_OK;
}

sdx_status_t
sdx_clause_unpack(const msgpack_object *obj, sdx_clause_t **out)
{
    sdx_status_t st = SDX_OK;
    *out = NULL;
    if (obj->type != MSGPACK_OBJECT_MAP)
        return SDX_BAD_INPUT;
    sdx_clause_t *c = sdx_clause_new();
    if (!c)
        return SDX_NOMEM;
    for (uint32_t i = 0; i < obj->via.map.size && st == SDX_OK; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        const msgpack_object *v = &obj->via.map.ptr[i].val;
        if (key_is(k, "id"))            st = copy_str(&c->id, v);
        else if (key_is(k, "series"))   st = copy_str(&c->series, v);
        else if (key_is(k, "level"))    st = copy_int(&c->level, v);
        else if (key_is(k, "job_code")) st = copy_str(&c->job_code, v);
        else if (key_is(k, "title"))    st = copy_str(&c->title, v);
        else if (key_is(k, "flsa"))     st = copy_str(&c->flsa, v);
        else if (key_is(k, "row"))      st = copy_str(&c->row, v);
        else if (key_is(k, "section"))  st = copy_str(&c->section, v);
        else if (key_is(k, "item"))     st = copy_int(&c->item, v);
        else if (key_is(k, "text"))     st = copy_str(&c->text, v);
    }
    if (st != SDX_OK) {
        sdx_clause_destroy(&c);
        return st;
    }
    *out = c;
    return SDX_OK;
}

sdx_status_t
sdx_clause_from_msgpack(const void *buf, size_t len, sdx_clause_t **out)
{
    msgpack_unpacked msg;
    size_t off = 0;
    sdx_status_t st = SDX_BAD_INPUT;
    *out = NULL;
    msgpack_unpacked_init(&msg);
    if (msgpack_unpack_next(&msg, buf, len, &off) == MSGPACK_UNPACK_SUCCESS)
        st = sdx_clause_unpack(&msg.data, out);
    msgpack_unpacked_destroy(&msg);
    return st;
}

