/*
 * sdx_client: Lazy Pirate request loop over ZeroMQ REQ sockets, one per
 * replica.
 *
 * Each endpoint of the list is a replica: a daemon serving the same
 * index.  Requests go round the replicas in turn, one socket each, made
 * when first needed.  A replica that stays silent for a timeout (or
 * answers `unavailable` or `overloaded`) is put aside for a back-off
 * that starts at backoff_min_ms and doubles with each failure in a row
 * up to backoff_max_ms; the request is sent again to the next replica
 * in service.  When the back-off has passed, the replica gets requests
 * again (its next request is the probe); one reply puts it back in
 * service.  When every replica is put aside, the one whose back-off
 * ends first is tried rather than none: a caller never fails without an
 * attempt.
 *
 * A socket is thrown away after any attempt that timed out: a REQ socket
 * whose reply never came cannot send again, and a fresh socket also drops
 * whatever the old one still had queued (LINGER 0), so a dead daemon
 * never makes a client hang on exit.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "sdx_client.h"
#include "client_private.h"
#include "sdx_util.h" /* sdx_now_us: the monotonic clock */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

/* One daemon of the list and what this client knows of it. */
typedef struct replica {
    char *endpoint;        /* ZeroMQ endpoint, owned */
    void *sock;            /* REQ socket, NULL until needed */
    uint64_t retry_us;     /* put aside until then (monotonic); 0: in
                              service */
    unsigned failures;     /* failures in a row, for the back-off */
    uint64_t answered;     /* replies from it, over the client's life */
} replica_t;

struct sdx_client {
    void *ctx;             /* ZeroMQ context, the client's own or shared */
    bool own_ctx;          /* CTX is this client's: terminate it */
    replica_t *replicas;   /* the endpoints */
    size_t nreplicas;      /* number of REPLICAS */
    size_t next;           /* replica to try first next time */
    size_t last;           /* replica that sent the last reply, or
                              NREPLICAS */
    int timeout_ms;        /* wait for one reply, milliseconds */
    int attempts;          /* attempts per request */
    int backoff_min_ms;    /* first back-off of a failing replica */
    int backoff_max_ms;    /* longest back-off */
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

bool
sdx_client_endpoints_valid(const char *const *endpoints, size_t nendpoints)
{
    if (!endpoints || nendpoints == 0)
        return false;
    for (size_t i = 0; i < nendpoints; i++)
        if (!endpoints[i] || !*endpoints[i])
            return false;
    return true;
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
    if (!sdx_client_endpoints_valid(endpoints, nendpoints) ||
        timeout_ms <= 0 || attempts <= 0)
        return SDX_BAD_INPUT;
    sdx_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return SDX_NOMEM;
    c->timeout_ms = timeout_ms;
    c->attempts = attempts;
    c->backoff_min_ms = SDX_CLIENT_DEFAULT_BACKOFF_MIN_MS;
    c->backoff_max_ms = SDX_CLIENT_DEFAULT_BACKOFF_MAX_MS;
    c->replicas = calloc(nendpoints, sizeof *c->replicas);
    if (!c->replicas)
        goto nomem;
    for (size_t i = 0; i < nendpoints; i++) {
        c->replicas[i].endpoint = strdup(endpoints[i]);
        if (!c->replicas[i].endpoint)
            goto nomem;
        c->nreplicas++;
    }
    /* Many short-lived clients (one CLI run each) would all start on
       the first replica; a start that differs by process spreads them. */
    c->next = ((size_t)getpid() ^ (size_t)(sdx_now_us() / 1000u)) % nendpoints;
    c->last = c->nreplicas;
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

sdx_status_t
sdx_client_set_backoff(sdx_client_t *c, int min_ms, int max_ms)
{
    if (min_ms <= 0 || max_ms < min_ms)
        return SDX_BAD_INPUT;
    c->backoff_min_ms = min_ms;
    c->backoff_max_ms = max_ms;
    return SDX_OK;
}

static void
close_socket(replica_t *r)
{
    if (r->sock) {
        zmq_close(r->sock);
        r->sock = NULL;
    }
}

/*
 * The replica the next attempt goes to: the first in service (or whose
 * back-off has passed) from the round's cursor on; when all are put
 * aside, the one back soonest.  Moves the cursor past it.
 */
static size_t
pick_replica(sdx_client_t *c)
{
    uint64_t now = sdx_now_us();
    size_t soonest = c->next;
    for (size_t k = 0; k < c->nreplicas; k++) {
        size_t i = (c->next + k) % c->nreplicas;
        if (c->replicas[i].retry_us <= now) {
            soonest = i;
            break;
        }
        if (c->replicas[i].retry_us < c->replicas[soonest].retry_us)
            soonest = i;
    }
    c->next = (soonest + 1) % c->nreplicas;
    return soonest;
}

/* REPLICA failed once more: put it aside for its back-off. */
static void
put_aside(sdx_client_t *c, replica_t *r)
{
    uint64_t ms = (uint64_t)c->backoff_min_ms;
    for (unsigned i = 1; i < r->failures && ms < (uint64_t)c->backoff_max_ms;
         i++)
        ms *= 2;
    if (r->failures < 64)
        r->failures++;
    if (ms > (uint64_t)c->backoff_max_ms)
        ms = (uint64_t)c->backoff_max_ms;
    r->retry_us = sdx_now_us() + ms * 1000u;
}

/* Open REPLICA's REQ socket and connect it. */
static sdx_status_t
open_socket(sdx_client_t *c, replica_t *r)
{
    int linger = 0;
    int64_t maxmsg = SDX_CLIENT_MAX_REPLY;

    r->sock = zmq_socket(c->ctx, ZMQ_REQ);
    if (!r->sock) {
        set_error(c, "cannot create socket: %s", zmq_strerror(errno));
        return SDX_IO;
    }
    if (c->curve &&
        (zmq_setsockopt(r->sock, ZMQ_CURVE_SERVERKEY, c->server_key, 41)
             != 0 ||
         zmq_setsockopt(r->sock, ZMQ_CURVE_PUBLICKEY, c->public_key, 41)
             != 0 ||
         zmq_setsockopt(r->sock, ZMQ_CURVE_SECRETKEY, c->secret_key, 41)
             != 0)) {
        set_error(c, "cannot set CURVE keys: %s", zmq_strerror(errno));
        close_socket(r);
        return SDX_IO;
    }
    /* A REQ socket with no connection to queue on (its handshakes
     * refused: a wrong CURVE key, a plaintext daemon) blocks in
     * zmq_send; the attempt's timeout bounds that too. */
    if (zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(r->sock, ZMQ_SNDTIMEO, &c->timeout_ms,
                       sizeof c->timeout_ms) != 0 ||
        zmq_setsockopt(r->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
            != 0 ||
        zmq_connect(r->sock, r->endpoint) != 0) {
        set_error(c, "cannot connect to %s: %s", r->endpoint,
                  zmq_strerror(errno));
        close_socket(r);
        return SDX_IO;
    }
    return SDX_OK;
}

sdx_status_t
sdx_client_reply_unpack(const void *data, size_t len,
                        sdx_client_reply_t **out)
{
    size_t off = 0;
    *out = NULL;
    sdx_client_reply_t *r = calloc(1, sizeof *r);
    if (!r)
        return SDX_NOMEM;
    msgpack_unpacked_init(&r->msg);
    r->bytes = malloc(len ? len : 1);
    if (!r->bytes) {
        sdx_client_reply_destroy(&r);
        return SDX_NOMEM;
    }
    memcpy(r->bytes, data, len);
    if (msgpack_unpack_next(&r->msg, r->bytes, len, &off)
            != MSGPACK_UNPACK_SUCCESS ||
        off != len || r->msg.data.type != MSGPACK_OBJECT_MAP) {
        sdx_client_reply_destroy(&r);
        return SDX_BAD_INPUT;
    }
    *out = r;
    return SDX_OK;
}

/* Unpack FRAME into a new reply; it must be exactly one msgpack map. */
static sdx_status_t
unpack_reply(sdx_client_t *c, zmq_msg_t *frame, sdx_client_reply_t **out)
{
    sdx_status_t st = sdx_client_reply_unpack(zmq_msg_data(frame),
                                              zmq_msg_size(frame), out);
    if (st == SDX_BAD_INPUT)
        set_error(c, "the daemon's reply is not a msgpack map");
    return st;
}

/*
 * True when REPLY says its daemon cannot serve now (no index yet, a
 * full queue) rather than anything about the request: another replica
 * may answer it.
 */
static bool
replica_cannot_serve(const sdx_client_reply_t *reply)
{
    char code[32];
    if (sdx_client_reply_ok(reply))
        return false;
    sdx_client_reply_error(reply, code, sizeof code, NULL, 0);
    return strcmp(code, "unavailable") == 0 || strcmp(code, "overloaded") == 0;
}

/*
 * One attempt on replica R: send REQ and wait for its reply, within the
 * client's timeout in all.  SDX_OK with *out set when a reply came;
 * SDX_UNAVAILABLE on silence, or when the request could not even be
 * queued in that time (R's socket closed); SDX_IO or SDX_NOMEM.
 */
static sdx_status_t
attempt(sdx_client_t *c, replica_t *r, const void *req, size_t len,
        sdx_client_reply_t **out)
{
    sdx_status_t st;
    if (!r->sock && (st = open_socket(c, r)) != SDX_OK)
        return st;
    uint64_t deadline = sdx_now_us() + (uint64_t)c->timeout_ms * 1000u;
    int sent;
    do {
        sent = zmq_send(r->sock, req, len, 0);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno == EAGAIN) {
        /* no connection took it (ZMQ_SNDTIMEO): silence */
        close_socket(r);
        return SDX_UNAVAILABLE;
    }
    if (sent < 0) {
        set_error(c, "cannot send to %s: %s", r->endpoint,
                  zmq_strerror(errno));
        close_socket(r);
        return SDX_IO;
    }
    zmq_pollitem_t item = { r->sock, 0, ZMQ_POLLIN, 0 };
    int rc;
    do {
        uint64_t now = sdx_now_us();
        long left = now < deadline ? (long)((deadline - now + 999) / 1000)
                                   : 0;
        rc = zmq_poll(&item, 1, left);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        /* Silence: this socket is spent. */
        close_socket(r);
        return SDX_UNAVAILABLE;
    }
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, r->sock, 0) < 0) {
        set_error(c, "cannot receive from %s: %s", r->endpoint,
                  zmq_strerror(errno));
        zmq_msg_close(&frame);
        close_socket(r);
        return SDX_IO;
    }
    st = unpack_reply(c, &frame, out);
    zmq_msg_close(&frame);
    return st;
}

sdx_status_t
sdx_client_call(sdx_client_t *c, const void *req, size_t len,
                sdx_client_reply_t **out)
{
    sdx_status_t st = SDX_UNAVAILABLE;
    sdx_client_reply_t *held = NULL; /* a replica's "cannot serve now" */
    *out = NULL;
    c->errmsg[0] = '\0';
    c->errcode[0] = '\0';
    for (int n = 0; n < c->attempts; n++) {
        size_t i = pick_replica(c);
        replica_t *r = &c->replicas[i];
        sdx_client_reply_t *reply = NULL;
        st = attempt(c, r, req, len, &reply);
        if (st == SDX_NOMEM)
            break;
        if (st != SDX_OK) {
            /* Silence or a broken socket: the next attempt goes to the
               next replica in service. */
            put_aside(c, r);
            continue;
        }
        /* A reply: the daemon is there, whatever it said. */
        r->answered++;
        c->last = i;
        sdx_client_reply_destroy(&held);
        if (replica_cannot_serve(reply) && c->nreplicas > 1) {
            /* Reads are idempotent: another replica may serve it; this
               answer stands if none does. */
            put_aside(c, r);
            held = reply;
            continue;
        }
        r->failures = 0;
        r->retry_us = 0;
        *out = reply;
        return SDX_OK;
    }
    if (held) {
        c->errmsg[0] = '\0';
        *out = held;
        return SDX_OK;
    }
    if (st == SDX_UNAVAILABLE) {
        if (c->nreplicas == 1)
            set_error(c, "no reply from %s after %d attempt%s of %d ms "
                      "(is specdexd running?)", c->replicas[0].endpoint,
                      c->attempts, c->attempts == 1 ? "" : "s",
                      c->timeout_ms);
        else
            set_error(c, "no reply from any of %zu endpoints after %d "
                      "attempts of %d ms (is specdexd running?)",
                      c->nreplicas, c->attempts, c->timeout_ms);
    }
    return st;
}

const char *
sdx_client_last_endpoint(const sdx_client_t *c)
{
    return c->last < c->nreplicas ? c->replicas[c->last].endpoint : NULL;
}

uint64_t
sdx_client_replica_answered(const sdx_client_t *c, size_t i)
{
    return i < c->nreplicas ? c->replicas[i].answered : 0;
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
    /* the next request connects with the keys */
    for (size_t i = 0; i < c->nreplicas; i++)
        close_socket(&c->replicas[i]);
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
    for (size_t i = 0; i < c->nreplicas; i++) {
        close_socket(&c->replicas[i]);
        free(c->replicas[i].endpoint);
    }
    if (c->ctx && c->own_ctx)
        zmq_ctx_term(c->ctx);
    explicit_bzero(c->secret_key, sizeof c->secret_key);
    free(c->replicas);
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
