/*
 * broker: one ROUTER socket bound to the daemon's endpoint, shared by
 * the worker threads under one lock (leader/followers, in the ZeroMQ
 * guide's terms a socket passed between threads with a full memory
 * barrier, which the lock gives).
 *
 * A worker takes the next request itself, under the lock: the oldest
 * waiting in the broker's queue (below), else the next one on the
 * frontend.  It searches with the lock released and sends its own reply
 * under it, then takes the next.  While it has nothing to take it waits
 * on the frontend's ZMQ_FD (readable when the socket has news from
 * ZeroMQ's I/O thread; EPOLLEXCLUSIVE, so news wakes one idle worker)
 * and the doorbell (an eventfd rung when there may be work a waiting
 * worker does not see, and when the daemon stops).
 *
 * So a request crosses two threads, ZeroMQ's I/O thread and the worker
 * that answers it; under load a worker finds the next request waiting
 * and never sleeps.  The ZeroMQ guide's load-balancing broker
 * (lbbroker.c), which this file was until it was measured, handed every
 * request to a worker over inproc:// and every reply back: five thread
 * wake-ups per request instead of two, some 40 us of CPU each time on a
 * two-core VM (docs/BENCH.md, "The daemon against in-process at 100k").
 *
 * The broker's own thread (sdx_broker_serve) reads no requests while a
 * worker waits for them.  When none does (every worker busy), it looks
 * at the frontend every TRIAGE_MS: what is waiting goes into a bounded
 * queue, and when that is full is answered `overloaded` at once, rather
 * than left to pile up unseen in ZeroMQ (the guide's broker stops
 * reading instead, and clients then only see timeouts).  Looking on a
 * timer rather than at every arrival keeps it from waking per request
 * under load; a request waits at most TRIAGE_MS before it is counted.
 *
 * Whoever reads a request refuses what no search should see, by the one
 * rule in sdx_proto_split(): frames over SDX_PROTO_MAX_FRAME or
 * --max-frame (`too_large`), envelopes of odd shape (`bad_request`).
 * Frames over FRONTEND_MAX_MSG bytes make ZeroMQ drop the peer before
 * anyone reads them, which bounds memory.
 *
 * Every client is bounded, so that one that sends and never reads (or
 * many of them) cannot grow the daemon ("Bounds" below): at most
 * SDX_DAEMON_CLIENT_IN_FLIGHT of a connection's requests are taken and
 * unanswered (past it `overloaded`), at most SDX_DAEMON_CLIENT_FRAMES
 * frames of replies wait in ZeroMQ for it (past it a reply is dropped
 * and counted), and the kernel holds at most SDX_DAEMON_CLIENT_SNDBUF
 * bytes.
 *
 * The frontend's one socket monitor, read by the broker's thread, tells
 * it when a connection cannot be accepted (out of descriptors: logged,
 * rate-limited, and counted) and when a CURVE handshake fails (handed to
 * zap.c).
 *
 * Stopping (SIGTERM) is a drain: no request is read from the frontend
 * any more, so none is taken that could not be finished; the workers
 * answer the queue and what they hold until none is left or
 * SDX_DAEMON_DRAIN_MS have passed.  Requests still unread are dropped
 * with the socket; a Lazy Pirate client sends them again to whichever
 * daemon is serving next.  sdx_broker_release then lets the workers
 * end, before the socket is closed.
 */
#include "daemon.h"
#include "zap.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "sdx_log.h"

#define FRONTEND_MAX_MSG (1024 * 1024) /* ZMQ_MAXMSGSIZE, bytes per frame */
#define IDENTITY_MAX 255               /* a ZeroMQ routing id, bytes */
#define MSG_MAX_FRAMES (SDX_PROTO_MAX_FRAMES + 1) /* the identity + what
                                        the client may send */
#define TRIAGE_MS 2                    /* every worker busy: the broker's
                                          thread reads the frontend this
                                          often, ms */
#define TRIAGE_MAX 256                 /* messages read per look */
#define MONITOR_ENDPOINT "inproc://specdexd-monitor" /* frontend events */
#define TRIM_QUIET_US 1000000ull       /* malloc_trim after the frontend
                                          has been quiet this long, us */
#define ACCEPT_LOG_BURST 5             /* accept-failure lines per window */
#define ACCEPT_LOG_WINDOW_S 60         /* the window, seconds: at the
                                          descriptor limit libzmq retries
                                          the accept in a loop */

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

/* A request taken and not yet answered: the client's envelope (the
   routing id first) and the body, last. */
typedef struct pending {
    zmq_msg_t parts[MSG_MAX_FRAMES]; /* identity, envelope..., body */
    size_t n;                  /* frames held */
} pending_t;

struct sdx_broker {
    /* Set once by sdx_broker_new, then only read. */
    sdx_stats_t *stats;        /* shared counters (thread-safe) */
    size_t max_frame;          /* request frame limit, bytes */
    unsigned nworkers;         /* worker threads expected */
    int frontend_fd;           /* the frontend's ZMQ_FD */
    int doorbell;              /* eventfd: wakes the waiting workers */
    int bell;                  /* eventfd: wakes the broker's thread */
    void *monitor;             /* PAIR: the frontend's monitor events
                                  (the broker's thread only) */
    sdx_log_limit_t accept_log; /* accept-failure lines (the broker's
                                  thread only) */

    /* Everything below, the frontend socket included, under LOCK. */
    pthread_mutex_t lock;
    void *frontend;            /* ROUTER, clients */
    unsigned nready;           /* workers that have opened their index */
    unsigned waiting;          /* workers waiting for a request */
    unsigned busy;             /* workers holding a request */
    pending_t *queue;          /* ring of requests read, not yet taken */
    size_t queue_head, queue_n, queue_cap; /* ring position, size, cap */
    client_t *clients;         /* open-addressed table, CLIENTS_CAP
                                  slots (a power of two) */
    size_t clients_cap, nclients; /* slots, and slots used */
    unsigned char client_key[crypto_shorthash_KEYBYTES]; /* the table's
                                  hash key: random, so routing ids a
                                  client picks cannot be made to collide */
    bool stopping;             /* draining: the frontend is not read */
    bool released;             /* the workers are to end */
    bool failed;               /* a worker saw the frontend fail */
    bool triaging;             /* the broker's thread looks at the
                                  frontend every TRIAGE_MS */
    uint64_t last_busy_us;     /* when a request was last read, or a
                                  connection closed (its memory is
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
/* Taking requests (under the lock)                                 */
/* ---------------------------------------------------------------- */

/*
 * True when a client's message is waiting on the frontend.  Reading
 * ZMQ_EVENTS also makes the socket take in what ZeroMQ's I/O thread has
 * told it, which clears ZMQ_FD: a thread looks here before it waits on
 * that descriptor, or a message that came in meanwhile would not wake
 * it.
 */
static bool
s_more_waiting(sdx_broker_t *b)
{
    int events = 0;
    size_t len = sizeof events;
    return zmq_getsockopt(b->frontend, ZMQ_EVENTS, &events, &len) == 0 &&
           (events & ZMQ_POLLIN);
}

/* Ring eventfd FD: whoever waits on it wakes. */
static void
s_ring(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        sdx_log(SDX_LOG_WARN, "broker: eventfd: %s", strerror(errno));
}

/* Clear eventfd FD (non-blocking). */
static void
s_unring(int fd)
{
    uint64_t value;
    if (read(fd, &value, sizeof value) < 0 && errno != EAGAIN)
        sdx_log(SDX_LOG_WARN, "broker: eventfd: %s", strerror(errno));
}

/* Requests taken and not yet answered: queued or at a worker. */
static size_t
s_in_flight(const sdx_broker_t *b)
{
    return b->queue_n + b->busy;
}

/*
 * Read one message from the frontend.  Returns 1 when P holds a request
 * to answer (counted against its connection's bound), 2 when one was
 * read and refused here (answered), 0 when none is waiting, -1 on a
 * ZeroMQ failure.
 */
static int
s_read_request(sdx_broker_t *b, pending_t *p)
{
    size_t sizes[MSG_MAX_FRAMES + 1];
    zmq_msg_t parts[MSG_MAX_FRAMES + 1];
    size_t n, total;
    sdx_split_t split;

    if (s_recv_all(b->frontend, parts, MSG_MAX_FRAMES + 1, &n,
                   &total) < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    b->last_busy_us = sdx_now_us();
    b->trimmed = false;
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
        return 2;
    }

    p->n = n;
    for (size_t i = 0; i < n; i++) {
        zmq_msg_init(&p->parts[i]);
        zmq_msg_move(&p->parts[i], &parts[i]);
        zmq_msg_close(&parts[i]);
    }
    if (!s_client_take(b, &p->parts[0])) {
        char message[SDX_PROTO_MSG_MAX];
        snprintf(message, sizeof message,
                 "this connection has %d requests in flight, the most one "
                 "may have; read their replies first",
                 SDX_DAEMON_CLIENT_IN_FLIGHT);
        s_reply_error(b, p->parts, p->n - 1, &p->parts[p->n - 1],
                      SDX_E_OVERLOADED, message);
        zmq_msg_close(&p->parts[p->n - 1]);
        return 2;
    }
    return 1;
}

/* Move FROM's frames into TO (FROM is left empty). */
static void
s_move_pending(pending_t *to, pending_t *from)
{
    to->n = from->n;
    for (size_t i = 0; i < from->n; i++) {
        zmq_msg_init(&to->parts[i]);
        zmq_msg_move(&to->parts[i], &from->parts[i]);
        zmq_msg_close(&from->parts[i]);
    }
    from->n = 0;
}

/* Move P (consumed) to the queue's end; the caller has seen room. */
static void
s_queue_push(sdx_broker_t *b, pending_t *p)
{
    s_move_pending(&b->queue[(b->queue_head + b->queue_n) % b->queue_cap],
                   p);
    b->queue_n++;
}

/* Move the queue's oldest request into P; false when it is empty. */
static bool
s_queue_pop(sdx_broker_t *b, pending_t *p)
{
    if (b->queue_n == 0)
        return false;
    s_move_pending(p, &b->queue[b->queue_head]);
    b->queue_head = (b->queue_head + 1) % b->queue_cap;
    b->queue_n--;
    return true;
}

/*
 * The broker's thread, no worker waiting: read what has come in, into
 * the queue while it has room and answered `overloaded` past that (at
 * most TRIAGE_MAX messages, then the workers get the lock back).
 * Returns 0, or -1 on a ZeroMQ failure.
 */
static int
s_triage(sdx_broker_t *b)
{
    for (int read = 0; read < TRIAGE_MAX; read++) {
        pending_t p;
        int rc = s_read_request(b, &p);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (s_more_waiting(b))
                continue;
            return 0;
        }
        if (rc == 2)
            continue;
        if (b->queue_n < b->queue_cap) {
            s_queue_push(b, &p);
            continue;
        }
        s_client_done(b, zmq_msg_data(&p.parts[0]),
                      zmq_msg_size(&p.parts[0]));
        char message[SDX_PROTO_MSG_MAX];
        snprintf(message, sizeof message,
                 "all %u workers are busy and %zu requests are waiting; "
                 "retry later", b->nworkers, b->queue_n);
        s_reply_error(b, p.parts, p.n - 1, &p.parts[p.n - 1],
                      SDX_E_OVERLOADED, message);
        zmq_msg_close(&p.parts[p.n - 1]);
    }
    return 0;
}

/*
 * A worker's next request: the queue's oldest, else the frontend's next
 * (not while stopping).  Returns 1 (P holds it), 0 (none), -1 (a ZeroMQ
 * failure).
 */
static int
s_take(sdx_broker_t *b, pending_t *p)
{
    if (s_queue_pop(b, p))
        return 1;
    while (!b->stopping) {
        int rc = s_read_request(b, p);
        if (rc == 2 || (rc == 0 && s_more_waiting(b)))
            continue;
        return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Workers                                                          */
/* ---------------------------------------------------------------- */

/*
 * A worker's wait set (epoll): the frontend's ZMQ_FD, added with
 * EPOLLEXCLUSIVE so that news on it wakes one waiting worker, not every
 * idle one (the others would only find nothing and contend for the lock
 * with the one that takes the request: 7 us on a lone request's p50,
 * measured); and the doorbell, which wakes them all.
 */
typedef struct wait_set {
    int epoll;                 /* the descriptor, or -1 */
    bool frontend;             /* the frontend is in it */
} wait_set_t;

static int
s_wait_set_open(sdx_broker_t *b, wait_set_t *ws)
{
    struct epoll_event bell = {.events = EPOLLIN, .data.fd = b->doorbell};
    struct epoll_event front = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                .data.fd = b->frontend_fd};
    ws->frontend = true;
    if ((ws->epoll = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -1;
    if (epoll_ctl(ws->epoll, EPOLL_CTL_ADD, b->doorbell, &bell) < 0 ||
        epoll_ctl(ws->epoll, EPOLL_CTL_ADD, b->frontend_fd, &front) < 0) {
        int saved = errno;
        close(ws->epoll);
        ws->epoll = -1;
        errno = saved;
        return -1;
    }
    return 0;
}

/*
 * Wait, the lock held (and held again on return), until there may be a
 * request for worker W: the frontend has news (not while stopping: it
 * leaves WS then), the doorbell rang, or SDX_DAEMON_REFRESH_MS passed,
 * when W looks at the index again.  The doorbell is cleared under the
 * lock, and not once the workers are released, so that it wakes every
 * one of them then.
 */
static void
s_wait(sdx_broker_t *b, sdx_worker_t *w, wait_set_t *ws)
{
    if (b->stopping && ws->frontend) {
        /* unread from now on, it would stay readable */
        if (epoll_ctl(ws->epoll, EPOLL_CTL_DEL, b->frontend_fd, NULL) < 0)
            sdx_log(SDX_LOG_WARN, "broker: epoll: %s", strerror(errno));
        ws->frontend = false;
    }
    b->waiting++;
    pthread_mutex_unlock(&b->lock);
    struct epoll_event events[2];
    int n = epoll_wait(ws->epoll, events, 2, SDX_DAEMON_REFRESH_MS);
    if (n < 0 && errno != EINTR)
        sdx_log(SDX_LOG_WARN, "broker: epoll_wait: %s", strerror(errno));
    sdx_worker_refresh(w);
    pthread_mutex_lock(&b->lock);
    b->waiting--;
    for (int i = 0; i < n; i++)
        if (events[i].data.fd == b->doorbell && !b->released)
            s_unring(b->doorbell);
}

void
sdx_broker_work(sdx_broker_t *b, sdx_worker_t *w)
{
    wait_set_t ws;
    pthread_mutex_lock(&b->lock);
    if (s_wait_set_open(b, &ws) < 0) {
        sdx_log(SDX_LOG_ERROR, "broker: a worker's epoll: %s",
                strerror(errno));
        b->failed = true;
        s_ring(b->bell);
    }
    if (++b->nready == b->nworkers)
        s_ring(b->bell);
    while (!b->released && !b->failed) {
        pending_t p;
        int got = s_take(b, &p);
        if (got < 0) {
            sdx_log(SDX_LOG_ERROR, "broker: frontend: %s",
                    zmq_strerror(errno));
            b->failed = true;
            s_ring(b->bell);
            break;
        }
        if (got == 0) {
            s_wait(b, w, &ws);
            continue;
        }
        b->busy++;
        /* another worker waits and there is more: wake it (it may have
           missed the news this thread's reads took in) */
        if (b->waiting > 0 &&
            (b->queue_n > 0 || (!b->stopping && s_more_waiting(b))))
            s_ring(b->doorbell);
        /* the last worker waiting is now busy: the broker's thread is
           to look at the frontend from here on */
        if (b->waiting == 0 && !b->triaging && !b->stopping)
            s_ring(b->bell);
        pthread_mutex_unlock(&b->lock);

        void *reply = NULL;
        size_t reply_len = 0;
        zmq_msg_t *body = &p.parts[p.n - 1];
        sdx_worker_answer(w, zmq_msg_data(body), zmq_msg_size(body),
                          &reply, &reply_len);
        zmq_msg_close(body);

        pthread_mutex_lock(&b->lock);
        b->busy--;
        s_client_done(b, zmq_msg_data(&p.parts[0]),
                      zmq_msg_size(&p.parts[0]));
        s_send_reply(b, p.parts, p.n - 1, reply, reply_len);
        if (b->stopping && s_in_flight(b) == 0)
            s_ring(b->bell);   /* the drain is done */
    }
    pthread_mutex_unlock(&b->lock);
    if (ws.epoll >= 0)
        close(ws.epoll);
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
        pthread_mutex_lock(&b->lock);
        b->last_busy_us = sdx_now_us();
        b->trimmed = false;
        pthread_mutex_unlock(&b->lock);
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
    pthread_mutex_lock(&b->lock);
    bool due = !b->trimmed && b->last_busy_us <= now &&
               now - b->last_busy_us >= TRIM_QUIET_US;
    b->trimmed |= due;
    pthread_mutex_unlock(&b->lock);
    if (!due)
        return;
    uint64_t t0 = sdx_now_us();
    malloc_trim(0);            /* not under the lock: it can take 0.2 s */
    sdx_log(SDX_LOG_DEBUG, "broker: malloc_trim: %llu us",
            (unsigned long long)(sdx_now_us() - t0));
}

/* ---------------------------------------------------------------- */
/* Lifecycle                                                        */
/* ---------------------------------------------------------------- */

sdx_broker_t *
sdx_broker_new(void *zctx, const sdx_config_t *cfg, sdx_stats_t *stats,
               char *err, size_t err_size)
{
    int64_t maxmsg = FRONTEND_MAX_MSG;
    int on = 1, zero = 0, linger = 0;
    int hwm = SDX_DAEMON_CLIENT_FRAMES, sndbuf = SDX_DAEMON_CLIENT_SNDBUF;
    size_t fd_len = sizeof(int);
    sdx_broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    b->doorbell = b->bell = -1;
    b->stats = stats;
    b->max_frame = cfg->max_frame && cfg->max_frame < SDX_PROTO_MAX_FRAME
                       ? cfg->max_frame
                       : SDX_PROTO_MAX_FRAME;
    b->nworkers = cfg->threads;
    b->queue_cap = cfg->queue_max;
    b->queue = calloc(b->queue_cap ? b->queue_cap : 1, sizeof *b->queue);
    b->clients_cap = 16;
    b->clients = calloc(b->clients_cap, sizeof *b->clients);
    b->accept_log = (sdx_log_limit_t){.what = "accept failure",
                                      .burst = ACCEPT_LOG_BURST,
                                      .window_s = ACCEPT_LOG_WINDOW_S};
    randombytes_buf(b->client_key, sizeof b->client_key);
    if (!b->queue || !b->clients) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }
    if ((b->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        (b->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, err_size, "eventfd: %s", strerror(errno));
        goto failed;
    }
    if (!(b->frontend = zmq_socket(zctx, ZMQ_ROUTER))) {
        snprintf(err, err_size, "frontend socket: %s", zmq_strerror(errno));
        goto failed;
    }
    /* the bounds of one connection ("Bounds" above) */
    if (zmq_setsockopt(b->frontend, ZMQ_LINGER, &linger, sizeof linger)
            != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_MAXMSGSIZE, &maxmsg,
                       sizeof maxmsg) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDBUF, &sndbuf,
                       sizeof sndbuf) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_ROUTER_MANDATORY, &on,
                       sizeof on) != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_SNDTIMEO, &zero, sizeof zero)
            != 0 ||
        zmq_setsockopt(b->frontend, ZMQ_IPV6, &on, sizeof on) != 0 ||
        zmq_getsockopt(b->frontend, ZMQ_FD, &b->frontend_fd, &fd_len)
            != 0) {
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

/* A stop was asked for: the workers read no more requests; replies
   sent from here on get a moment to leave.  Returns those in flight. */
static size_t
s_begin_drain(sdx_broker_t *b)
{
    int linger = SDX_DAEMON_LINGER_MS;
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    b->triaging = false;
    if (zmq_setsockopt(b->frontend, ZMQ_LINGER, &linger, sizeof linger)
        != 0)
        sdx_log(SDX_LOG_WARN, "broker: LINGER: %s", zmq_strerror(errno));
    size_t n = s_in_flight(b);
    pthread_mutex_unlock(&b->lock);
    s_ring(b->doorbell);  /* waiting workers stop watching the frontend */
    return n;
}

/* What one pass of the broker's loop found, read under the lock. */
typedef struct seen {
    size_t in_flight;          /* queued or at a worker */
    bool ready;                /* every worker has opened its index */
    bool triaging;             /* no worker waits: look every TRIAGE_MS */
    bool trimmed;              /* malloc_trim done since the last busy */
    uint64_t last_busy_us;     /* as in the broker */
} seen_t;

/* Triage when no worker waits (and not stopping); then what is seen.
   Returns -1 when the frontend failed, else 0. */
static int
s_look(sdx_broker_t *b, bool draining, seen_t *seen)
{
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    b->triaging = !draining && b->waiting == 0;
    if (b->triaging && !b->failed && s_triage(b) < 0) {
        sdx_log(SDX_LOG_ERROR, "broker: frontend: %s", zmq_strerror(errno));
        b->failed = true;
    }
    *seen = (seen_t){.in_flight = s_in_flight(b),
                     .ready = b->nready == b->nworkers,
                     .triaging = b->triaging,
                     .trimmed = b->trimmed,
                     .last_busy_us = b->last_busy_us};
    if (b->failed)
        rc = -1;
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int
sdx_broker_serve(sdx_broker_t *b, int signal_fd,
                 const sdx_broker_hooks_t *hooks)
{
    uint64_t next_tick = sdx_now_us() + hooks->tick_ms * 1000ull;
    uint64_t drain_until = 0;     /* non-zero: stopping, this deadline */
    bool announced = false;       /* on_ready called */
    seen_t seen;
    while (true) {
        if (s_look(b, drain_until != 0, &seen) < 0)
            return -1;
        uint64_t now = sdx_now_us();
        if (drain_until && (seen.in_flight == 0 || now >= drain_until))
            break;
        if (seen.ready && !announced) {
            announced = true;
            if (hooks->on_ready)
                hooks->on_ready(hooks->arg);
        }
        if (hooks->on_tick && now >= next_tick) {
            hooks->on_tick(hooks->arg);
            next_tick = now + hooks->tick_ms * 1000ull;
        }
        s_trim_when_quiet(b, now);
        long timeout = -1;
        if (hooks->on_tick)
            timeout = (long)((next_tick - now) / 1000) + 1;
        if (!seen.trimmed) {   /* wake for the trim of a quiet spell */
            uint64_t at = seen.last_busy_us + TRIM_QUIET_US;
            long until = at > now ? (long)((at - now) / 1000) + 1 : 0;
            if (timeout < 0 || timeout > until)
                timeout = until;
        }
        if (seen.triaging && (timeout < 0 || timeout > TRIAGE_MS))
            timeout = TRIAGE_MS;
        if (drain_until && (timeout < 0 ||
                            (uint64_t)timeout > (drain_until - now) / 1000))
            timeout = (long)((drain_until - now) / 1000) + 1;
        zmq_pollitem_t items[] = {
            {NULL, signal_fd, ZMQ_POLLIN, 0},
            {NULL, b->bell, ZMQ_POLLIN, 0},
            {b->monitor, 0, ZMQ_POLLIN, 0},
        };
        if (zmq_poll(items, 3, timeout) < 0) {
            if (errno == EINTR)
                continue;      /* a signal: the self-pipe says which */
            if (errno == ETERM)
                return 0;
            sdx_log(SDX_LOG_ERROR, "broker: poll: %s", zmq_strerror(errno));
            return -1;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_unring(b->bell);
        if ((items[0].revents & ZMQ_POLLIN) && !drain_until &&
            s_signals(signal_fd, hooks)) {
            sdx_log(SDX_LOG_INFO, "stopping: no new requests; %zu in "
                    "flight", s_begin_drain(b));
            drain_until = sdx_now_us() + SDX_DAEMON_DRAIN_MS * 1000ull;
        }
        int event;
        while ((event = s_monitor(b, hooks)) > 0)
            ;
        if (event < 0 && errno != ETERM) {
            sdx_log(SDX_LOG_ERROR, "broker: monitor: %s",
                    zmq_strerror(errno));
            return -1;
        }
    }
    if (seen.in_flight > 0)
        sdx_log(SDX_LOG_WARN, "stopping with %zu requests unanswered "
                "after %d ms", seen.in_flight, SDX_DAEMON_DRAIN_MS);
    return 0;
}

void
sdx_broker_release(sdx_broker_t *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->released = true;
    pthread_mutex_unlock(&b->lock);
    s_ring(b->doorbell);       /* left rung: every waiting worker sees it */
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
    if (b->doorbell >= 0)
        close(b->doorbell);
    if (b->bell >= 0)
        close(b->bell);
    pthread_mutex_destroy(&b->lock);
    free(b->queue);
    free(b->clients);
    free(b);
    *broker_p = NULL;
}
