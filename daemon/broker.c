/*
 * broker: the ZeroMQ guide's load-balancing broker (lbbroker.c,
 * ppqueue.c), changed in two ways: it reads the frontend all the time,
 * and it answers cheap requests itself ("Answering here" below).
 *
 * Clients talk to a ROUTER bound to the daemon's endpoint; workers to a
 * ROUTER on an inproc endpoint.  A worker says READY once and then sends
 * each reply; either way it is idle again and joins the idle queue.  A
 * request goes to the longest-idle worker; when none is idle it waits in
 * a bounded queue, and when that is full the broker answers `overloaded`
 * itself, at once, rather than letting requests pile up unseen (the
 * guide's broker stops reading the frontend instead, and clients then
 * only see timeouts).
 *
 * The broker also refuses what no worker should see: frames over
 * SDX_PROTO_MAX_FRAME (`too_large`) and envelopes of odd shape
 * (`bad_request`), by the one rule in sdx_proto_split().  Frames over
 * FRONTEND_MAX_MSG bytes make ZeroMQ drop the peer before the broker
 * sees them, which bounds memory.  The operator may set a lower request
 * frame limit (--max-frame); the broker applies it too.
 *
 * Every client is bounded, so that one that sends and never reads (or
 * many of them) cannot grow the daemon ("Bounds" below): at most
 * SDX_DAEMON_CLIENT_IN_FLIGHT of a connection's requests are taken and
 * unanswered (past it `overloaded`), at most SDX_DAEMON_CLIENT_FRAMES
 * frames of replies wait in ZeroMQ for it (past it a reply is dropped
 * and counted), and the kernel holds at most SDX_DAEMON_CLIENT_SNDBUF
 * bytes.
 *
 * The frontend's one socket monitor tells the broker when a connection
 * cannot be accepted (out of descriptors: logged, rate-limited, and
 * counted) and when a CURVE handshake fails (handed to zap.c).
 *
 * Stopping (SIGTERM) is a drain: the broker stops reading the frontend,
 * so no request is taken that could not be finished, and goes on
 * handing queued requests to workers and their replies to clients until
 * none is left or SDX_DAEMON_DRAIN_MS have passed.  Requests still
 * unread are dropped with the socket; a Lazy Pirate client sends them
 * again to whichever daemon is serving next.
 */
#include "daemon.h"
#include "zap.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "sdx_log.h"

#define FRONTEND_MAX_MSG (1024 * 1024) /* ZMQ_MAXMSGSIZE, bytes per frame */
#define IDENTITY_MAX 255               /* a ZeroMQ routing id, bytes */
#define MSG_MAX_FRAMES (SDX_PROTO_MAX_FRAMES + 1) /* the identity + what
                                        the client may send */
#define BACKEND_MAX_FRAMES (MSG_MAX_FRAMES + 2) /* id + "" + envelope +
                                                    reply */
#define BATCH_MAX 64                   /* rounds of reads per poll */
#define MONITOR_ENDPOINT "inproc://specdexd-monitor" /* frontend events */
#define TRIM_QUIET_US 1000000ull       /* malloc_trim after the frontend
                                          has been quiet this long, us */
#define ACCEPT_LOG_BURST 5             /* accept-failure lines per window */
#define ACCEPT_LOG_WINDOW_S 60         /* the window, seconds: at the
                                          descriptor limit libzmq retries
                                          the accept in a loop */

/* A worker's routing id on the backend. */
typedef struct ident {
    unsigned char id[IDENTITY_MAX]; /* the id's bytes */
    size_t len;                /* its length */
} ident_t;

/*
 * A connection with requests taken and unanswered: its routing id and how
 * many.  The table holds only such connections, so it is never larger
 * than the requests in flight (queue + workers).
 */
typedef struct client {
    unsigned char id[IDENTITY_MAX]; /* the routing id's bytes */
    unsigned char len;         /* its length; 0: a free slot */
    unsigned in_flight;        /* its requests queued or at a worker */
} client_t;

/* A request waiting for a worker: the client's envelope and the body. */
typedef struct pending {
    zmq_msg_t parts[MSG_MAX_FRAMES]; /* identity, envelope..., body */
    size_t n;                  /* frames held */
} pending_t;

struct sdx_broker {
    void *frontend;            /* ROUTER, clients */
    void *backend;             /* ROUTER, workers */
    sdx_stats_t *stats;        /* shared counters */
    size_t max_frame;          /* request frame limit, bytes */
    unsigned nworkers;         /* workers expected to say READY */
    unsigned nready;           /* READY messages seen */
    ident_t *idle;             /* ring of idle workers, oldest first */
    size_t idle_head, idle_n, idle_cap; /* ring position, size, capacity */
    pending_t *queue;          /* ring of waiting requests */
    size_t queue_head, queue_n, queue_cap; /* ring position, size, cap */
    sdx_worker_t *own;         /* the broker's own handle (below), or
                                  NULL: --inline-us 0 */
    uint64_t inline_us;        /* --inline-us: answer here under this */
    void *monitor;             /* PAIR: the frontend's monitor events */
    client_t *clients;         /* open-addressed table, CLIENTS_CAP
                                  slots (a power of two) */
    size_t clients_cap, nclients; /* slots, and slots used */
    unsigned char client_key[crypto_shorthash_KEYBYTES]; /* the table's
                                  hash key: random, so routing ids a
                                  client picks cannot be made to collide */
    sdx_log_limit_t accept_log; /* accept-failure lines */
    uint64_t last_busy_us;     /* when the frontend last had a message,
                                  or a connection closed (its memory is
                                  freed then) */
    bool trimmed;              /* malloc_trim done since then */
};

/* ---------------------------------------------------------------- */
/* Bounds                                                           */
/* ---------------------------------------------------------------- */

/*
 * What one connection can make the daemon hold, and what happens past
 * it (figures in docs/OPERATIONS.md, "Bounds"):
 *   - requests: at most SDX_DAEMON_CLIENT_IN_FLIGHT taken and not yet
 *     answered (queued or at a worker); the next gets `overloaded` at
 *     once.  A Lazy Pirate client has one.
 *   - replies: ZMQ_SNDHWM SDX_DAEMON_CLIENT_FRAMES frames in ZeroMQ's
 *     queue to the connection (8 replies to a REQ client), and SO_SNDBUF SDX_DAEMON_CLIENT_SNDBUF bytes in
 *     the kernel.  The frontend is ROUTER_MANDATORY with a send timeout
 *     of 0, so a reply to a connection whose queue is full (it does not
 *     read) fails at once instead of blocking the broker; it is dropped
 *     and counted (`replies_dropped`), as is one to a connection gone.
 * And in all: requests in flight are at most --queue plus the workers;
 * connections at most the descriptor limit (LimitNOFILE= in the unit),
 * and MemoryMax= stops the rest.
 */

/* The slot of routing id ID (LEN bytes): its entry, or the free slot
   where it would go. */
static client_t *
s_client_slot(sdx_broker_t *b, const void *id, size_t len)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, id, len, b->client_key);
    size_t mask = b->clients_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        client_t *c = &b->clients[i];
        if (c->len == 0 || (c->len == len && memcmp(c->id, id, len) == 0))
            return c;
    }
}

/* Double the table (rehashing every entry); false when out of memory. */
static bool
s_clients_grow(sdx_broker_t *b)
{
    client_t *old = b->clients;
    size_t old_cap = b->clients_cap;
    client_t *bigger = calloc(old_cap * 2, sizeof *bigger);
    if (!bigger)
        return false;
    b->clients = bigger;
    b->clients_cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].len)
            *s_client_slot(b, old[i].id, old[i].len) = old[i];
    free(old);
    return true;
}

/*
 * The connection ID has one more request in flight.  Returns false when
 * it already has SDX_DAEMON_CLIENT_IN_FLIGHT (or memory ran out): the
 * request is to be refused.
 */
static bool
s_client_take(sdx_broker_t *b, const zmq_msg_t *idm)
{
    const void *id = zmq_msg_data((zmq_msg_t *)idm);
    size_t len = zmq_msg_size((zmq_msg_t *)idm);
    if (len == 0 || len > IDENTITY_MAX)
        return false;
    /* at most half full, so a probe ends soon */
    if ((b->nclients + 1) * 2 > b->clients_cap && !s_clients_grow(b))
        return false;
    client_t *c = s_client_slot(b, id, len);
    if (c->len && c->in_flight >= SDX_DAEMON_CLIENT_IN_FLIGHT)
        return false;
    if (!c->len) {
        memcpy(c->id, id, len);
        c->len = (unsigned char)len;
        c->in_flight = 0;
        b->nclients++;
    }
    c->in_flight++;
    return true;
}

/*
 * One request of connection ID is answered (or lost): one fewer in
 * flight; at none its slot is freed, the entries after it in its probe
 * run moved back (linear probing's deletion without tombstones).
 */
static void
s_client_done(sdx_broker_t *b, const void *id, size_t len)
{
    if (len == 0 || len > IDENTITY_MAX)
        return;
    client_t *c = s_client_slot(b, id, len);
    if (!c->len || --c->in_flight > 0)
        return;
    size_t mask = b->clients_cap - 1;
    size_t hole = (size_t)(c - b->clients);
    c->len = 0;
    b->nclients--;
    for (size_t i = (hole + 1) & mask; b->clients[i].len;
         i = (i + 1) & mask) {
        client_t moved = b->clients[i];
        b->clients[i].len = 0;
        *s_client_slot(b, moved.id, moved.len) = moved;
    }
}

/*
 * A reply could not go to its client: count it; only a failure other
 * than "its queue is full" or "it is gone" (both the client's doing) is
 * worth a line.
 */
static void
s_reply_failed(sdx_broker_t *b)
{
    if (errno == EAGAIN || errno == EHOSTUNREACH) {
        sdx_stats_record_dropped(b->stats, errno == EAGAIN);
        sdx_log(SDX_LOG_DEBUG, "broker: reply dropped: %s",
                errno == EAGAIN ? "the client does not read its replies"
                                : "the client is gone");
        return;
    }
    sdx_log(SDX_LOG_WARN, "broker: reply not sent: %s",
            zmq_strerror(errno));
}

/* ---------------------------------------------------------------- */
/* Messages                                                         */
/* ---------------------------------------------------------------- */

/*
 * Receive one whole message from SOCK into PARTS (room for MAX), without
 * waiting for its first frame (the rest of a message is there once its
 * first frame is).  Frames past MAX are read and dropped; *total counts
 * them all.  Returns 0, or -1 on a ZeroMQ error (errno set, EAGAIN when
 * nothing is waiting; nothing held).
 */
static int
s_recv_all(void *sock, zmq_msg_t *parts, size_t max, size_t *n,
           size_t *total)
{
    int more = 1;
    *n = 0;
    *total = 0;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *part = *n < max ? &parts[*n] : &scratch;
        zmq_msg_init(part);
        if (zmq_msg_recv(part, sock, *total ? 0 : ZMQ_DONTWAIT) < 0) {
            int saved = errno;
            zmq_msg_close(part);
            for (size_t i = 0; i < *n; i++)
                zmq_msg_close(&parts[i]);
            *n = 0;
            errno = saved;
            return -1;
        }
        more = zmq_msg_more(part);
        (*total)++;
        if (part == &scratch)
            zmq_msg_close(part);
        else
            (*n)++;
    }
    return 0;
}

static void
s_close_all(zmq_msg_t *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

/*
 * Send PARTS[0..n-1] on SOCK, all but the last with SNDMORE unless
 * MORE_AFTER; each is sent (ownership passes to ZeroMQ) or closed.
 * Returns 0 or -1 (errno set).
 */
static int
s_send_parts(void *sock, zmq_msg_t *parts, size_t n, bool more_after)
{
    for (size_t i = 0; i < n; i++) {
        int flags = (i + 1 < n || more_after) ? ZMQ_SNDMORE : 0;
        if (zmq_msg_send(&parts[i], sock, flags) < 0) {
            int saved = errno;
            s_close_all(parts + i, n - i);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

/*
 * Send PARTS[0..n-1] (N >= 1, the first the client's routing id; all
 * consumed) to a client on the frontend, as s_send_parts.  A full queue
 * is checked once more after the socket has read its pending commands:
 * ZeroMQ learns how far a peer has read only from those, and reads them
 * at most every millisecond or so while sending, so a client that reads
 * every reply could look full.  Returns 0 or -1 (errno set: EAGAIN, the
 * client's queue is full; EHOSTUNREACH, it is gone).
 */
static int
s_send_client(sdx_broker_t *b, zmq_msg_t *parts, size_t n, bool more_after)
{
    if (n == 0)
        return 0;
    for (int attempt = 0;; attempt++) {
        int flags = (n > 1 || more_after) ? ZMQ_SNDMORE : 0;
        if (zmq_msg_send(&parts[0], b->frontend, flags) >= 0)
            break;
        if (errno != EAGAIN || attempt > 0) {
            int saved = errno;
            s_close_all(parts, n);
            errno = saved;
            return -1;
        }
        int events;
        size_t len = sizeof events;
        zmq_getsockopt(b->frontend, ZMQ_EVENTS, &events, &len);
    }
    return s_send_parts(b->frontend, parts + 1, n - 1, more_after);
}

/*
 * Send a client ENV (NENV frames) and then REPLY (LEN bytes, freed); all
 * consumed.  REPLY NULL (out of memory) sends nothing: the client's
 * retry is its answer.
 */
static void
s_send_reply(sdx_broker_t *b, zmq_msg_t *env, size_t nenv, void *reply,
             size_t len)
{
    if (!reply) {
        sdx_log(SDX_LOG_ERROR, "broker: out of memory for a reply");
        s_close_all(env, nenv);
        return;
    }
    if (s_send_client(b, env, nenv, true) < 0 ||
        zmq_send(b->frontend, reply, len, 0) < 0)
        s_reply_failed(b);
    free(reply);
}

/*
 * Answer a client from the broker itself: ENV (NENV frames, consumed),
 * then an error reply CODE/MESSAGE, echoing the id found in BODY (may be
 * NULL).
 */
static void
s_reply_error(sdx_broker_t *b, zmq_msg_t *env, size_t nenv,
              const zmq_msg_t *body, sdx_errcode_t code,
              const char *message)
{
    void *id = NULL, *reply = NULL;
    size_t id_len = 0, reply_len = 0;
    if (body)
        sdx_proto_peek_id(zmq_msg_data((zmq_msg_t *)body),
                          zmq_msg_size((zmq_msg_t *)body), &id, &id_len);
    sdx_reply_error(id, id_len, 0, code, message, &reply, &reply_len);
    free(id);
    sdx_stats_record_op(b->stats, SDX_OP_LAST, code, UINT64_MAX);
    s_send_reply(b, env, nenv, reply, reply_len);
}

/* ---------------------------------------------------------------- */
/* Answering here                                                   */
/* ---------------------------------------------------------------- */

/*
 * A request that costs less than a trip to a worker and back is cheaper
 * answered on the broker's own thread: a hand-off costs two inproc
 * messages and two thread wake-ups each way (measured with perf on the
 * bundled corpus, 16 in flight: 64 us of daemon CPU per request through
 * a worker, 44 us answered here; the search itself is 10-30 us).  So the
 * broker keeps a database handle of its own (B->own) and answers a
 * request itself while the running mean of answer times (stats.c,
 * sdx_stats_cost_us) is under --inline-us and either
 *   - every worker is busy: the request would only wait, or
 *   - every worker is idle and no other request is waiting: a lone
 *     request, whose latency would be the hand-off's.
 * Otherwise an idle worker takes it, so a many-core machine still
 * spreads a burst over every worker.  On a large corpus (searches of
 * milliseconds) the mean is far over the bound and the broker does not
 * block on searches; only its first request, before any mean, may run
 * here.
 */

/* True when a client's message is waiting on the frontend. */
static bool
s_more_waiting(sdx_broker_t *b)
{
    int events = 0;
    size_t len = sizeof events;
    return zmq_getsockopt(b->frontend, ZMQ_EVENTS, &events, &len) == 0 &&
           (events & ZMQ_POLLIN);
}

/* Whether to answer the request just read here (the rule above). */
static bool
s_answer_here(sdx_broker_t *b)
{
    if (!b->own || b->queue_n > 0 ||
        sdx_stats_cost_us(b->stats) >= b->inline_us)
        return false;
    if (b->idle_n == 0)
        return true;
    return b->idle_n == b->nready && !s_more_waiting(b);
}

/* Answer P (consumed) with the broker's own handle. */
static void
s_answer_inline(sdx_broker_t *b, pending_t *p)
{
    void *reply = NULL;
    size_t reply_len = 0;
    zmq_msg_t *body = &p->parts[p->n - 1];
    sdx_worker_answer(b->own, zmq_msg_data(body), zmq_msg_size(body),
                      &reply, &reply_len);
    sdx_stats_record_inline(b->stats);
    zmq_msg_close(body);
    s_send_reply(b, p->parts, p->n - 1, reply, reply_len);
}

/* ---------------------------------------------------------------- */
/* Idle workers and waiting requests                                */
/* ---------------------------------------------------------------- */

static void
s_idle_push(sdx_broker_t *b, const zmq_msg_t *id)
{
    size_t len = zmq_msg_size((zmq_msg_t *)id);
    if (b->idle_n == b->idle_cap || len > IDENTITY_MAX) {
        sdx_log(SDX_LOG_ERROR, "broker: idle queue full; worker dropped");
        return;
    }
    ident_t *slot = &b->idle[(b->idle_head + b->idle_n) % b->idle_cap];
    memcpy(slot->id, zmq_msg_data((zmq_msg_t *)id), len);
    slot->len = len;
    b->idle_n++;
}

static ident_t *
s_idle_pop(sdx_broker_t *b)
{
    if (b->idle_n == 0)
        return NULL;
    ident_t *w = &b->idle[b->idle_head];
    b->idle_head = (b->idle_head + 1) % b->idle_cap;
    b->idle_n--;
    return w;
}

/*
 * Send the request P (consumed) to worker W: [W][""][envelope...][body].
 * Returns 0; -1 when W is gone (EHOSTUNREACH: P is left intact for
 * another worker); -2 on another failure (P consumed, logged).
 */
static int
s_dispatch(sdx_broker_t *b, const ident_t *w, pending_t *p)
{
    ident_t client;            /* whose request, should it be lost */
    client.len = zmq_msg_size(&p->parts[0]);
    memcpy(client.id, zmq_msg_data(&p->parts[0]),
           client.len <= IDENTITY_MAX ? client.len : 0);
    if (zmq_send(b->backend, w->id, w->len, ZMQ_SNDMORE) < 0) {
        if (errno == EHOSTUNREACH)
            return -1;
        goto failed;
    }
    if (zmq_send(b->backend, "", 0, ZMQ_SNDMORE) < 0)
        goto failed;
    size_t n = p->n;
    p->n = 0;
    if (s_send_parts(b->backend, p->parts, n, false) < 0)
        goto failed;
    return 0;
failed:
    sdx_log(SDX_LOG_ERROR, "broker: dispatch: %s", zmq_strerror(errno));
    s_close_all(p->parts, p->n);
    p->n = 0;
    s_client_done(b, client.id, client.len);
    return -2;
}

/* Hand P to an idle worker; returns false (P intact) when none is. */
static bool
s_try_dispatch(sdx_broker_t *b, pending_t *p)
{
    ident_t *w;
    while ((w = s_idle_pop(b))) {
        if (s_dispatch(b, w, p) != -1)
            return true;
        sdx_log(SDX_LOG_WARN, "broker: a worker is gone; trying another");
    }
    return false;
}

/* Move the waiting requests to idle workers, oldest first. */
static void
s_drain_queue(sdx_broker_t *b)
{
    while (b->queue_n > 0 && b->idle_n > 0) {
        pending_t *p = &b->queue[b->queue_head];
        if (!s_try_dispatch(b, p))
            return;
        b->queue_head = (b->queue_head + 1) % b->queue_cap;
        b->queue_n--;
    }
}

/* ---------------------------------------------------------------- */
/* The two sockets' events                                          */
/* ---------------------------------------------------------------- */

/*
 * One message from a client, if one is waiting.  Returns 1 when one was
 * read (answered, handed on, queued or refused), 0 when none was
 * waiting, -1 on a ZeroMQ failure.
 */
static int
s_frontend(sdx_broker_t *b)
{
    pending_t p;
    size_t sizes[MSG_MAX_FRAMES + 1];
    zmq_msg_t parts[MSG_MAX_FRAMES + 1];
    size_t n, total;
    sdx_split_t split;

    if (s_recv_all(b->frontend, parts, MSG_MAX_FRAMES + 1, &n,
                   &total) < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    for (size_t i = 0; i < n; i++)
        sizes[i] = zmq_msg_size(&parts[i]);
    sdx_proto_split(sizes, n, &split);
    if (split.code == SDX_E_NONE && sizes[n - 1] > b->max_frame) {
        split.code = SDX_E_TOO_LARGE;
        snprintf(split.message, sizeof split.message,
                 "request frame is %zu bytes; at most %zu", sizes[n - 1],
                 b->max_frame);
    }
    if (split.code != SDX_E_NONE) {
        sdx_log(SDX_LOG_DEBUG, "broker: refused: %s", split.message);
        s_close_all(parts + split.nenv, n - split.nenv);
        s_reply_error(b, parts, split.nenv, NULL, split.code,
                      split.message);
        return 1;
    }

    p.n = n;
    for (size_t i = 0; i < n; i++) {
        zmq_msg_init(&p.parts[i]);
        zmq_msg_move(&p.parts[i], &parts[i]);
        zmq_msg_close(&parts[i]);
    }
    if (s_answer_here(b)) {
        s_answer_inline(b, &p);
        return 1;
    }
    if (!s_client_take(b, &p.parts[0])) {
        char message[SDX_PROTO_MSG_MAX];
        snprintf(message, sizeof message,
                 "this connection has %d requests in flight, the most one "
                 "may have; read their replies first",
                 SDX_DAEMON_CLIENT_IN_FLIGHT);
        s_reply_error(b, p.parts, p.n - 1, &p.parts[p.n - 1],
                      SDX_E_OVERLOADED, message);
        zmq_msg_close(&p.parts[p.n - 1]);
        return 1;
    }
    if (b->queue_n == 0 && s_try_dispatch(b, &p))
        return 1;
    if (b->queue_n < b->queue_cap) {
        pending_t *slot =
            &b->queue[(b->queue_head + b->queue_n) % b->queue_cap];
        slot->n = p.n;
        for (size_t i = 0; i < p.n; i++) {
            zmq_msg_init(&slot->parts[i]);
            zmq_msg_move(&slot->parts[i], &p.parts[i]);
            zmq_msg_close(&p.parts[i]);
        }
        b->queue_n++;
        return 1;
    }
    s_client_done(b, zmq_msg_data(&p.parts[0]), zmq_msg_size(&p.parts[0]));
    char message[SDX_PROTO_MSG_MAX];
    snprintf(message, sizeof message,
             "all %u workers are busy and %zu requests are waiting; "
             "retry later", b->nworkers, b->queue_n);
    s_reply_error(b, p.parts, p.n - 1, &p.parts[p.n - 1], SDX_E_OVERLOADED,
                  message);
    zmq_msg_close(&p.parts[p.n - 1]);
    return 1;
}

/*
 * One message from a worker, if one is waiting: READY, or
 * [envelope...][reply].  Returns as s_frontend.
 */
static int
s_backend(sdx_broker_t *b, void (*on_ready)(void *), void *arg)
{
    zmq_msg_t parts[BACKEND_MAX_FRAMES];
    size_t n, total;

    if (s_recv_all(b->backend, parts, BACKEND_MAX_FRAMES, &n, &total) < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n < 3 || total != n || zmq_msg_size(&parts[1]) != 0) {
        sdx_log(SDX_LOG_ERROR, "broker: malformed worker message dropped");
        s_close_all(parts, n);
        return 1;
    }
    s_idle_push(b, &parts[0]);
    if (n == 3 && zmq_msg_size(&parts[2]) == strlen(SDX_DAEMON_READY) &&
        memcmp(zmq_msg_data(&parts[2]), SDX_DAEMON_READY,
               strlen(SDX_DAEMON_READY)) == 0) {
        s_close_all(parts, n);
        if (++b->nready == b->nworkers && on_ready)
            on_ready(arg);
    } else {
        zmq_msg_close(&parts[0]);
        zmq_msg_close(&parts[1]);
        s_client_done(b, zmq_msg_data(&parts[2]), zmq_msg_size(&parts[2]));
        if (s_send_client(b, parts + 2, n - 2, false) < 0)
            s_reply_failed(b);
    }
    s_drain_queue(b);
    return 1;
}

/*
 * One event of the frontend's monitor, if one is waiting: a failed
 * accept is counted and logged (rate-limited: at the descriptor limit
 * libzmq tries again and again); a failed CURVE handshake goes to
 * HOOKS; a closed connection puts off the next trim (below).  Returns as
 * s_frontend.
 */
static int
s_monitor(sdx_broker_t *b, const sdx_broker_hooks_t *hooks)
{
    uint8_t head[6];
    char address[256] = "";
    int n = zmq_recv(b->monitor, head, sizeof head, ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    int more = 0;
    size_t more_size = sizeof more;
    if (zmq_getsockopt(b->monitor, ZMQ_RCVMORE, &more, &more_size) == 0 &&
        more) {
        int m = zmq_recv(b->monitor, address, sizeof address - 1, 0);
        address[m > 0 ? (m < (int)sizeof address ? m
                                                 : (int)sizeof address - 1)
                      : 0] = '\0';
    }
    if (n < 6)
        return 1;
    unsigned event = (unsigned)(head[0] | head[1] << 8);
    uint32_t value;
    memcpy(&value, head + 2, sizeof value);
    if (event == ZMQ_EVENT_DISCONNECTED) {
        /* what the connection held is freed now: trim after it */
        b->last_busy_us = sdx_now_us();
        b->trimmed = false;
    } else if (event == ZMQ_EVENT_ACCEPT_FAILED) {
        sdx_stats_record_accept_failed(b->stats);
        if (sdx_log_allowed(&b->accept_log)) {
            uint64_t open, limit;
            char in_use[32] = "all";   /* none left to count them with */
            sdx_stats_fds(&open, &limit);
            if (open)
                snprintf(in_use, sizeof in_use, "%llu",
                         (unsigned long long)open);
            sdx_log(SDX_LOG_WARN, "cannot accept a connection on %s: %s "
                    "(%s descriptors in use, limit %llu)", address,
                    strerror((int)value), in_use,
                    (unsigned long long)limit);
        }
    } else if (event & SDX_ZAP_EVENTS) {
        if (hooks->on_handshake_failed)
            hooks->on_handshake_failed(hooks->arg, event, address);
    }
    return 1;
}

/*
 * Give the heap back once the frontend has been quiet for a second (no
 * request, no connection closed).
 * Every connection costs libzmq about 70 KB (its pipes' chunks, encoder
 * and decoder buffers), freed when it closes; glibc keeps the freed
 * memory, so without this RSS stays at 70 KB times the most connections
 * ever open at once (11 waves of 2,000: 142 MB, bench/churn-soak).
 * malloc_trim(0) returns it (the same waves: 11 MB after each), but
 * costs up to a fifth of a second on this thread when it frees 130 MB,
 * so it runs once per quiet spell, never under load.
 */
static void
s_trim_when_quiet(sdx_broker_t *b, uint64_t now)
{
    if (b->trimmed || now - b->last_busy_us < TRIM_QUIET_US)
        return;
    uint64_t t0 = sdx_now_us();
    malloc_trim(0);
    b->trimmed = true;
    sdx_log(SDX_LOG_DEBUG, "broker: malloc_trim: %llu us",
            (unsigned long long)(sdx_now_us() - t0));
}

/* ---------------------------------------------------------------- */
/* Lifecycle                                                        */
/* ---------------------------------------------------------------- */

/* A ROUTER socket with LINGER 0, or NULL (ERR set). */
static void *
s_router(void *zctx, const char *what, char *err, size_t err_size)
{
    int linger = 0;
    void *s = zmq_socket(zctx, ZMQ_ROUTER);
    if (!s) {
        snprintf(err, err_size, "%s socket: %s", what, zmq_strerror(errno));
        return NULL;
    }
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0) {
        snprintf(err, err_size, "%s LINGER: %s", what, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

sdx_broker_t *
sdx_broker_new(void *zctx, const sdx_config_t *cfg, sdx_stats_t *stats,
               sdx_cache_t *cache, char *err, size_t err_size)
{
    int64_t maxmsg = FRONTEND_MAX_MSG;
    int on = 1, zero = 0, linger = 0;
    int hwm = SDX_DAEMON_CLIENT_FRAMES, sndbuf = SDX_DAEMON_CLIENT_SNDBUF;
    sdx_broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    b->stats = stats;
    b->max_frame = cfg->max_frame && cfg->max_frame < SDX_PROTO_MAX_FRAME
                       ? cfg->max_frame
                       : SDX_PROTO_MAX_FRAME;
    b->nworkers = cfg->threads;
    b->idle_cap = cfg->threads;
    b->queue_cap = cfg->queue_max;
    b->inline_us = cfg->inline_us;
    b->idle = calloc(b->idle_cap, sizeof *b->idle);
    b->queue = calloc(b->queue_cap ? b->queue_cap : 1, sizeof *b->queue);
    b->clients_cap = 16;
    b->clients = calloc(b->clients_cap, sizeof *b->clients);
    b->accept_log = (sdx_log_limit_t){.what = "accept failure",
                                      .burst = ACCEPT_LOG_BURST,
                                      .window_s = ACCEPT_LOG_WINDOW_S};
    randombytes_buf(b->client_key, sizeof b->client_key);
    if (!b->idle || !b->queue || !b->clients ||
        (cfg->inline_us &&
         !(b->own = sdx_worker_new_inline(cfg, stats, cache,
                                          cfg->threads)))) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }
    if (!(b->frontend = s_router(zctx, "frontend", err, err_size)) ||
        !(b->backend = s_router(zctx, "backend", err, err_size)))
        goto failed;
    /* the bounds of one connection ("Bounds" above) */
    if (zmq_setsockopt(b->frontend, ZMQ_MAXMSGSIZE, &maxmsg,
                       sizeof maxmsg) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDBUF, &sndbuf,
                       sizeof sndbuf) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_ROUTER_MANDATORY, &on,
                       sizeof on) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDTIMEO, &zero, sizeof zero)
            != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_IPV6, &on, sizeof on) != 0 ||
        zmq_setsockopt(b->backend, ZMQ_ROUTER_MANDATORY, &on,
                       sizeof on) != 0) {
        snprintf(err, err_size, "socket options: %s", zmq_strerror(errno));
        goto failed;
    }
    /* CURVE: every client must prove a key, which the ZAP handler
     * (zap.c, started before this bind) checks against --allow-keys. */
    if (cfg->curve &&
        (zmq_setsockopt(b->frontend, ZMQ_CURVE_SERVER, &on, sizeof on)
             != 0 ||
         zmq_setsockopt(b->frontend, ZMQ_CURVE_SECRETKEY, cfg->curve_secret,
                        sizeof cfg->curve_secret) != 0 ||
         zmq_setsockopt(b->frontend, ZMQ_ZAP_DOMAIN, SDX_ZAP_DOMAIN,
                        strlen(SDX_ZAP_DOMAIN)) != 0)) {
        snprintf(err, err_size, "CURVE options: %s", zmq_strerror(errno));
        goto failed;
    }
    /* one monitor for the frontend: descriptors, CURVE handshakes */
    if (zmq_socket_monitor(b->frontend, MONITOR_ENDPOINT,
                           ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_DISCONNECTED |
                               (cfg->curve ? SDX_ZAP_EVENTS : 0)) != 0 ||
        !(b->monitor = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_setsockopt(b->monitor, ZMQ_LINGER, &linger, sizeof linger)
            != 0 ||
        zmq_connect(b->monitor, MONITOR_ENDPOINT) != 0) {
        snprintf(err, err_size, "frontend monitor: %s", zmq_strerror(errno));
        goto failed;
    }
    if (zmq_bind(b->frontend, cfg->endpoint) != 0) {
        snprintf(err, err_size, "cannot bind %s: %s", cfg->endpoint,
                 zmq_strerror(errno));
        goto failed;
    }
    if (zmq_bind(b->backend, SDX_DAEMON_BACKEND) != 0) {
        snprintf(err, err_size, "cannot bind %s: %s", SDX_DAEMON_BACKEND,
                 zmq_strerror(errno));
        goto failed;
    }
    return b;
failed:
    sdx_broker_destroy(&b);
    return NULL;
}

/*
 * Read the signal numbers waiting in the self-pipe FD.  Returns true
 * when one of them asks to stop; SIGHUP calls ON_RELOAD.
 */
static bool
s_signals(int fd, const sdx_broker_hooks_t *hooks)
{
    unsigned char sigs[64];
    bool stop = false;
    ssize_t n;
    while ((n = read(fd, sigs, sizeof sigs)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (sigs[i] != SIGHUP)
                stop = true;
            else if (hooks->on_reload)
                hooks->on_reload(hooks->arg);
        }
    }
    if (n == 0)
        stop = true;          /* the write end is gone: nobody can stop
                                 us any other way */
    return stop;
}

/* Requests taken and not yet answered: waiting or at a worker. */
static size_t
s_in_flight(const sdx_broker_t *b)
{
    return b->queue_n + (b->nready - b->idle_n);
}

int
sdx_broker_serve(sdx_broker_t *b, int signal_fd,
                 const sdx_broker_hooks_t *hooks)
{
    uint64_t next_tick = sdx_now_us() + hooks->tick_ms * 1000ull;
    uint64_t drain_until = 0;     /* non-zero: stopping, this deadline */
    while (true) {
        uint64_t now = sdx_now_us();
        if (drain_until && (s_in_flight(b) == 0 || now >= drain_until))
            break;
        if (hooks->on_tick && now >= next_tick) {
            hooks->on_tick(hooks->arg);
            next_tick = now + hooks->tick_ms * 1000ull;
        }
        s_trim_when_quiet(b, now);
        long timeout = -1;
        if (hooks->on_tick)
            timeout = (long)((next_tick - now) / 1000) + 1;
        if (!b->trimmed) {     /* wake for the trim of a quiet spell */
            uint64_t at = b->last_busy_us + TRIM_QUIET_US;
            long until = at > now ? (long)((at - now) / 1000) + 1 : 0;
            if (timeout < 0 || timeout > until)
                timeout = until;
        }
        /* the broker's own handle follows the index as a worker's does,
           answering or not (it reads the index every REFRESH_MS) */
        if (b->own) {
            sdx_worker_refresh(b->own);
            if (timeout < 0 || timeout > SDX_DAEMON_REFRESH_MS)
                timeout = SDX_DAEMON_REFRESH_MS;
        }
        if (drain_until && (timeout < 0 ||
                            (uint64_t)timeout > (drain_until - now) / 1000))
            timeout = (long)((drain_until - now) / 1000) + 1;
        zmq_pollitem_t items[] = {
            {NULL, signal_fd, ZMQ_POLLIN, 0},
            {b->backend, 0, ZMQ_POLLIN, 0},
            {b->monitor, 0, ZMQ_POLLIN, 0},
            {b->frontend, 0, ZMQ_POLLIN, 0},
        };
        /* a stopping broker reads no more requests */
        if (zmq_poll(items, drain_until ? 3 : 4, timeout) < 0) {
            if (errno == EINTR)
                continue;      /* a signal: the self-pipe says which */
            if (errno == ETERM)
                return 0;
            sdx_log(SDX_LOG_ERROR, "broker: poll: %s", zmq_strerror(errno));
            return -1;
        }
        if ((items[0].revents & ZMQ_POLLIN) && !drain_until &&
            s_signals(signal_fd, hooks)) {
            int linger = SDX_DAEMON_LINGER_MS;
            size_t n = s_in_flight(b);
            sdx_log(SDX_LOG_INFO, "stopping: no new requests; %zu in "
                    "flight", n);
            drain_until = sdx_now_us() + SDX_DAEMON_DRAIN_MS * 1000ull;
            /* replies sent from here on get a moment to leave */
            if (zmq_setsockopt(b->frontend, ZMQ_LINGER, &linger,
                               sizeof linger) != 0)
                sdx_log(SDX_LOG_WARN, "broker: LINGER: %s",
                        zmq_strerror(errno));
            continue;
        }
        /* Read both sockets in turn until neither has a message (at
           most BATCH_MAX rounds, then signals and ticks get a look):
           one poll per burst rather than one per message, and no
           worker's reply waits behind a run of requests. */
        for (int round = 0; round < BATCH_MAX; round++) {
            int got = s_backend(b, hooks->on_ready, hooks->arg);
            int more = drain_until ? 0 : s_frontend(b);
            if (more > 0) {
                b->last_busy_us = sdx_now_us();
                b->trimmed = false;
            }
            int event = s_monitor(b, hooks);
            if (got < 0 || more < 0 || event < 0)
                goto failed;
            if (got + more + event == 0)
                break;
        }
    }
    if (s_in_flight(b) > 0)
        sdx_log(SDX_LOG_WARN, "stopping with %zu requests unanswered "
                "after %d ms", s_in_flight(b), SDX_DAEMON_DRAIN_MS);
    return 0;
failed:
    if (errno == ETERM)
        return 0;
    sdx_log(SDX_LOG_ERROR, "broker: %s", zmq_strerror(errno));
    return -1;
}

int
sdx_broker_run(sdx_broker_t *b, int stop_fd, void (*on_ready)(void *),
               void *arg)
{
    sdx_broker_hooks_t hooks = {.on_ready = on_ready, .arg = arg};
    return sdx_broker_serve(b, stop_fd, &hooks);
}

void
sdx_broker_destroy(sdx_broker_t **broker_p)
{
    if (!broker_p || !*broker_p)
        return;
    sdx_broker_t *b = *broker_p;
    for (size_t i = 0; b->queue && i < b->queue_n; i++) {
        pending_t *p = &b->queue[(b->queue_head + i) % b->queue_cap];
        s_close_all(p->parts, p->n);
    }
    if (b->frontend) {
        zmq_socket_monitor(b->frontend, NULL, 0);
        zmq_close(b->frontend);
    }
    if (b->monitor)
        zmq_close(b->monitor);
    if (b->backend)
        zmq_close(b->backend);
    sdx_worker_free(&b->own);
    free(b->idle);
    free(b->queue);
    free(b->clients);
    free(b);
    *broker_p = NULL;
}
