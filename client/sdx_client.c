/*
 * sdx_client: Lazy Pirate request loop over a ZeroMQ REQ socket.
 *
 * The socket is created lazily and thrown away after any attempt that
 * timed out: a REQ socket whose reply never came cannot send again, and
 * a fresh socket also drops whatever the old one still had queued
 * (LINGER 0), so a dead daemon never makes a client hang on exit.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "sdx_client.h"
#include "client_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

/* Largest reply accepted, bytes; a bigger one is refused by ZeroMQ. */
#define CLIENT_MAX_REPLY (16 * 1024 * 1024)

struct sdx_client {
    void *ctx;             /* ZeroMQ context, the client's own or shared */
    bool own_ctx;          /* CTX is this client's: terminate it */
    void *sock;            /* REQ socket, NULL until needed */
    char **endpoints;      /* endpoints to try, in turn */
    size_t nendpoints;     /* number of ENDPOINTS */
    size_t next;           /* index of the endpoint to use next */
    int timeout_ms;        /* wait for one reply, milliseconds */
    int attempts;          /* attempts per request */
    char errmsg[512];      /* last error, "" when none */
    char errcode[32];      /* wire code of the last error reply, or "" */
    bool curve;            /* use CURVE with the keys below */
    char server_key[41];   /* daemon's public key, Z85 */
    char public_key[41];   /* this client's public key, Z85 */
    char secret_key[41];   /* this client's secret key, Z85 */
};

struct sdx_client_reply {
    msgpack_unpacked msg;  /* the reply, unpacked; owns its zone */
    char *bytes;           /* the raw frame the objects point into */
};

static void
set_error(sdx_client_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
}

sdx_status_t
sdx_client_new(const char *const *endpoints, size_t nendpoints,
               int timeout_ms, int attempts, sdx_client_t **out)
{
    return sdx_client_new_in(NULL, endpoints, nendpoints, timeout_ms,
                             attempts, out);
}

sdx_status_t
sdx_client_new_in(void *zmq_ctx, const char *const *endpoints,
                  size_t nendpoints, int timeout_ms, int attempts,
                  sdx_client_t **out)
{
    *out = NULL;
    if (!endpoints || nendpoints == 0 || timeout_ms <= 0 || attempts <= 0)
        return SDX_BAD_INPUT;
    sdx_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return SDX_NOMEM;
    c->timeout_ms = timeout_ms;
    c->attempts = attempts;
    c->endpoints = calloc(nendpoints, sizeof *c->endpoints);
    if (!c->endpoints)
        goto nomem;
    for (size_t i = 0; i < nendpoints; i++) {
        if (!endpoints[i] || !*endpoints[i]) {
            sdx_client_destroy(&c);
            return SDX_BAD_INPUT;
        }
        c->endpoints[i] = strdup(endpoints[i]);
        if (!c->endpoints[i])
            goto nomem;
        c->nendpoints++;
    }
    c->own_ctx = zmq_ctx == NULL;
    c->ctx = zmq_ctx ? zmq_ctx : zmq_ctx_new();
    if (!c->ctx) {
        sdx_client_destroy(&c);
        return SDX_IO;
    }
    *out = c;
    return SDX_OK;
nomem:
    sdx_client_destroy(&c);
    return SDX_NOMEM;
}

static void
close_socket(sdx_client_t *c)
{
    if (c->sock) {
        zmq_close(c->sock);
        c->sock = NULL;
    }
}

/* Open a REQ socket connected to the next endpoint in turn. */
static sdx_status_t
open_socket(sdx_client_t *c)
{
    int linger = 0;
    int64_t maxmsg = CLIENT_MAX_REPLY;
    const char *ep = c->endpoints[c->next];
    c->next = (c->next + 1) % c->nendpoints;

    c->sock = zmq_socket(c->ctx, ZMQ_REQ);
    if (!c->sock) {
        set_error(c, "cannot create socket: %s", zmq_strerror(errno));
        return SDX_IO;
    }
    if (c->curve &&
        (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, c->server_key, 41)
             != 0 ||
         zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->public_key, 41)
             != 0 ||
         zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, c->secret_key, 41)
             != 0)) {
        set_error(c, "cannot set CURVE keys: %s", zmq_strerror(errno));
        close_socket(c);
        return SDX_IO;
    }
    if (zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
            != 0 ||
        zmq_connect(c->sock, ep) != 0) {
        set_error(c, "cannot connect to %s: %s", ep, zmq_strerror(errno));
        close_socket(c);
        return SDX_IO;
    }
    return SDX_OK;
}

/* Unpack FRAME into a new reply; it must be exactly one msgpack map. */
static sdx_status_t
unpack_reply(sdx_client_t *c, zmq_msg_t *frame, sdx_client_reply_t **out)
{
    size_t len = zmq_msg_size(frame);
    size_t off = 0;
    sdx_client_reply_t *r = calloc(1, sizeof *r);
    if (!r)
        return SDX_NOMEM;
    msgpack_unpacked_init(&r->msg);
    r->bytes = malloc(len ? len : 1);
    if (!r->bytes) {
        sdx_client_reply_destroy(&r);
        return SDX_NOMEM;
    }
    memcpy(r->bytes, zmq_msg_data(frame), len);
    if (msgpack_unpack_next(&r->msg, r->bytes, len, &off)
            != MSGPACK_UNPACK_SUCCESS ||
        off != len || r->msg.data.type != MSGPACK_OBJECT_MAP) {
        set_error(c, "the daemon's reply is not a msgpack map");
        sdx_client_reply_destroy(&r);
        return SDX_BAD_INPUT;
    }
    *out = r;
    return SDX_OK;
}

sdx_status_t
sdx_client_call(sdx_client_t *c, const void *req, size_t len,
                sdx_client_reply_t **out)
{
    sdx_status_t st = SDX_UNAVAILABLE;
    *out = NULL;
    c->errmsg[0] = '\0';
    c->errcode[0] = '\0';
    for (int attempt = 0; attempt < c->attempts; attempt++) {
        if (!c->sock && (st = open_socket(c)) != SDX_OK)
            return st;
        if (zmq_send(c->sock, req, len, 0) < 0) {
            set_error(c, "cannot send: %s", zmq_strerror(errno));
            close_socket(c);
            st = SDX_IO;
            continue;
        }
        zmq_pollitem_t item = { c->sock, 0, ZMQ_POLLIN, 0 };
        int rc;
        do {
            rc = zmq_poll(&item, 1, c->timeout_ms);
        } while (rc < 0 && errno == EINTR);
        if (rc > 0) {
            zmq_msg_t frame;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, c->sock, 0) < 0) {
                set_error(c, "cannot receive: %s", zmq_strerror(errno));
                zmq_msg_close(&frame);
                close_socket(c);
                st = SDX_IO;
                continue;
            }
            st = unpack_reply(c, &frame, out);
            zmq_msg_close(&frame);
            return st;
        }
        /* Silence: this socket is spent.  Try afresh, maybe elsewhere. */
        close_socket(c);
        st = SDX_UNAVAILABLE;
    }
    if (st == SDX_UNAVAILABLE) {
        if (c->nendpoints == 1)
            set_error(c, "no reply from %s after %d attempt%s of %d ms "
                      "(is specdexd running?)", c->endpoints[0],
                      c->attempts, c->attempts == 1 ? "" : "s",
                      c->timeout_ms);
        else
            set_error(c, "no reply from any of %zu endpoints after %d "
                      "attempts of %d ms (is specdexd running?)",
                      c->nendpoints, c->attempts, c->timeout_ms);
    }
    return st;
}

const char *
sdx_client_errmsg(const sdx_client_t *c)
{
    return c->errmsg;
}

/* True when KEY is 40 characters of Z85 that decode. */
static bool
z85_key_valid(const char *key)
{
    uint8_t raw[32];
    return key && strlen(key) == 40 && zmq_z85_decode(raw, key) != NULL;
}

sdx_status_t
sdx_client_set_curve(sdx_client_t *c, const char *server_key,
                     const char *client_public, const char *client_secret)
{
    if (!z85_key_valid(server_key) || !z85_key_valid(client_public) ||
        !z85_key_valid(client_secret))
        return SDX_BAD_INPUT;
    memcpy(c->server_key, server_key, 41);
    memcpy(c->public_key, client_public, 41);
    memcpy(c->secret_key, client_secret, 41);
    c->curve = true;
    close_socket(c); /* the next request connects with the keys */
    return SDX_OK;
}

const char *
sdx_client_error_code(const sdx_client_t *c)
{
    return c->errcode;
}

void
sdx_client_note_error_reply(sdx_client_t *c, const sdx_client_reply_t *reply)
{
    sdx_client_reply_error(reply, c->errcode, sizeof c->errcode, c->errmsg,
                    sizeof c->errmsg);
    if (!c->errcode[0])
        snprintf(c->errcode, sizeof c->errcode, "error");
}

void
sdx_client_destroy(sdx_client_t **client_p)
{
    if (!client_p || !*client_p)
        return;
    sdx_client_t *c = *client_p;
    close_socket(c);
    if (c->ctx && c->own_ctx)
        zmq_ctx_term(c->ctx);
    explicit_bzero(c->secret_key, sizeof c->secret_key);
    for (size_t i = 0; i < c->nendpoints; i++)
        free(c->endpoints[i]);
    free(c->endpoints);
    free(c);
    *client_p = NULL;
}

const msgpack_object *
sdx_client_reply_root(const sdx_client_reply_t *r)
{
    return &r->msg.data;
}

bool
sdx_client_reply_ok(const sdx_client_reply_t *r)
{
    const msgpack_object *ok = sdx_msgpack_get(&r->msg.data, "ok");
    return ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
}

static void
copy_obj_str(const msgpack_object *o, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    if (o && o->type == MSGPACK_OBJECT_STR)
        snprintf(buf, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
}

void
sdx_client_reply_error(const sdx_client_reply_t *r, char *code,
                       size_t code_size, char *message, size_t message_size)
{
    const msgpack_object *err = sdx_msgpack_get(&r->msg.data, "error");
    copy_obj_str(sdx_msgpack_get(err, "code"), code, code_size);
    copy_obj_str(sdx_msgpack_get(err, "message"), message, message_size);
}

void
sdx_client_reply_destroy(sdx_client_reply_t **reply_p)
{
    if (!reply_p || !*reply_p)
        return;
    msgpack_unpacked_destroy(&(*reply_p)->msg);
    free((*reply_p)->bytes);
    free(*reply_p);
    *reply_p = NULL;
}
