/*
 * sdx_async: many calls in flight from one thread, for an event loop
 * (specdex-http).  The blocking client (sdx_client.c) holds a thread per
 * call; here a caller sends calls and, in its loop, waits on the
 * sockets together with its own descriptors, and each call ends in a
 * callback.
 *
 * DEALER sockets, each connected to every endpoint with ZMQ_IMMEDIATE
 * (so ZeroMQ sends only to daemons that are there, round them in
 * turn), each with at most SDX_CLIENT_CONN_IN_FLIGHT calls in flight:
 * the daemon refuses more from one connection.  Enough sockets are made
 * for MAX_INFLIGHT; calls beyond it wait here, in order.
 *
 * A call goes out as [tag][""][request]: the daemon hands the frames
 * before the empty one back unchanged (docs/PROTOCOL.md), so the tag,
 * the call's slot and the number of its send (counted over all calls,
 * so that a slot used again by another call never takes a reply meant
 * for the one before), says which call a reply ends.  A reply to an
 * earlier send of a call that has been sent again, or has ended, is
 * dropped.  An attempt with no reply within TIMEOUT_MS
 * is sent again (a DEALER, unlike REQ, can go on sending); after
 * ATTEMPTS the call ends SDX_UNAVAILABLE.  Requests are reads, so a
 * request answered twice is harmless.
 */
#include "sdx_client.h"
#include "client_private.h"
#include "sdx_util.h" /* sdx_now_us: the monotonic clock */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#define RETRY_SEND_MS 5 /* a call no daemon could take yet: sent again
                           this soon (ZMQ_IMMEDIATE: none connected) */

/* One call, from sdx_async_send until its callback. */
typedef struct call {
    uint64_t tag;          /* the caller's */
    void *req;             /* the request, copied for a resend */
    size_t len;            /* bytes of REQ */
    uint32_t send_id;      /* its latest send's number (the async's
                              count): the tag's second half */
    int sock;              /* socket it is in flight on, -1: waiting */
    int attempts_left;     /* attempts after this one */
    uint64_t deadline_us;  /* this attempt ends (monotonic) */
    bool used;             /* a live call */
} call_t;

typedef struct dealer {
    void *sock;            /* DEALER */
    unsigned in_flight;    /* calls sent on it and not answered */
} dealer_t;

struct sdx_async {
    void *ctx;             /* ZeroMQ context, the caller's or own */
    bool own_ctx;
    dealer_t *dealers;
    size_t ndealers;
    call_t *calls;         /* slots, MAX_CALLS of them */
    size_t max_calls;
    size_t ncalls;         /* used slots */
    size_t used_hi;        /* no slot at or past it is used: the scans
                              of each wait stop there (a free slot is
                              taken lowest first, so they stay short) */
    uint32_t *waiting;     /* slots of calls not in flight, a ring */
    size_t wait_head, nwaiting;
    zmq_pollitem_t *items; /* the dealers', then the caller's fds */
    size_t nitems_cap;
    uint32_t sends;        /* sends so far, of all calls: a slot used
                              again never takes an old reply */
    int timeout_ms;
    int attempts;
    bool blocked;          /* the last send found no daemon connected */
};

sdx_status_t
sdx_async_new(void *zmq_ctx, const char *const *endpoints, size_t nendpoints,
              size_t max_inflight, size_t max_calls, int timeout_ms,
              int attempts, sdx_async_t **out)
{
    *out = NULL;
    if (!sdx_client_endpoints_valid(endpoints, nendpoints) ||
        max_inflight == 0 || max_calls == 0 || max_calls > UINT32_MAX ||
        timeout_ms <= 0 || attempts <= 0)
        return SDX_BAD_INPUT;
    sdx_async_t *a = calloc(1, sizeof *a);
    if (!a)
        return SDX_NOMEM;
    a->timeout_ms = timeout_ms;
    a->attempts = attempts;
    a->max_calls = max_calls;
    a->ndealers = (max_inflight + SDX_CLIENT_CONN_IN_FLIGHT - 1) /
                  SDX_CLIENT_CONN_IN_FLIGHT;
    a->dealers = calloc(a->ndealers, sizeof *a->dealers);
    a->calls = calloc(max_calls, sizeof *a->calls);
    a->waiting = calloc(max_calls, sizeof *a->waiting);
    if (!a->dealers || !a->calls || !a->waiting) {
        sdx_async_destroy(&a);
        return SDX_NOMEM;
    }
    a->own_ctx = zmq_ctx == NULL;
    a->ctx = zmq_ctx ? zmq_ctx : zmq_ctx_new();
    if (!a->ctx) {
        sdx_async_destroy(&a);
        return SDX_IO;
    }
    int linger = 0, immediate = 1;
    int64_t maxmsg = SDX_CLIENT_MAX_REPLY;
    for (size_t i = 0; i < a->ndealers; i++) {
        void *s = zmq_socket(a->ctx, ZMQ_DEALER);
        a->dealers[i].sock = s;
        if (!s ||
            zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
            zmq_setsockopt(s, ZMQ_IMMEDIATE, &immediate,
                           sizeof immediate) != 0 ||
            zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
                != 0) {
            sdx_async_destroy(&a);
            return SDX_IO;
        }
        for (size_t e = 0; e < nendpoints; e++)
            if (zmq_connect(s, endpoints[e]) != 0) {
                sdx_async_destroy(&a);
                return SDX_BAD_INPUT; /* not an endpoint ZeroMQ knows */
            }
    }
    *out = a;
    return SDX_OK;
}

/* Free call slot I. */
static void
s_release(sdx_async_t *a, size_t i)
{
    call_t *c = &a->calls[i];
    free(c->req);
    memset(c, 0, sizeof *c);
    a->ncalls--;
    while (a->used_hi > 0 && !a->calls[a->used_hi - 1].used)
        a->used_hi--;
}

/* Put slot I at the end (or, FRONT, the start) of the waiting ring. */
static void
s_wait(sdx_async_t *a, size_t i, bool front)
{
    size_t at;
    if (front) {
        a->wait_head = (a->wait_head + a->max_calls - 1) % a->max_calls;
        at = a->wait_head;
    } else {
        at = (a->wait_head + a->nwaiting) % a->max_calls;
    }
    a->waiting[at] = (uint32_t)i;
    a->nwaiting++;
    a->calls[i].sock = -1;
}

sdx_status_t
sdx_async_send(sdx_async_t *a, uint64_t tag, const void *req, size_t len)
{
    if (a->ncalls >= a->max_calls)
        return SDX_UNAVAILABLE;
    size_t i = 0;
    while (a->calls[i].used)
        i++;
    call_t *c = &a->calls[i];
    c->req = malloc(len ? len : 1);
    if (!c->req)
        return SDX_NOMEM;
    memcpy(c->req, req, len);
    c->len = len;
    c->tag = tag;
    c->used = true;
    c->attempts_left = a->attempts - 1;
    if (i >= a->used_hi)
        a->used_hi = i + 1;
    c->deadline_us = sdx_now_us() + (uint64_t)a->timeout_ms * 1000u;
    a->ncalls++;
    s_wait(a, i, false);
    return SDX_OK;
}

/* The dealer with room and the fewest in flight, or -1. */
static int
s_dealer_with_room(const sdx_async_t *a)
{
    int best = -1;
    for (size_t i = 0; i < a->ndealers; i++)
        if (a->dealers[i].in_flight < SDX_CLIENT_CONN_IN_FLIGHT &&
            (best < 0 || a->dealers[i].in_flight <
                             a->dealers[best].in_flight))
            best = (int)i;
    return best;
}

/* Send the waiting calls while a dealer has room and a daemon takes. */
static void
s_send_waiting(sdx_async_t *a)
{
    a->blocked = false;
    while (a->nwaiting > 0) {
        int d = s_dealer_with_room(a);
        if (d < 0)
            return;
        size_t i = a->waiting[a->wait_head];
        call_t *c = &a->calls[i];
        uint32_t tag[2] = {(uint32_t)i, a->sends + 1};
        void *s = a->dealers[d].sock;
        /* a DEALER takes all of a message or none of it */
        if (zmq_send(s, tag, sizeof tag, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            a->blocked = true; /* no daemon connected yet: later */
            return;
        }
        zmq_send(s, "", 0, ZMQ_SNDMORE);
        zmq_send(s, c->req, c->len, 0);
        c->send_id = ++a->sends;
        c->sock = d;
        c->deadline_us = sdx_now_us() + (uint64_t)a->timeout_ms * 1000u;
        a->dealers[d].in_flight++;
        a->wait_head = (a->wait_head + 1) % a->max_calls;
        a->nwaiting--;
    }
}

/* Read every reply dealer D has; end the calls they answer. */
static void
s_read_replies(sdx_async_t *a, size_t d, sdx_async_done_t *done, void *cls)
{
    void *s = a->dealers[d].sock;
    for (;;) {
        zmq_msg_t part[3];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&m);
                for (int k = 0; k < n && k < 3; k++)
                    zmq_msg_close(&part[k]);
                return; /* nothing more now (EAGAIN), or the socket
                           is closing */
            }
            more = zmq_msg_more(&m);
            if (n < 3)
                part[n] = m;
            else
                zmq_msg_close(&m);
            n++;
        }
        uint32_t tag[2];
        bool shaped = n == 3 && zmq_msg_size(&part[0]) == sizeof tag &&
                      zmq_msg_size(&part[1]) == 0;
        if (shaped)
            memcpy(tag, zmq_msg_data(&part[0]), sizeof tag);
        call_t *c = shaped && tag[0] < a->max_calls ? &a->calls[tag[0]]
                                                    : NULL;
        /* only the answer to the call's latest send, still in flight */
        if (c && c->used && c->send_id == tag[1] && c->sock == (int)d) {
            sdx_client_reply_t *reply = NULL;
            sdx_status_t st = sdx_client_reply_unpack(
                zmq_msg_data(&part[2]), zmq_msg_size(&part[2]), &reply);
            uint64_t t = c->tag;
            a->dealers[d].in_flight--;
            s_release(a, tag[0]);
            done(cls, t, st, reply);
        }
        for (int k = 0; k < n && k < 3; k++)
            zmq_msg_close(&part[k]);
    }
}

/* Attempts past their deadline: sent again, or ended SDX_UNAVAILABLE. */
static void
s_expire(sdx_async_t *a, sdx_async_done_t *done, void *cls)
{
    uint64_t now = sdx_now_us();
    for (size_t i = 0; i < a->used_hi; i++) {
        call_t *c = &a->calls[i];
        if (!c->used || c->deadline_us > now)
            continue;
        if (c->sock >= 0) {
            /* taken as lost: its late reply, if any, is dropped.  A
             * daemon that is slow rather than gone still counts it,
             * so a fifth call on this connection may come back
             * `overloaded`, which is what such a daemon is. */
            a->dealers[c->sock].in_flight--;
        } else {
            /* still waiting: take it out of the ring */
            size_t k = 0;
            while (a->waiting[(a->wait_head + k) % a->max_calls] != i)
                k++;
            for (; k + 1 < a->nwaiting; k++)
                a->waiting[(a->wait_head + k) % a->max_calls] =
                    a->waiting[(a->wait_head + k + 1) % a->max_calls];
            a->nwaiting--;
        }
        if (c->attempts_left > 0) {
            c->attempts_left--;
            c->deadline_us = now + (uint64_t)a->timeout_ms * 1000u;
            s_wait(a, i, true); /* first in line: it has waited longest */
        } else {
            uint64_t t = c->tag;
            s_release(a, i);
            done(cls, t, SDX_UNAVAILABLE, NULL);
        }
    }
}

/* Milliseconds until the first deadline (at most CAP; -1 CAP: none). */
static int
s_next_timeout(const sdx_async_t *a, int cap)
{
    if (a->blocked && (cap < 0 || cap > RETRY_SEND_MS))
        cap = RETRY_SEND_MS;
    if (a->ncalls == 0)
        return cap;
    uint64_t now = sdx_now_us(), first = UINT64_MAX;
    for (size_t i = 0; i < a->used_hi; i++)
        if (a->calls[i].used && a->calls[i].deadline_us < first)
            first = a->calls[i].deadline_us;
    int ms = first <= now ? 0 : (int)((first - now + 999) / 1000);
    return cap >= 0 && cap < ms ? cap : ms;
}

sdx_status_t
sdx_async_wait(sdx_async_t *a, const int *fds, bool *ready, size_t nfds,
               int timeout_ms, sdx_async_done_t *done, void *cls)
{
    size_t n = a->ndealers + nfds;
    if (n > a->nitems_cap) {
        zmq_pollitem_t *grown = realloc(a->items, n * sizeof *grown);
        if (!grown)
            return SDX_NOMEM;
        a->items = grown;
        a->nitems_cap = n;
    }
    s_send_waiting(a);
    for (size_t i = 0; i < a->ndealers; i++)
        a->items[i] = (zmq_pollitem_t){a->dealers[i].sock, 0, ZMQ_POLLIN, 0};
    for (size_t i = 0; i < nfds; i++) {
        a->items[a->ndealers + i] = (zmq_pollitem_t){NULL, fds[i],
                                                     ZMQ_POLLIN, 0};
        ready[i] = false;
    }
    int rc = zmq_poll(a->items, (int)n, s_next_timeout(a, timeout_ms));
    if (rc < 0 && errno != EINTR)
        return SDX_IO;
    for (size_t i = 0; rc > 0 && i < a->ndealers; i++)
        if (a->items[i].revents & ZMQ_POLLIN)
            s_read_replies(a, i, done, cls);
    for (size_t i = 0; rc > 0 && i < nfds; i++)
        ready[i] = (a->items[a->ndealers + i].revents & ZMQ_POLLIN) != 0;
    s_expire(a, done, cls);
    s_send_waiting(a);
    return SDX_OK;
}

void
sdx_async_cancel(sdx_async_t *a, sdx_async_done_t *done, void *cls)
{
    for (size_t i = 0; i < a->used_hi; i++) {
        if (!a->calls[i].used)
            continue;
        uint64_t t = a->calls[i].tag;
        if (a->calls[i].sock >= 0)
            a->dealers[a->calls[i].sock].in_flight--;
        s_release(a, i);
        done(cls, t, SDX_UNAVAILABLE, NULL);
    }
    a->wait_head = a->nwaiting = 0;
}

size_t
sdx_async_pending(const sdx_async_t *a)
{
    return a->ncalls;
}

void
sdx_async_destroy(sdx_async_t **a_p)
{
    sdx_async_t *a = *a_p;
    if (!a)
        return;
    for (size_t i = 0; a->dealers && i < a->ndealers; i++)
        if (a->dealers[i].sock)
            zmq_close(a->dealers[i].sock);
    for (size_t i = 0; a->calls && i < a->max_calls; i++)
        free(a->calls[i].req);
    if (a->own_ctx && a->ctx)
        zmq_ctx_term(a->ctx);
    free(a->dealers);
    free(a->calls);
    free(a->waiting);
    free(a->items);
    free(a);
    *a_p = NULL;
}
