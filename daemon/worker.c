/*
 * worker: one thread, one REQ socket to the broker, one Xapian handle.
 *
 * Nothing here is shared with other threads but the stats counters: the
 * socket is created and closed inside the thread (ZeroMQ sockets are not
 * thread-safe) and so is the database handle (nor are Xapian objects).
 * A request arrives as [envelope...][body] (the REQ socket has taken the
 * broker's delimiter off) and goes back as [envelope...][reply].
 *
 * The handle follows the index: at most once a second, before a request,
 * the worker resolves the index directory again and, when `current` now
 * names another database (a new build was swapped in) or none was open,
 * opens that one and closes the old.  So the daemon starts without an
 * index (answering `unavailable`) and picks up each new build by itself.
 */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "build.h"
#include "sdx_log.h"

#define RESOLVE_INTERVAL_US 1000000 /* index re-resolve period, us */

struct sdx_worker {
    pthread_t thread;          /* the worker's thread */
    void *zctx;                /* the shared ZeroMQ context */
    const sdx_config_t *cfg;   /* the daemon's configuration */
    sdx_stats_t *stats;        /* shared counters */
    unsigned number;           /* 0-based, for log lines */
    sdx_db_t *db;              /* this thread's handle, or NULL */
    char db_path[PATH_MAX];    /* what DB was opened on, or "" */
    char db_error[SDX_PROTO_MSG_MAX]; /* why DB is NULL */
    uint64_t resolved_us;      /* when the index was last resolved */
};

/*
 * Open the database DIR/current points at, unless it is the one open.
 * On failure keep the old handle if there is one (a half-finished swap
 * must not take the service down), else remember why.
 */
static void
s_refresh_db(sdx_worker_t *w)
{
    char path[PATH_MAX];
    char err[SDX_PROTO_MSG_MAX];
    uint64_t now = sdx_now_us();
    if (w->db && now - w->resolved_us < RESOLVE_INTERVAL_US)
        return;
    if (!w->db && w->resolved_us &&
        now - w->resolved_us < RESOLVE_INTERVAL_US)
        return;
    w->resolved_us = now;
    if (sdx_index_resolve(w->cfg->index_dir, path, sizeof path, err,
                          sizeof err) != SDX_OK) {
        if (!w->db)
            snprintf(w->db_error, sizeof w->db_error, "%s", err);
        return;
    }
    if (w->db && strcmp(path, w->db_path) == 0)
        return;

    sdx_db_t *db = NULL;
    char *msg = NULL;
    sdx_status_t st = sdx_db_open(path, &db, &msg);
    if (st != SDX_OK) {
        sdx_log(SDX_LOG_WARN, "worker %u: cannot open index %s: %s",
                w->number, path, msg ? msg : sdx_status_str(st));
        if (!w->db &&
            snprintf(w->db_error, sizeof w->db_error, "cannot open %s: %s",
                     path, msg ? msg : sdx_status_str(st)) < 0)
            w->db_error[0] = '\0';
        free(msg);
        return;
    }
    sdx_db_destroy(&w->db);
    w->db = db;
    snprintf(w->db_path, sizeof w->db_path, "%s", path);
    w->db_error[0] = '\0';
    sdx_log(w->number == 0 ? SDX_LOG_INFO : SDX_LOG_DEBUG,
            "worker %u: serving index %s", w->number, path);
}

/* Close every message of PARTS[0..N-1]. */
static void
s_close_parts(zmq_msg_t *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

/*
 * Answer one request: BODY (LEN bytes) in, *reply out (malloc'd).
 * Returns the reply's error code, for the counters.
 */
static sdx_errcode_t
s_answer(sdx_worker_t *w, const void *frame, size_t len, void **reply,
         size_t *reply_len)
{
    uint64_t t0 = sdx_now_us();
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_body_t body;
    sdx_errcode_t code;

    sdx_body_init(&body);
    code = sdx_request_decode(frame, len, &req, &err);
    bool decoded = code == SDX_E_NONE;
    if (decoded) {
        if (req.op != SDX_OP_PING)
            s_refresh_db(w);
        sdx_ops_ctx_t ctx = {
            .db = w->db,
            .db_path = w->db_path,
            .db_error = w->db_error,
            .stats = w->stats,
            .cfg = w->cfg,
        };
        code = sdx_ops_handle(&ctx, &req, &body, &err);
    }
    uint64_t took = sdx_now_us() - t0;
    if (code == SDX_E_NONE && !body.failed) {
        sdx_reply_ok(req.id, req.id_len, took, &body, reply, reply_len);
    } else {
        if (code == SDX_E_NONE) {
            code = SDX_E_INTERNAL;
            snprintf(err.message, sizeof err.message, "out of memory");
        }
        sdx_reply_error(req.id, req.id_len, took, code, err.message, reply,
                        reply_len);
    }
    /* query text only when the operator asked for it */
    sdx_log(SDX_LOG_DEBUG, "worker %u: %s %lluus %s%s%s%s", w->number,
            decoded ? sdx_op_name(req.op) : "(undecoded)",
            (unsigned long long)took, code ? sdx_errcode_str(code) : "ok",
            w->cfg->log_queries && req.q ? " q=\"" : "",
            w->cfg->log_queries && req.q ? req.q : "",
            w->cfg->log_queries && req.q ? "\"" : "");
    sdx_stats_record(w->stats, took, code != SDX_E_NONE);
    sdx_body_clear(&body);
    sdx_request_clear(&req);
    return code;
}

/*
 * Receive one request, answer it, send the reply.  Returns 0, or -1 when
 * the socket is finished (ETERM: the daemon is stopping, or a failure,
 * logged).
 */
static int
s_serve_one(sdx_worker_t *w, void *sock)
{
    zmq_msg_t parts[SDX_PROTO_MAX_FRAMES + 1];
    size_t sizes[SDX_PROTO_MAX_FRAMES + 1];
    size_t n = 0;
    int more = 1;
    int rc = -1;
    void *reply = NULL;
    size_t reply_len = 0;

    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, 0) < 0) {
            zmq_msg_close(&part);
            if (errno != ETERM)
                sdx_log(SDX_LOG_ERROR, "worker %u: recv: %s", w->number,
                        zmq_strerror(errno));
            goto cleanup;
        }
        more = zmq_msg_more(&part);
        if (n < SDX_PROTO_MAX_FRAMES + 1) {
            sizes[n] = zmq_msg_size(&part);
            parts[n++] = part;
        } else {
            zmq_msg_close(&part);  /* the broker never sends this many */
        }
    }

    /* The broker has checked the message: all but the last frame are
       the client's envelope, the last is the request. */
    size_t nenv = n - 1;
    if (n > SDX_PROTO_MAX_FRAMES) {
        sdx_reply_error(NULL, 0, 0, SDX_E_BAD_REQUEST,
                        "message has too many frames", &reply, &reply_len);
        nenv = 1;
    } else {
        s_answer(w, zmq_msg_data(&parts[n - 1]), sizes[n - 1], &reply,
                 &reply_len);
    }
    if (!reply) {
        sdx_log(SDX_LOG_ERROR, "worker %u: out of memory for a reply",
                w->number);
        static const char fallback[] = "\x83\xa1v\x01\xa2ok\xc2\xa5"
                                       "error\x82\xa4" "code\xa8internal"
                                       "\xa7message\xadout of memory";
        reply_len = sizeof fallback - 1;
        reply = malloc(reply_len);
        if (!reply)
            goto cleanup;
        memcpy(reply, fallback, reply_len);
    }

    for (size_t i = 0; i < nenv; i++) {
        if (zmq_msg_send(&parts[i], sock, ZMQ_SNDMORE) < 0)
            goto send_failed;
    }
    if (zmq_send(sock, reply, reply_len, 0) < 0)
        goto send_failed;
    rc = 0;
    goto cleanup;
send_failed:
    if (errno != ETERM)
        sdx_log(SDX_LOG_ERROR, "worker %u: send: %s", w->number,
                zmq_strerror(errno));
cleanup:
    free(reply);
    s_close_parts(parts, n);
    return rc;
}

static void *
s_worker_main(void *arg)
{
    sdx_worker_t *w = arg;
    int linger = 0;
    void *sock = zmq_socket(w->zctx, ZMQ_REQ);
    if (!sock) {
        sdx_log(SDX_LOG_ERROR, "worker %u: socket: %s", w->number,
                zmq_strerror(errno));
        return NULL;
    }
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(sock, SDX_DAEMON_BACKEND) != 0) {
        sdx_log(SDX_LOG_ERROR, "worker %u: connect %s: %s", w->number,
                SDX_DAEMON_BACKEND, zmq_strerror(errno));
        goto cleanup;
    }
    s_refresh_db(w);
    if (!w->db)
        sdx_log(SDX_LOG_WARN, "worker %u: no index: %s", w->number,
                w->db_error);
    if (zmq_send(sock, SDX_DAEMON_READY, strlen(SDX_DAEMON_READY), 0) < 0) {
        if (errno != ETERM)
            sdx_log(SDX_LOG_ERROR, "worker %u: send READY: %s", w->number,
                    zmq_strerror(errno));
        goto cleanup;
    }
    while (s_serve_one(w, sock) == 0)
        ;
cleanup:
    zmq_close(sock);
    sdx_db_destroy(&w->db);
    return NULL;
}

sdx_worker_t *
sdx_worker_start(void *zctx, const sdx_config_t *cfg, sdx_stats_t *stats,
                 unsigned number)
{
    sdx_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        sdx_log(SDX_LOG_ERROR, "worker %u: out of memory", number);
        return NULL;
    }
    w->zctx = zctx;
    w->cfg = cfg;
    w->stats = stats;
    w->number = number;
    int rc = pthread_create(&w->thread, NULL, s_worker_main, w);
    if (rc != 0) {
        sdx_log(SDX_LOG_ERROR, "worker %u: pthread_create: %s", number,
                strerror(rc));
        free(w);
        return NULL;
    }
    return w;
}

void
sdx_worker_join(sdx_worker_t **worker_p)
{
    if (!worker_p || !*worker_p)
        return;
    pthread_join((*worker_p)->thread, NULL);
    free(*worker_p);
    *worker_p = NULL;
}
