/*
 * cache: the result cache every worker shares (issue 7: a chatbot
 * repeats itself).
 *
 * A reply body is a pure function of the request (without its `id`) and
 * of the index revision that answered it, so a body answered once can be
 * answered again from memory.  The key is a canonical byte string made
 * from the decoded request (sdx_cache_key: sdx_request_pack's canonical
 * form, every key the op takes, so neither the order of the frame's
 * keys, nor its id, nor a default spelled out matters) and the
 * answering handle's revision (its database path, which
 * names the rev-NNNNNN directory, and Xapian's revision number).  A new
 * index is a new path: entries of the old revision are never found again
 * and age out of the LRU list.  The value is the body's packed pairs
 * (sdx_body_t's buffer and key count), without the envelope: the worker
 * wraps it again with the request's own id and the real took_us.
 *
 * One mutex guards everything.  A lookup or insert holds it for a hash
 * probe and a copy of a few kilobytes (about a microsecond), against the
 * tens of microseconds of a search, so two to a few dozen workers do not
 * queue on it; striping would only matter beyond that.  Memory is
 * bounded by max_bytes counting each entry's header, key and value; the
 * bucket array (one pointer per 256 bytes of the bound) comes on top and
 * is fixed at creation.
 */
#include "daemon.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


#define CACHE_BYTES_PER_BUCKET 256 /* bound / this = buckets, bytes */
#define CACHE_MIN_BUCKETS 64       /* buckets at least */
#define CACHE_ENTRY_MAX_SHARE 8    /* an entry over bound / this is not
                                      kept: one huge reply must not empty
                                      the cache */

typedef struct entry {
    struct entry *hnext;       /* next in the bucket's chain */
    struct entry *prev, *next; /* LRU list: prev is more recent */
    uint64_t hash;             /* FNV-1a 64 of the key */
    size_t klen;               /* key bytes */
    size_t vlen;               /* value bytes (the body's pairs) */
    unsigned nkeys;            /* pairs in the value */
    unsigned char bytes[];     /* the key, then the value */
} entry_t;

struct sdx_cache {
    pthread_mutex_t mu;        /* guards everything below */
    size_t max_bytes;          /* the bound, bytes; 0: off */
    size_t bytes;              /* entries' bytes (header, key, value) */
    size_t nentries;           /* entries held */
    entry_t **buckets;         /* hash table, chained */
    size_t nbuckets;           /* a power of two */
    entry_t *head, *tail;      /* LRU: head most recent */
    uint64_t hits, misses;     /* lookups answered / not, since start */
};

static size_t
s_entry_size(const entry_t *e)
{
    return sizeof *e + e->klen + e->vlen;
}

sdx_cache_t *
sdx_cache_new(size_t max_bytes)
{
    sdx_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_bytes = max_bytes;
    if (max_bytes) {
        size_t want = max_bytes / CACHE_BYTES_PER_BUCKET;
        c->nbuckets = CACHE_MIN_BUCKETS;
        while (c->nbuckets < want && c->nbuckets < ((size_t)1 << 30))
            c->nbuckets <<= 1;
        if (!(c->buckets = calloc(c->nbuckets, sizeof *c->buckets))) {
            free(c);
            return NULL;
        }
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    return c;
}

void
sdx_cache_destroy(sdx_cache_t **cache_p)
{
    if (!cache_p || !*cache_p)
        return;
    sdx_cache_t *c = *cache_p;
    for (entry_t *e = c->head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
    *cache_p = NULL;
}

bool
sdx_cache_enabled(const sdx_cache_t *cache)
{
    return cache && cache->max_bytes > 0;
}

/* Unlink E from the LRU list. */
static void
s_lru_unlink(sdx_cache_t *c, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

/* Put E at the head (most recent). */
static void
s_lru_push(sdx_cache_t *c, entry_t *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* The slot holding the entry for KEY (or the NULL at its chain's end). */
static entry_t **
s_find(sdx_cache_t *c, uint64_t hash, const void *key, size_t klen)
{
    entry_t **slot = &c->buckets[hash & (c->nbuckets - 1)];
    for (; *slot; slot = &(*slot)->hnext)
        if ((*slot)->hash == hash && (*slot)->klen == klen &&
            memcmp((*slot)->bytes, key, klen) == 0)
            break;
    return slot;
}

/* Remove E (in the table and the list) and free it. */
static void
s_evict(sdx_cache_t *c, entry_t *e)
{
    entry_t **slot = s_find(c, e->hash, e->bytes, e->klen);
    if (*slot == e)
        *slot = e->hnext;
    s_lru_unlink(c, e);
    c->bytes -= s_entry_size(e);
    c->nentries--;
    free(e);
}

bool
sdx_cache_get(sdx_cache_t *cache, const void *key, size_t klen,
              sdx_body_t *body)
{
    if (!sdx_cache_enabled(cache))
        return false;
    uint64_t h = sdx_fnv1a(SDX_FNV1A_INIT, key, klen);
    bool hit = false;
    pthread_mutex_lock(&cache->mu);
    entry_t *e = *s_find(cache, h, key, klen);
    if (e) {
        /* copied under the lock: the entry may be evicted right after */
        if (msgpack_sbuffer_write(&body->sb,
                                  (const char *)e->bytes + e->klen,
                                  e->vlen) == 0) {
            body->nkeys = e->nkeys;
            s_lru_unlink(cache, e);
            s_lru_push(cache, e);
            hit = true;
        }
    }
    if (hit)
        cache->hits++;
    else
        cache->misses++;
    pthread_mutex_unlock(&cache->mu);
    return hit;
}

void
sdx_cache_put(sdx_cache_t *cache, const void *key, size_t klen,
              const sdx_body_t *body)
{
    if (!sdx_cache_enabled(cache) || body->failed)
        return;
    size_t vlen = body->sb.size;
    size_t size = sizeof(entry_t) + klen + vlen;
    if (size > cache->max_bytes / CACHE_ENTRY_MAX_SHARE)
        return;
    /* allocated and filled outside the lock */
    entry_t *e = malloc(size);
    if (!e)
        return;  /* a cache that cannot grow just misses */
    memset(e, 0, sizeof *e);
    e->hash = sdx_fnv1a(SDX_FNV1A_INIT, key, klen);
    e->klen = klen;
    e->vlen = vlen;
    e->nkeys = body->nkeys;
    memcpy(e->bytes, key, klen);
    if (vlen)
        memcpy(e->bytes + klen, body->sb.data, vlen);

    pthread_mutex_lock(&cache->mu);
    entry_t **slot = s_find(cache, e->hash, key, klen);
    if (*slot) {
        /* another worker answered the same request meanwhile */
        pthread_mutex_unlock(&cache->mu);
        free(e);
        return;
    }
    while (cache->tail && cache->bytes + size > cache->max_bytes)
        s_evict(cache, cache->tail);
    /* the slot may have moved with an eviction in the same chain */
    slot = &cache->buckets[e->hash & (cache->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    s_lru_push(cache, e);
    cache->bytes += size;
    cache->nentries++;
    pthread_mutex_unlock(&cache->mu);
}

void
sdx_cache_snapshot(sdx_cache_t *cache, sdx_cache_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!cache)
        return;
    pthread_mutex_lock(&cache->mu);
    out->hits = cache->hits;
    out->misses = cache->misses;
    out->entries = cache->nentries;
    out->bytes = cache->bytes;
    out->max_bytes = cache->max_bytes;
    pthread_mutex_unlock(&cache->mu);
}

bool
sdx_cache_op(sdx_op_t op)
{
    switch (op) {
    case SDX_OP_SEARCH:
    case SDX_OP_LADDER:
    case SDX_OP_ROW:
    case SDX_OP_GET:
    case SDX_OP_CONTEXT:
    case SDX_OP_SUGGEST:
    case SDX_OP_FIT:
    case SDX_OP_DIFF:
    case SDX_OP_FIRST:
    case SDX_OP_VERIFY:
    case SDX_OP_GAPS:
        return true;
    default:
        return false;  /* ping and stats change with every call */
    }
}

/* msgpack_sbuffer's writer, remembering failure in *FAILED. */
typedef struct keybuf {
    msgpack_sbuffer sb;        /* the key being made */
    bool failed;               /* a write ran out of memory */
} keybuf_t;

static int
s_key_write(void *data, const char *buf, size_t len)
{
    keybuf_t *k = data;
    if (k->failed || msgpack_sbuffer_write(&k->sb, buf, len) != 0) {
        k->failed = true;
        return -1;
    }
    return 0;
}

void *
sdx_cache_key(const sdx_request_t *req, const char *db_path, uint64_t rev,
              size_t *len)
{
    keybuf_t k = {.failed = false};
    msgpack_packer pk;
    msgpack_sbuffer_init(&k.sb);
    msgpack_packer_init(&pk, &k, s_key_write);
    /* The request's canonical form (sdx_proto's key table: every key an
       op takes, so a key added there is in here too), without its id. */
    msgpack_pack_array(&pk, 3);
    sdx_msgpack_pack_str(&pk, db_path);
    msgpack_pack_uint64(&pk, rev);
    sdx_request_pack(req, false, &pk);
    if (k.failed) {
        msgpack_sbuffer_destroy(&k.sb);
        return NULL;
    }
    *len = k.sb.size;
    return msgpack_sbuffer_release(&k.sb);
}
