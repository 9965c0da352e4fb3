/*
 * specdex-load: the load generator.  Drives a specdexd (or the echo
 * server of bench/echo-server.c) with the fixed query set and reports
 * throughput, latency percentiles and errors as one CSV line (bench.h).
 *
 * K DEALER sockets, each with one request in flight, act as K clients:
 * each sends the empty delimiter frame a REQ socket would add, then the
 * msgpack request, and sends its next request as soon as its reply is
 * in.  One thread serves all K sockets through zmq_poll, so the
 * generator costs one core at most; on a 2-core machine it shares the
 * cores with the server, as a local chatbot backend would.
 *
 * Requests are packed once, before the clock starts; replies are
 * unpacked (msgpack-c) and checked for `ok`.  Any error reply, a
 * malformed reply or a reply that does not come within STALL_MS is an
 * error; the run's error count must be 0 for its numbers to mean
 * anything, and the exit status is 1 when it is not.
 *
 * Usage: specdex-load --endpoint EP --queries FILE [--inflight K]
 *          [--duration S | --count N] [--warmup S] [--no-snippet]
 *          [--no-ladder] [--engine NAME] [--corpus LABEL]
 *          [--threads N] [--header] [--probe] [--wait S] [--repeat R]
 * --repeat R (0..1) makes the stream a chatbot's, for the result cache:
 * each search is, with probability R, a repeat of one of the last
 * RING distinct requests (uniformly drawn), and otherwise a request
 * never sent before (the next query of the set, made unique by its
 * highlight marker, which changes no match and one attribute of the
 * snippets' markup).  Ladder lines are left out.  The daemon's cache
 * counters (`stats`) before and after the timed part are printed on
 * stderr: "cache: hits=H misses=M entries=E bytes=B max_bytes=X".
 * --probe asks one ladder request and prints "ladder=1" or "ladder=0"
 * (the server answered unknown_op), then exits.
 * --op OP sends every query of the set as one of the grid ops instead
 * (fit, first, verify, gaps: the query string as their text or q; gaps
 * at levels 1..5 in turn of --series NAME; diff: the rows "key resp 01"
 * .. "ksa 09" in turn, the query string unused), so that run-bench sets
 * each op's QPS beside search's on the same corpus and set.
 * --per-query R finds the tail through the daemon: one socket, one pass
 * over the set to warm the server, then each query R times in a row,
 * one line per query as specdex-inproc --per-query prints it (client
 * time, send to reply; nothing else in flight, so no queueing).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zmq.h>

#include "bench.h"
#include "sdx_msgpack.h"

#define K_MAX 256            /* sockets (requests in flight), at most */
#define STALL_MS 10000       /* no reply at all for this long: give up */
#define DRAIN_MS 10000       /* time to collect replies after the end */
#define ERRORS_SHOWN 5       /* error replies printed to stderr */
#define PER_QUERY_MAX 1000   /* --per-query repeats, at most */
#define RING 4096            /* --repeat: distinct requests a repeat is
                                drawn from, the most recent */

/* One packed request. */
typedef struct req {
    char *buf;               /* the msgpack map */
    size_t len;              /* bytes of BUF */
} req_t;

/* One client socket and its request in flight. */
typedef struct client {
    void *sock;              /* DEALER */
    bool busy;               /* a request is in flight */
    uint64_t sent_ns;        /* when it was sent */
} client_t;

/* The options. */
typedef struct opts {
    const char *endpoint;    /* server endpoint */
    const char *queries;     /* query set file */
    unsigned inflight;       /* K */
    double duration;         /* seconds of the timed part (0: by count) */
    uint64_t count;          /* requests of the timed part (0: by time) */
    double warmup;           /* seconds before the timed part */
    bool snippets;           /* ask for snippets */
    bool no_ladder;          /* leave ladder queries out */
    const char *engine;      /* CSV label */
    const char *corpus;      /* CSV label */
    unsigned threads;        /* server threads, for the CSV only */
    bool header;             /* print the CSV header first */
    bool probe;              /* only probe for ladder support */
    double wait;             /* seconds to wait for the server's pong */
    double repeat;           /* --repeat: share of repeated requests;
                                < 0: round robin over the set */
    unsigned per_query;      /* --per-query: repeats; 0: off */
    const char *op;          /* --op: a grid op; NULL: the set's own */
    const char *series;      /* --series: gaps' series */
} opts_t;

/* The run's counters. */
typedef struct run {
    bq_lat_t lat;            /* latency samples of the timed part */
    uint64_t replies;        /* replies in the timed part */
    uint64_t errors;         /* error replies (any part) */
    uint64_t reply_bytes;    /* bytes of timed replies */
    char last_code[64];      /* code of the last error reply */
} run_t;

/* Pack Q as a request (SNIPPETS: the search's `snippet`; HL_OPEN, when
   not NULL, its opening highlight marker). */
static int
s_pack_request(const bq_query_t *q, bool snippets, const char *hl_open,
               req_t *out)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    bool ladder = q->op == BQ_LADDER;
    unsigned n = 3 + (q->nsections > 0) +
                 (ladder ? 0 : 2u + (q->nlevels > 0) + (hl_open != NULL));
    msgpack_pack_map(&pk, n);
    sdx_msgpack_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    sdx_msgpack_pack_str(&pk, "op");
    sdx_msgpack_pack_str(&pk, ladder ? "ladder" : "search");
    sdx_msgpack_pack_str(&pk, "q");
    sdx_msgpack_pack_str(&pk, q->q);
    if (!ladder) {
        sdx_msgpack_pack_str(&pk, "limit");
        msgpack_pack_int(&pk, 10);
        sdx_msgpack_pack_str(&pk, "snippet");
        if (snippets)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
        if (q->nlevels) {
            sdx_msgpack_pack_str(&pk, "levels");
            msgpack_pack_array(&pk, q->nlevels);
            for (size_t i = 0; i < q->nlevels; i++)
                msgpack_pack_int(&pk, q->levels[i]);
        }
        if (hl_open) {
            sdx_msgpack_pack_str(&pk, "highlight");
            msgpack_pack_array(&pk, 2);
            sdx_msgpack_pack_str(&pk, hl_open);
            sdx_msgpack_pack_str(&pk, "</mark>");
        }
    }
    if (q->nsections) {
        sdx_msgpack_pack_str(&pk, "sections");
        msgpack_pack_array(&pk, q->nsections);
        for (size_t i = 0; i < q->nsections; i++)
            sdx_msgpack_pack_str(&pk, q->sections[i]);
    }
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    out->buf = sb.data;     /* the sbuffer's memory is now ours */
    out->len = sb.size;
    return 0;
}

/*
 * Query I of the set (Q) as a request of the grid op OP (--op) into OUT;
 * SERIES is gaps' series.  -1 out of memory.
 */
static int
s_pack_grid(const char *op, const bq_query_t *q, size_t i,
            const char *series, req_t *out)
{
    static const char *const rows[] = {
        "key resp 01", "key resp 02", "key resp 03", "key resp 04",
        "key resp 05", "key resp 06", "ksa 01", "ksa 02", "ksa 03",
        "ksa 04", "ksa 05", "ksa 06", "ksa 07", "ksa 08", "ksa 09",
    };
    msgpack_sbuffer sb;
    msgpack_packer pk;
    bool gaps = strcmp(op, "gaps") == 0, diff = strcmp(op, "diff") == 0;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, gaps ? 5 : 3);
    sdx_msgpack_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    sdx_msgpack_pack_str(&pk, "op");
    sdx_msgpack_pack_str(&pk, op);
    sdx_msgpack_pack_str(&pk, diff ? "row"
                              : strcmp(op, "first") == 0 ? "q" : "text");
    sdx_msgpack_pack_str(&pk, diff ? rows[i % (sizeof rows / sizeof *rows)]
                                   : q->q);
    if (gaps) {
        sdx_msgpack_pack_str(&pk, "level");
        msgpack_pack_int(&pk, (int)(1 + i % 5));
        sdx_msgpack_pack_str(&pk, "series");
        sdx_msgpack_pack_str(&pk, series);
    }
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    out->buf = sb.data;
    out->len = sb.size;
    return 0;
}

/*
 * The requests to send, in order: round robin over the packed set, or
 * (--repeat) the chatbot's stream described at the top.
 */
typedef struct stream {
    const req_t *reqs;       /* the set, packed (round robin) */
    size_t nreqs;            /* entries of REQS */
    size_t next;             /* next entry of REQS / query of SET */
    const bq_set_t *set;     /* --repeat: the queries */
    bool snippets;           /* --repeat: ask for snippets */
    double repeat;           /* share of repeats; < 0: round robin */
    uint64_t rng;            /* xorshift64 state, fixed seed */
    req_t ring[RING];        /* the last distinct requests, packed */
    size_t nring;            /* entries of RING in use */
    uint64_t fresh;          /* distinct requests made */
} stream_t;

static uint64_t
s_rand(stream_t *st)
{
    st->rng ^= st->rng << 13;
    st->rng ^= st->rng >> 7;
    st->rng ^= st->rng << 17;
    return st->rng;
}

/* The next request to send, valid until the next call; NULL when out
   of memory. */
static const req_t *
s_next(stream_t *st)
{
    if (st->repeat < 0) {
        const req_t *r = &st->reqs[st->next];
        st->next = (st->next + 1) % st->nreqs;
        return r;
    }
    double u = (double)(s_rand(st) >> 11) / 9007199254740992.0;
    if (st->nring > 0 && u < st->repeat)
        return &st->ring[s_rand(st) % st->nring];
    const bq_query_t *q;
    do {
        q = &st->set->v[st->next];
        st->next = (st->next + 1) % st->set->n;
    } while (q->op == BQ_LADDER);
    char mark[64];
    snprintf(mark, sizeof mark, "<mark data-n=\"%llu\">",
             (unsigned long long)st->fresh);
    size_t slot = (size_t)(st->fresh % RING);
    free(st->ring[slot].buf);
    st->ring[slot].buf = NULL;
    if (s_pack_request(q, st->snippets, mark, &st->ring[slot]))
        return NULL;
    st->fresh++;
    if (st->nring < RING)
        st->nring++;
    return &st->ring[slot];
}

/* Send REQ on C: the empty delimiter, then the request. */
static int
s_send(client_t *c, const req_t *req)
{
    if (zmq_send(c->sock, "", 0, ZMQ_SNDMORE) != 0 ||
        zmq_send(c->sock, req->buf, req->len, 0) != (int)req->len) {
        fprintf(stderr, "specdex-load: zmq_send: %s\n",
                zmq_strerror(zmq_errno()));
        return -1;
    }
    c->busy = true;
    c->sent_ns = sdx_now_ns();
    return 0;
}

/* Find KEY in map OBJ; NULL when absent or OBJ is no map. */
static const msgpack_object *
s_map_get(const msgpack_object *obj, const char *key)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR &&
            kv->key.via.str.size == klen &&
            memcmp(kv->key.via.str.ptr, key, klen) == 0)
            return &kv->val;
    }
    return NULL;
}

/*
 * Check one reply frame: 0 when `ok` is true; else -1 with the error
 * code (or "malformed") in CODE.
 */
static int
s_check_reply(const void *buf, size_t len, char *code, size_t code_size)
{
    msgpack_unpacked up;
    int rc = -1;
    msgpack_unpacked_init(&up);
    snprintf(code, code_size, "malformed");
    if (msgpack_unpack_next(&up, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *ok = s_map_get(&up.data, "ok");
        if (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean) {
            rc = 0;
        } else {
            const msgpack_object *e = s_map_get(&up.data, "error");
            const msgpack_object *c = e ? s_map_get(e, "code") : NULL;
            const msgpack_object *m = e ? s_map_get(e, "message") : NULL;
            if (c && c->type == MSGPACK_OBJECT_STR)
                snprintf(code, code_size, "%.*s", (int)c->via.str.size,
                         c->via.str.ptr);
            if (m && m->type == MSGPACK_OBJECT_STR)
                snprintf(code + strlen(code), code_size - strlen(code),
                         ": %.*s", (int)m->via.str.size, m->via.str.ptr);
        }
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

/*
 * Receive C's reply: the delimiter frame, then the reply.  Returns the
 * reply's size and sets *ok; -1 on a transport failure.
 */
static long
s_recv(client_t *c, run_t *run, bool *ok)
{
    zmq_msg_t msg;
    long size = -1;
    int more = 1;
    bool first = true;
    *ok = false;
    while (more) {
        if (zmq_msg_init(&msg) != 0 || zmq_msg_recv(&msg, c->sock, 0) < 0) {
            fprintf(stderr, "specdex-load: zmq_msg_recv: %s\n",
                    zmq_strerror(zmq_errno()));
            zmq_msg_close(&msg);
            return -1;
        }
        more = zmq_msg_more(&msg);
        if (first && more && zmq_msg_size(&msg) == 0) {
            first = false;          /* the delimiter */
            zmq_msg_close(&msg);
            continue;
        }
        first = false;
        if (!more) {
            size = (long)zmq_msg_size(&msg);
            char code[256];
            *ok = s_check_reply(zmq_msg_data(&msg), zmq_msg_size(&msg),
                                code, sizeof code) == 0;
            if (!*ok) {
                if (run->errors < ERRORS_SHOWN)
                    fprintf(stderr, "specdex-load: error reply: %s\n", code);
                snprintf(run->last_code, sizeof run->last_code, "%.*s",
                         (int)sizeof run->last_code - 1, code);
            }
        }
        zmq_msg_close(&msg);
    }
    c->busy = false;
    return size;
}

/*
 * Run the clients until END_NS (or COUNT replies when COUNT > 0),
 * recording into RUN when RECORD, sending STREAM's requests.
 * Returns 0, or -1 on a transport failure or a stall.
 */
static int
s_loop(client_t *cl, unsigned k, stream_t *stream, uint64_t end_ns,
       uint64_t count, bool record, run_t *run)
{
    zmq_pollitem_t items[K_MAX];
    uint64_t got = 0;
    for (unsigned i = 0; i < k; i++) {
        items[i] = (zmq_pollitem_t){.socket = cl[i].sock, .events = ZMQ_POLLIN};
        if (!cl[i].busy) {
            const req_t *req = s_next(stream);
            if (!req || s_send(&cl[i], req))
                return -1;
        }
    }
    bool stop = false;
    uint64_t last_ns = sdx_now_ns();
    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < k; i++)
            busy += cl[i].busy;
        if (stop && busy == 0)
            return 0;
        int rc = zmq_poll(items, (int)k, 200);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "specdex-load: zmq_poll: %s\n",
                    zmq_strerror(zmq_errno()));
            return -1;
        }
        uint64_t now = sdx_now_ns();
        if (rc == 0) {
            if (now - last_ns > (uint64_t)(stop ? DRAIN_MS : STALL_MS) *
                                    1000000u) {
                fprintf(stderr, "specdex-load: %u replies missing after "
                        "%d ms\n", busy, stop ? DRAIN_MS : STALL_MS);
                run->errors += busy;
                return -1;
            }
        } else {
            last_ns = now;
        }
        if (!stop && (now >= end_ns || (count && got >= count)))
            stop = true;
        for (unsigned i = 0; i < k && rc > 0; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            bool ok;
            long size = s_recv(&cl[i], run, &ok);
            uint64_t t = sdx_now_ns();
            if (size < 0)
                return -1;
            if (!ok)
                run->errors++;
            if (record && !stop && t <= end_ns) {
                if (bq_lat_add(&run->lat, t - cl[i].sent_ns))
                    return -1;
                run->replies++;
                run->reply_bytes += (uint64_t)size;
                got++;
                if (count && got >= count)
                    stop = true;
            }
            if (!stop) {
                const req_t *req = s_next(stream);
                if (!req || s_send(&cl[i], req))
                    return -1;
            }
        }
    }
}

/* Wait up to SECONDS for a pong on C.  0 when the server answered. */
static int
s_wait_server(client_t *c, double seconds)
{
    static const char ping[] = "\x82\xa1v\x01\xa2op\xa4ping";
    req_t req = {.buf = (char *)ping, .len = sizeof ping - 1};
    run_t run;
    memset(&run, 0, sizeof run);
    if (s_send(c, &req))
        return -1;
    zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
    int rc = zmq_poll(&item, 1, (long)(seconds * 1000));
    if (rc <= 0) {
        fprintf(stderr, "specdex-load: no answer to ping in %.0f s\n",
                seconds);
        return -1;
    }
    bool ok;
    return s_recv(c, &run, &ok) < 0 || !ok ? -1 : 0;
}

/*
 * Ask the server's `stats` on the idle client C and print its cache
 * counters on stderr: "cache WHEN: hits=H misses=M entries=E bytes=B
 * max_bytes=X" (nothing when it has none).
 */
static void
s_cache_stats(client_t *c, const char *when)
{
    static const char stats[] = "\x82\xa1v\x01\xa2op\xa5stats";
    req_t req = {.buf = (char *)stats, .len = sizeof stats - 1};
    zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
    if (s_send(c, &req) || zmq_poll(&item, 1, STALL_MS) <= 0)
        return;
    zmq_msg_t msg;
    int more = 1;
    while (more) {
        if (zmq_msg_init(&msg) != 0 || zmq_msg_recv(&msg, c->sock, 0) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        more = zmq_msg_more(&msg);
        if (!more) {
            msgpack_unpacked up;
            msgpack_unpacked_init(&up);
            if (msgpack_unpack_next(&up, zmq_msg_data(&msg),
                                    zmq_msg_size(&msg), NULL) ==
                MSGPACK_UNPACK_SUCCESS) {
                const msgpack_object *ca = s_map_get(&up.data, "cache");
                const char *keys[] = {"hits", "misses", "entries", "bytes",
                                      "max_bytes"};
                if (ca) {
                    fprintf(stderr, "cache %s:", when);
                    for (size_t i = 0; i < 5; i++) {
                        const msgpack_object *v = s_map_get(ca, keys[i]);
                        fprintf(stderr, " %s=%llu", keys[i],
                                v && v->type ==
                                         MSGPACK_OBJECT_POSITIVE_INTEGER
                                    ? (unsigned long long)v->via.u64
                                    : 0ull);
                    }
                    fprintf(stderr, "\n");
                }
            }
            msgpack_unpacked_destroy(&up);
        }
        zmq_msg_close(&msg);
    }
    c->busy = false;
}

/* Ask one ladder request on C: 1 supported, 0 unknown_op, -1 failure. */
static int
s_probe_ladder(client_t *c)
{
    bq_query_t q = {.op = BQ_LADDER, .q = "analysis"};
    req_t req;
    run_t run;
    memset(&run, 0, sizeof run);
    if (s_pack_request(&q, true, NULL, &req))
        return -1;
    int rc = -1;
    if (s_send(c, &req) == 0) {
        zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
        bool ok;
        if (zmq_poll(&item, 1, STALL_MS) > 0 && s_recv(c, &run, &ok) >= 0)
            rc = ok ? 1 : strncmp(run.last_code, "unknown_op", 10) == 0
                              ? 0 : -1;
    }
    free(req.buf);
    return rc;
}

/* Send REQ on C and wait for its reply; 0 when it came and was ok. */
static int
s_roundtrip(client_t *c, const req_t *req, run_t *run)
{
    zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
    bool ok = false;
    if (s_send(c, req))
        return -1;
    if (zmq_poll(&item, 1, STALL_MS) <= 0) {
        fprintf(stderr, "specdex-load: no reply in %d ms\n", STALL_MS);
        return -1;
    }
    return s_recv(c, run, &ok) < 0 || !ok ? -1 : 0;
}

/* --per-query: each of the N requests REQS (queries of SET) REPEAT
   times on C after a warm-up pass.  0, or -1 on a failure. */
static int
s_per_query(client_t *c, const bq_set_t *set, const req_t *reqs,
            unsigned repeat, run_t *run)
{
    uint64_t *us = calloc(repeat, sizeof *us);
    int rc = -1;
    if (!us)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        if (s_roundtrip(c, &reqs[i], run))
            goto cleanup;
    for (size_t i = 0; i < set->n; i++) {
        for (unsigned k = 0; k < repeat; k++) {
            uint64_t t0 = sdx_now_ns();
            if (s_roundtrip(c, &reqs[i], run))
                goto cleanup;
            us[k] = (sdx_now_ns() - t0) / 1000;
        }
        bq_per_query_print(stdout, &set->v[i], us, repeat);
    }
    rc = 0;
cleanup:
    free(us);
    return rc;
}

static void
s_usage(FILE *f)
{
    fprintf(f,
            "usage: specdex-load --endpoint EP --queries FILE [--inflight K]"
            "\n         [--duration S | --count N] [--warmup S] "
            "[--no-snippet]\n         [--no-ladder] [--engine NAME] "
            "[--corpus LABEL] [--threads N]\n         [--header] [--probe] "
            "[--wait S] [--repeat R]\n         [--per-query R] "
            "[--op fit|diff|first|verify|gaps [--series NAME]]\n");
}

static int
s_parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"queries", required_argument, NULL, 'q'},
        {"inflight", required_argument, NULL, 'k'},
        {"duration", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"no-snippet", no_argument, NULL, 'S'},
        {"no-ladder", no_argument, NULL, 'L'},
        {"engine", required_argument, NULL, 'E'},
        {"corpus", required_argument, NULL, 'C'},
        {"threads", required_argument, NULL, 't'},
        {"header", no_argument, NULL, 'H'},
        {"probe", no_argument, NULL, 'P'},
        {"wait", required_argument, NULL, 'W'},
        {"repeat", required_argument, NULL, 'R'},
        {"per-query", required_argument, NULL, 'Q'},
        {"op", required_argument, NULL, 'O'},
        {"series", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (opts_t){.inflight = 1, .duration = 10, .warmup = 1,
                  .snippets = true, .engine = "daemon", .corpus = "-",
                  .threads = 0, .wait = 10, .repeat = -1};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': o->endpoint = optarg; break;
        case 'q': o->queries = optarg; break;
        case 'k': o->inflight = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': o->duration = strtod(optarg, NULL); break;
        case 'n': o->count = strtoull(optarg, NULL, 10); break;
        case 'w': o->warmup = strtod(optarg, NULL); break;
        case 'S': o->snippets = false; break;
        case 'L': o->no_ladder = true; break;
        case 'E': o->engine = optarg; break;
        case 'C': o->corpus = optarg; break;
        case 't': o->threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'H': o->header = true; break;
        case 'P': o->probe = true; break;
        case 'W': o->wait = strtod(optarg, NULL); break;
        case 'R':
            o->repeat = strtod(optarg, NULL);
            if (o->repeat < 0 || o->repeat > 1) {
                fprintf(stderr, "specdex-load: --repeat: 0..1\n");
                return -1;
            }
            break;
        case 'Q': {
            long r = strtol(optarg, NULL, 10);
            if (r < 1 || r > PER_QUERY_MAX) {
                fprintf(stderr, "specdex-load: --per-query: 1..%d\n",
                        PER_QUERY_MAX);
                return -1;
            }
            o->per_query = (unsigned)r;
            break;
        }
        case 'O':
            if (strcmp(optarg, "fit") && strcmp(optarg, "diff") &&
                strcmp(optarg, "first") && strcmp(optarg, "verify") &&
                strcmp(optarg, "gaps")) {
                fprintf(stderr, "specdex-load: --op: one of fit, diff, "
                        "first, verify, gaps\n");
                return -1;
            }
            o->op = optarg;
            break;
        case 's': o->series = optarg; break;
        case 'h': s_usage(stdout); exit(0);
        default: s_usage(stderr); return -1;
        }
    }
    if (!o->endpoint || (!o->queries && !o->probe) || o->inflight < 1 ||
        o->inflight > K_MAX || o->warmup < 0 || o->wait <= 0 ||
        (o->count == 0 && o->duration <= 0)) {
        s_usage(stderr);
        return -1;
    }
    if (o->op && strcmp(o->op, "gaps") == 0 && !o->series) {
        fprintf(stderr, "specdex-load: --op gaps needs --series\n");
        return -1;
    }
    if (o->op && o->repeat >= 0) {
        fprintf(stderr, "specdex-load: --op and --repeat: one or the "
                "other\n");
        return -1;
    }
    if (o->count)
        o->duration = 3600;  /* by count, within an hour */
    return 0;
}

int
main(int argc, char **argv)
{
    opts_t o;
    bq_set_t *set = NULL;
    req_t *reqs = NULL;
    client_t cl[K_MAX];
    run_t run;
    stream_t *stream = NULL;
    void *ctx = NULL;
    char err[512];
    int rc = 1;
    unsigned nsock = 0;

    memset(cl, 0, sizeof cl);
    memset(&run, 0, sizeof run);
    if (s_parse_opts(argc, argv, &o))
        return 2;
    if (!(ctx = zmq_ctx_new())) {
        fprintf(stderr, "specdex-load: zmq_ctx_new: %s\n",
                zmq_strerror(zmq_errno()));
        return 1;
    }
    for (; nsock < o.inflight; nsock++) {
        int linger = 0;
        cl[nsock].sock = zmq_socket(ctx, ZMQ_DEALER);
        if (!cl[nsock].sock ||
            zmq_setsockopt(cl[nsock].sock, ZMQ_LINGER, &linger,
                           sizeof linger) ||
            zmq_connect(cl[nsock].sock, o.endpoint)) {
            fprintf(stderr, "specdex-load: socket to %s: %s\n", o.endpoint,
                    zmq_strerror(zmq_errno()));
            goto cleanup;
        }
    }
    if (s_wait_server(&cl[0], o.wait))
        goto cleanup;
    if (o.probe) {
        int sup = s_probe_ladder(&cl[0]);
        if (sup < 0) {
            fprintf(stderr, "specdex-load: ladder probe failed\n");
            goto cleanup;
        }
        printf("ladder=%d\n", sup);
        rc = 0;
        goto cleanup;
    }
    if (bq_set_load(o.queries, o.no_ladder, &set, err, sizeof err)) {
        fprintf(stderr, "specdex-load: %s\n", err);
        goto cleanup;
    }
    if (!(reqs = calloc(set->n, sizeof *reqs)))
        goto cleanup;
    for (size_t i = 0; i < set->n; i++)
        if (o.op ? s_pack_grid(o.op, &set->v[i], i, o.series, &reqs[i])
                 : s_pack_request(&set->v[i], o.snippets, NULL, &reqs[i]))
            goto cleanup;
    if (o.per_query) {
        rc = s_per_query(&cl[0], set, reqs, o.per_query, &run) ? 1 : 0;
        goto cleanup;
    }
    if (!(stream = calloc(1, sizeof *stream)))
        goto cleanup;
    *stream = (stream_t){.reqs = reqs, .nreqs = set->n, .set = set,
                         .snippets = o.snippets, .repeat = o.repeat,
                         .rng = 20240607};
    if (o.repeat >= 0) {
        bool search = false;
        for (size_t i = 0; i < set->n; i++)
            search = search || set->v[i].op != BQ_LADDER;
        if (!search) {
            fprintf(stderr, "specdex-load: --repeat: no search query\n");
            goto cleanup;
        }
    }

    uint64_t start = sdx_now_ns(), end = start;
    if (o.warmup > 0 &&
        s_loop(cl, o.inflight, stream, start + (uint64_t)(o.warmup * 1e9),
               0, false, &run))
        goto report;
    if (o.repeat >= 0)
        s_cache_stats(&cl[0], "before");
    start = sdx_now_ns();
    end = start + (uint64_t)(o.duration * 1e9);
    if (s_loop(cl, o.inflight, stream, end, o.count, true, &run))
        goto report;
    rc = 0;
    if (o.repeat >= 0)
        s_cache_stats(&cl[0], "after");
report:;
    uint64_t stop = sdx_now_ns();
    bq_result_t r = {
        .engine = o.engine, .corpus = o.corpus, .inflight = o.inflight,
        .threads = o.threads, .snippets = o.snippets,
        .requests = run.replies, .errors = run.errors,
        .seconds = (double)((stop < end ? stop : end) - start) / 1e9,
        .reply_bytes = run.replies ? (double)run.reply_bytes /
                                         (double)run.replies : 0,
        .matches = -1,
    };
    if (o.count && rc == 0)
        r.seconds = (double)(stop - start) / 1e9;
    bq_result_print(stdout, o.header, &r, &run.lat);
    if (run.errors)
        rc = 1;
cleanup:
    for (unsigned i = 0; i < nsock; i++)
        if (cl[i].sock && zmq_close(cl[i].sock))
            fprintf(stderr, "specdex-load: zmq_close: %s\n",
                    zmq_strerror(zmq_errno()));
    if (ctx && zmq_ctx_term(ctx))
        fprintf(stderr, "specdex-load: zmq_ctx_term: %s\n",
                zmq_strerror(zmq_errno()));
    if (reqs)
        for (size_t i = 0; i < set->n; i++)
            free(reqs[i].buf);
    free(reqs);
    if (stream)
        for (size_t i = 0; i < RING; i++)
            free(stream->ring[i].buf);
    free(stream);
    bq_set_destroy(&set);
    bq_lat_free(&run.lat);
    return rc;
}
