/*
 * gw: the JSON <-> daemon call of the gateways, their client pool, the
 * error codes' HTTP statuses and the token file (gw.h).
 */
#include "gw.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "sdx_json.h"

int
gw_pool_init(gw_pool_t *pool, const gw_daemon_t *daemon, size_t max)
{
    memset(pool, 0, sizeof *pool);
    pool->daemon = daemon;
    pool->max = max ? max : 1;
    pool->free_ = calloc(pool->max, sizeof *pool->free_);
    pool->ctx = zmq_ctx_new();
    if (!pool->free_ || !pool->ctx) {
        free(pool->free_);
        pool->free_ = NULL;
        if (pool->ctx)
            zmq_ctx_term(pool->ctx);
        return -1;
    }
    pthread_mutex_init(&pool->lock, NULL);
    return 0;
}

void
gw_pool_destroy(gw_pool_t *pool)
{
    if (!pool->free_)
        return;
    for (size_t i = 0; i < pool->nfree; i++)
        sdx_client_destroy(&pool->free_[i]);
    free(pool->free_);
    pool->free_ = NULL;
    zmq_ctx_term(pool->ctx);
    pthread_mutex_destroy(&pool->lock);
}

/* An idle client, or a new one; NULL when none could be made. */
static sdx_client_t *
s_borrow(gw_pool_t *pool)
{
    sdx_client_t *c = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->nfree > 0)
        c = pool->free_[--pool->nfree];
    pthread_mutex_unlock(&pool->lock);
    if (c)
        return c;
    const gw_daemon_t *d = pool->daemon;
    if (sdx_client_new_in(pool->ctx, d->endpoints, d->nendpoints, d->timeout_ms,
                       d->attempts, &c) != SDX_OK)
        return NULL;
    return c;
}

/* Give C back, or close it when the pool is full. */
static void
s_give_back(gw_pool_t *pool, sdx_client_t *c)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->nfree < pool->max) {
        pool->free_[pool->nfree++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    sdx_client_destroy(&c);
}

json_t *
gw_error(const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:i, s:b, s:{s:s, s:s}}", "v", 1, "ok", 0, "error",
                     "code", code, "message", msg);
}

const char *
gw_error_code(const json_t *reply)
{
    if (json_is_true(json_object_get(reply, "ok")))
        return NULL;
    const char *code = json_string_value(
        json_object_get(json_object_get(reply, "error"), "code"));
    return code ? code : "internal";
}

int
gw_http_status(const char *code, int *retry_after)
{
    /* The daemon's codes (docs/PROTOCOL.md) and the gateways' own. */
    static const struct { const char *code; int status, retry; } map[] = {
        {"bad_request", 400, 0},
        {"bad_query", 400, 0},
        {"unsupported_version", 400, 0},
        {"unauthorized", 401, 0},
        {"unknown_op", 404, 0},
        {"not_found", 404, 0},
        {"method_not_allowed", 405, 0},
        {"too_large", 413, 0},
        {"overloaded", 429, 1},
        {"internal", 500, 0},
        {"unavailable", 503, 1},
        {"timeout", 504, 0},
    };
    *retry_after = 0;
    if (!code)
        return 200;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(code, map[i].code) == 0) {
            *retry_after = map[i].retry;
            return map[i].status;
        }
    }
    /* A code a newer daemon added: a failure the gateway cannot name. */
    return 502;
}

json_t *
gw_pack(const char *op, const json_t *req, msgpack_sbuffer *sb)
{
    if (!json_is_object(req))
        return gw_error("bad_request", "the request must be a JSON object");
    const json_t *given = json_object_get(req, "op");
    if (given && !(json_is_string(given) &&
                   strcmp(json_string_value(given), op) == 0))
        return gw_error("bad_request",
                        "op: the body names another op than the path (%s)",
                        op);
    bool has_v = json_object_get(req, "v") != NULL;
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t n = json_object_size(req) - (given != NULL) + 1 + !has_v;
    int rc = msgpack_pack_map(&pk, n);
    if (rc == 0)
        rc = msgpack_pack_str_with_body(&pk, "op", 2);
    if (rc == 0)
        rc = msgpack_pack_str_with_body(&pk, op, strlen(op));
    if (rc == 0 && !has_v)
        rc = msgpack_pack_str_with_body(&pk, "v", 1) ||
             msgpack_pack_int(&pk, 1);
    const char *k;
    size_t klen;
    json_t *val;
    json_object_keylen_foreach((json_t *)req, k, klen, val) {
        if (rc != 0 || (klen == 2 && memcmp(k, "op", 2) == 0))
            continue;
        rc = msgpack_pack_str_with_body(&pk, k, klen);
        if (rc == 0 && sdx_json_to_msgpack(val, &pk) != SDX_OK)
            rc = -1;
    }
    if (rc != 0)
        return gw_error("internal", "out of memory");
    return NULL;
}

json_t *
gw_call(gw_pool_t *pool, const char *op, const json_t *req)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    json_t *out = gw_pack(op, req, &sb);
    if (out) {
        msgpack_sbuffer_destroy(&sb);
        return out;
    }
    sdx_client_t *c = s_borrow(pool);
    if (!c) {
        msgpack_sbuffer_destroy(&sb);
        return gw_error("internal", "could not make a client of the daemon");
    }
    sdx_client_reply_t *reply = NULL;
    sdx_status_t st = sdx_client_call(c, sb.data, sb.size, &reply);
    msgpack_sbuffer_destroy(&sb);
    if (st == SDX_OK) {
        out = sdx_json_from_msgpack(sdx_client_reply_root(reply));
        if (!out)
            out = gw_error("internal", "out of memory");
    } else if (st == SDX_UNAVAILABLE) {
        const gw_daemon_t *d = pool->daemon;
        out = gw_error("timeout",
                       "no reply from specdexd at %s within %d x %d ms "
                       "(is it running?)", d->endpoints[0], d->attempts,
                       d->timeout_ms);
    } else {
        out = gw_error("internal", "talking to specdexd: %s",
                       sdx_client_errmsg(c));
    }
    sdx_client_reply_destroy(&reply);
    /* A client whose call failed has already closed its socket (Lazy
     * Pirate) and opens a fresh one on its next call: safe to reuse. */
    s_give_back(pool, c);
    return out;
}

char *
gw_read_token(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[4098];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    buf[len] = '\0';
    if (len < 16 || len > 4096) {
        snprintf(err, errsize, "%s: the token must be 16..4096 bytes on "
                 "the first line (it is %zu)", path, len);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] <= ' ' || buf[i] > '~') {
            snprintf(err, errsize, "%s:1: byte %zu of the token is not "
                     "printable ASCII", path, i + 1);
            return NULL;
        }
    }
    char *tok = strdup(buf);
    if (!tok)
        snprintf(err, errsize, "out of memory");
    return tok;
}
