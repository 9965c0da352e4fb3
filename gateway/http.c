/*
 * specdex-http: the HTTP/JSON gateway and the staff web page.  A thin
 * client of specdexd (libspecdex-client): `POST /v1/OP` sends the JSON
 * body as the request of op OP and answers the daemon's reply as JSON,
 * through one generic translation (gw_call), so an op the daemon learns
 * later is served with no code here; `GET /v1/search?q=...` is the same
 * search for links; `/v1/openapi.json` describes it all; `/` is the web
 * page (gateway/web/, compiled into the program: nothing loads from
 * outside the machine).
 *
 * libmicrohttpd serves HTTP (Debian's libmicrohttpd-dev: a small C
 * library made for embedding, with its own limits on connections,
 * header memory and idle time); jansson reads the request's JSON; the
 * reply is written straight from msgpack
 * (sdx_json_dumps).  One thread does it all: libmicrohttpd in its
 * external epoll mode and the daemon calls (sdx_async: several
 * connections to the daemon, --threads calls in flight) are waited on
 * together.  A request the daemon answers suspends its connection
 * until the reply comes; nothing blocks, and no request is handed from
 * one thread to another (each hand-off was a wake-up: the thread pool
 * this replaced spent half its time in them, docs/BENCH.md).
 *
 * Privacy: binds 127.0.0.1 by default and refuses an address other
 * machines reach unless a bearer token is required (--token-file) or
 * --insecure-bind; the access log (--access-log) names the method, the
 * path, the status and the time, never the query (neither the body nor
 * the query string).
 */
#define _DEFAULT_SOURCE /* strsep */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "gw.h"
#include "gw_assets.h"
#include "sdx_json.h"
#include "sdx_log.h"
#include "sdx_util.h" /* sdx_now_us */

#define DEFAULT_LISTEN "127.0.0.1:8599"
#define DEFAULT_THREADS 16        /* daemon calls in flight at once */
#define STOP_DRAIN_S 5            /* on SIGTERM, time for the calls in
                                     flight to be answered */
#define STOP_LINGER_MS 200        /* then for their answers to be sent */
#define STOP_TICK_MS 20           /* the loop's wait while stopping */
#define DEFAULT_CONNECTIONS 256   /* open connections at once */
#define DEFAULT_BODY 65536        /* request body, bytes (the daemon's
                                     frame limit is the same) */
#define DEFAULT_HEADER 16384      /* header memory per connection, bytes */
#define DEFAULT_IDLE_S 10         /* a silent connection is closed after */
#define OP_MAX 32                 /* bytes of an op name in a path */

/* The command line, and what the handler needs. */
typedef struct http {
    gw_daemon_t daemon;        /* how to reach specdexd */
    sdx_async_t *async;        /* the calls to it */
    const char *listen;        /* ADDR:PORT */
    const char *token_file;    /* NULL: no token asked */
    char *token;               /* the token, or NULL */
    bool insecure_bind;        /* non-loopback without a token */
    bool access_log;           /* a line per request */
    unsigned threads;          /* daemon calls in flight at once */
    bool resumed;              /* a connection was resumed: MHD_run */
    bool stopping;             /* SIGTERM came: calls still open are
                                  answered `unavailable` */
    unsigned max_connections;  /* MHD_OPTION_CONNECTION_LIMIT */
    size_t max_body;           /* bytes of a request body */
    size_t max_header;         /* MHD_OPTION_CONNECTION_MEMORY_LIMIT */
    unsigned idle_s;           /* MHD_OPTION_CONNECTION_TIMEOUT, seconds */
} http_t;

/* One request in progress (MHD's per-request pointer).  While its
 * daemon call is open its connection is suspended, and the call's tag
 * is this request: MHD frees it (s_completed) only after a resume. */
typedef struct req {
    char *body;                /* what has come of the body */
    size_t len;                /* bytes of BODY */
    bool too_large;            /* the body went past max_body */
    struct timespec start;     /* for the access log */
    struct MHD_Connection *con; /* while a daemon call is open */
    bool calling;              /* the daemon call was sent */
    char *answer;              /* its reply as JSON text, once it ended */
    size_t answer_len;         /* bytes of ANSWER */
    unsigned status;           /* the HTTP status for ANSWER */
    int retry_after;           /* seconds, or 0 */
} req_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
"Usage: specdex-http [OPTIONS]\n"
"The HTTP/JSON gateway of specdexd, and the staff web page at /.\n"
"\n"
"  POST /v1/OP          the request of op OP as a JSON object; the reply\n"
"                       is the daemon's, as JSON\n"
"  GET  /v1/search?q=   a search for links (level=, section=, row=,\n"
"                       code=, limit=, offset=, group=, facets=)\n"
"  GET  /v1/openapi.json  the OpenAPI 3 description\n"
"\n"
"Options:\n"
"  -l, --listen ADDR:PORT  where to listen (default " DEFAULT_LISTEN ";\n"
"                       [::1]:PORT for IPv6; port 0 picks one)\n"
"  -e, --endpoint EP    the daemon; again for a fallback (default\n"
"                       $SPECDEX_ENDPOINT, else " SDX_CLIENT_DEFAULT_ENDPOINT ")\n"
"  -t, --timeout MS     wait for the daemon per attempt (default %d;\n"
"                       %d attempts): past it the reply is 504\n"
"      --token-file FILE  require 'Authorization: Bearer TOKEN' on /v1/,\n"
"                       TOKEN the file's first line\n"
"      --insecure-bind  listen beyond loopback without a token\n"
"  -j, --threads N      daemon calls in flight at once (default %d;\n"
"                       more wait here in turn)\n"
"      --max-connections N  open connections (default %d)\n"
"      --max-body BYTES  request body (default %d; past it 413)\n"
"      --max-header BYTES  request line and headers (default %d; past\n"
"                       it 431)\n"
"      --idle-timeout S  close a connection silent this long (default %d)\n"
"      --access-log     log method, path, status and time of each request\n"
"                       (never the query)\n"
"  -V, --version        the version\n"
"  -h, --help           this help\n"
"\n"
"Example:\n"
"  curl -s 'http://127.0.0.1:8599/v1/search?q=root+cause+analysis&level=1'\n"
"\n"
"See specdex-http(1).\n",
            SDX_CLIENT_DEFAULT_TIMEOUT_MS, SDX_CLIENT_DEFAULT_ATTEMPTS,
            DEFAULT_THREADS, DEFAULT_CONNECTIONS, DEFAULT_BODY,
            DEFAULT_HEADER, DEFAULT_IDLE_S);
}

/* ---------------------------------------------------------------- */
/* Replies                                                          */
/* ---------------------------------------------------------------- */

/* Headers every reply carries: no sniffing, no referrer (a page's URL
 * holds the query), nothing framed, nothing fetched from elsewhere. */
static void
s_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'");
}

static void
s_log(const http_t *h, const char *method, const char *url, unsigned status,
      const req_t *rq)
{
    if (!h->access_log)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us = (now.tv_sec - rq->start.tv_sec) * 1000000LL +
                   (now.tv_nsec - rq->start.tv_nsec) / 1000;
    /* URL is the path alone: MHD keeps the query string apart. */
    sdx_log(SDX_LOG_INFO, "%s %.200s %u %lldus", method, url, status, us);
}

/* Answer TEXT (LEN bytes of JSON, malloc'd; consumed) with STATUS. */
static enum MHD_Result
s_send_text(const http_t *h, struct MHD_Connection *con, const char *method,
            const char *url, const req_t *rq, unsigned status, int retry,
            char *text, size_t len)
{
    if (!text)
        return MHD_NO; /* out of memory: MHD closes the connection */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    s_common_headers(r);
    MHD_add_response_header(r, "Content-Type",
                            "application/json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (retry > 0) {
        char s[16];
        snprintf(s, sizeof s, "%d", retry);
        MHD_add_response_header(r, "Retry-After", s);
    }
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate",
                                "Bearer realm=\"specdex\"");
    if (status == 405)
        MHD_add_response_header(r, "Allow", "GET, POST");
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    s_log(h, method, url, status, rq);
    return ret;
}

/* REPLY (a JSON reply; consumed) as text (malloc'd, NULL when out of
 * memory; its length in *LEN), with the status its code maps to. */
static char *
s_json_text(json_t *reply, unsigned *status, int *retry, size_t *len)
{
    *retry = 0;
    *status = reply ? (unsigned)gw_http_status(gw_error_code(reply), retry)
                    : 500;
    char *text = reply ? json_dumps(reply, JSON_COMPACT
                                            | JSON_REAL_PRECISION(17))
                       : NULL;
    json_decref(reply);
    *len = text ? strlen(text) : 0;
    return text;
}

/* Answer REPLY (a JSON reply; consumed) with the status its code maps to. */
static enum MHD_Result
s_send_json(const http_t *h, struct MHD_Connection *con, const char *method,
            const char *url, const req_t *rq, json_t *reply)
{
    unsigned status;
    int retry;
    size_t len;
    char *text = s_json_text(reply, &status, &retry, &len);
    return s_send_text(h, con, method, url, rq, status, retry, text, len);
}

/* Answer one of the files compiled in. */
static enum MHD_Result
s_send_asset(const http_t *h, struct MHD_Connection *con, const char *method,
             const char *url, const req_t *rq, const gw_asset_t *a)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    s_common_headers(r);
    MHD_add_response_header(r, "Content-Type", a->type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    s_log(h, method, url, MHD_HTTP_OK, rq);
    return ret;
}

/* ---------------------------------------------------------------- */
/* GET /v1/search: parameters -> request                            */
/* ---------------------------------------------------------------- */

/* How a parameter of a link becomes a key of the request. */
static const struct param {
    const char *name;          /* in the URL */
    const char *key;           /* in the request */
    enum { P_STR, P_INT, P_BOOL, P_INTS, P_STRS } kind;
} params[] = {
    {"q", "q", P_STR},          {"syntax", "syntax", P_STR},
    {"limit", "limit", P_INT},  {"offset", "offset", P_INT},
    {"group", "group", P_BOOL}, {"facets", "facets", P_BOOL},
    {"snippet", "snippet", P_BOOL},
    {"level", "levels", P_INTS}, {"section", "sections", P_STRS},
    {"row", "rows", P_STRS},    {"code", "codes", P_STRS},
};

/* What the parameter walk builds. */
typedef struct args {
    json_t *req;               /* the request */
    char err[300];             /* the first problem, or "" */
} args_t;

/* A whole decimal number 0..INT32_MAX, or -1. */
static long long
s_number(const char *s)
{
    if (!*s || strlen(s) > 9)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return strtoll(s, NULL, 10);
}

static enum MHD_Result
s_param(void *cls, enum MHD_ValueKind kind, const char *name,
        const char *value)
{
    (void)kind;
    args_t *a = cls;
    if (a->err[0])
        return MHD_NO;
    if (!value)
        value = "";
    const struct param *p = NULL;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(params[i].name, name) == 0)
            p = &params[i];
    if (!p) {
        snprintf(a->err, sizeof a->err, "unknown parameter \"%.40s\" (one "
                 "of q, level, section, row, code, limit, offset, group, "
                 "facets, snippet, syntax)", name);
        return MHD_NO;
    }
    json_t *have = json_object_get(a->req, p->key);
    if (have && (p->kind == P_STR || p->kind == P_INT ||
                 p->kind == P_BOOL)) {
        snprintf(a->err, sizeof a->err, "%s: given twice", name);
        return MHD_NO;
    }
    json_t *v = NULL;
    long long n;
    switch (p->kind) {
    case P_STR:
    case P_STRS:
        v = json_string(value); /* NULL for invalid UTF-8 */
        if (!v) {
            snprintf(a->err, sizeof a->err, "%s: not valid UTF-8", name);
            return MHD_NO;
        }
        break;
    case P_INT:
    case P_INTS:
        if ((n = s_number(value)) < 0) {
            snprintf(a->err, sizeof a->err, "%s: \"%.20s\" is not a whole "
                     "number", name, value);
            return MHD_NO;
        }
        v = json_integer(n);
        break;
    case P_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            v = json_true();
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
            v = json_false();
        else {
            snprintf(a->err, sizeof a->err, "%s: \"%.20s\" is not true, "
                     "false, 1 or 0", name, value);
            return MHD_NO;
        }
        break;
    }
    if (p->kind == P_INTS || p->kind == P_STRS) {
        if (!have) {
            have = json_array();
            json_object_set_new(a->req, p->key, have);
        }
        json_array_append_new(have, v);
    } else {
        json_object_set_new(a->req, p->key, v);
    }
    return MHD_YES;
}

/* ---------------------------------------------------------------- */
/* The handler                                                      */
/* ---------------------------------------------------------------- */

/* True when the request carries the token (or none is asked). */
static bool
s_authorised(const http_t *h, struct MHD_Connection *con)
{
    if (!h->token)
        return true;
    const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *given = auth + 7;
    size_t glen = strlen(given), tlen = strlen(h->token);
    /* Compare every byte whatever the first difference, so the time
     * taken says nothing about the token. */
    unsigned char diff = glen != tlen;
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned char)(h->token[i] ^ (i < glen ? given[i] : 0));
    return diff == 0;
}

/* The op a /v1/ path names, or NULL when it names none. */
static const char *
s_op_of(const char *url, char *op, size_t size)
{
    if (strncmp(url, "/v1/", 4) != 0)
        return NULL;
    const char *name = url + 4;
    size_t n = strlen(name);
    if (n == 0 || n >= size || n > OP_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
            return NULL;
    memcpy(op, name, n + 1);
    return op;
}

static enum MHD_Result
s_answer(void *cls, struct MHD_Connection *con, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
    (void)version;
    http_t *h = cls;
    req_t *rq = *con_cls;
    if (rq && rq->calling) {
        /* Resumed: the call ended (s_call_done), or the gateway is
         * stopping with it open (no answer: the connection closes). */
        if (!rq->answer)
            return MHD_NO;
        char *text = rq->answer;
        rq->answer = NULL;
        rq->calling = false;
        return s_send_text(h, con, method, url, rq, rq->status,
                           rq->retry_after, text, rq->answer_len);
    }
    if (!rq) {
        /* Headers only so far.  A declared body past the limit is
         * refused before any of it is read. */
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rq->start);
        *con_cls = rq;
        const char *cl = MHD_lookup_connection_value(
            con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->max_body)
            rq->too_large = true;
        else
            return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!rq->too_large && rq->len + *upload_size <= h->max_body) {
            char *grown = realloc(rq->body, rq->len + *upload_size + 1);
            if (!grown)
                return MHD_NO;
            rq->body = grown;
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
        } else {
            rq->too_large = true; /* read on, keep nothing */
        }
        *upload_size = 0;
        return MHD_YES;
    }

    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
               strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (rq->too_large)
        return s_send_json(h, con, method, url, rq, gw_error("too_large",
            "the request body is over %zu bytes", h->max_body));

    /* The page and the description: no token, nothing of the index. */
    static const struct { const char *url, *file; } pages[] = {
        {"/", "/index.html"},       {"/index.html", "/index.html"},
        {"/app.js", "/app.js"},     {"/style.css", "/style.css"},
        {"/v1/openapi.json", "/openapi.json"},
    };
    const gw_asset_t *asset = NULL;
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (strcmp(url, pages[i].url) == 0)
            asset = gw_asset_find(pages[i].file);
    if (asset || strncmp(url, "/v1/", 4) != 0) {
        if (!asset)
            return s_send_json(h, con, method, url, rq, gw_error(
                "not_found", "no such page (the API is under /v1/)"));
        if (!get)
            return s_send_json(h, con, method, url, rq, gw_error(
                "method_not_allowed", "%s is not allowed here (GET)",
                method));
        return s_send_asset(h, con, method, url, rq, asset);
    }

    if (!s_authorised(h, con))
        return s_send_json(h, con, method, url, rq, gw_error("unauthorized",
            "this gateway needs 'Authorization: Bearer TOKEN'"));
    char opbuf[OP_MAX + 1];
    const char *op = s_op_of(url, opbuf, sizeof opbuf);
    if (!op)
        return s_send_json(h, con, method, url, rq, gw_error("not_found",
            "no such path: /v1/ names an op in lower case (/v1/openapi.json "
            "lists them)"));

    json_t *req = NULL;
    if (post) {
        if (rq->len == 0) {
            req = json_object(); /* ping and stats take no keys */
        } else {
            json_error_t jerr;
            req = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES,
                             &jerr);
            if (!req)
                return s_send_json(h, con, method, url, rq, gw_error(
                    "bad_request", "body: line %d column %d: %s",
                    jerr.line, jerr.column, jerr.text));
        }
    } else if (get && strcmp(op, "search") == 0) {
        args_t a = {.req = json_object()};
        if (!a.req)
            return MHD_NO;
        MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, s_param, &a);
        if (a.err[0]) {
            json_decref(a.req);
            return s_send_json(h, con, method, url, rq,
                               gw_error("bad_request", "%s", a.err));
        }
        req = a.req;
    } else {
        return s_send_json(h, con, method, url, rq, gw_error(
            "method_not_allowed", "%s /v1/%s: ops are POSTed (GET serves "
            "/v1/search only)", method, op));
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    json_t *refused = gw_pack(op, req, &sb);
    json_decref(req);
    sdx_status_t st = refused ? SDX_OK
                              : sdx_async_send(h->async, (uintptr_t)rq,
                                               sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (refused)
        return s_send_json(h, con, method, url, rq, refused);
    if (st != SDX_OK)
        return s_send_json(h, con, method, url, rq, st == SDX_NOMEM
            ? gw_error("internal", "out of memory")
            : gw_error("overloaded", "the gateway has %u requests open "
                       "(--max-connections)", h->max_connections));
    rq->con = con;
    rq->calling = true;
    MHD_suspend_connection(con);
    return MHD_YES;
}

/* A daemon call ended: its reply (or why there is none) as the JSON
 * answer of request TAG, whose connection is resumed to send it. */
static void
s_call_done(void *cls, uint64_t tag, sdx_status_t st,
            sdx_client_reply_t *reply)
{
    http_t *h = cls;
    req_t *rq = (req_t *)(uintptr_t)tag;
    json_t *made = NULL;
    int retry = 0;
    if (st == SDX_OK) {
        char code[32] = "";
        if (!sdx_client_reply_ok(reply))
            sdx_client_reply_error(reply, code, sizeof code, NULL, 0);
        rq->status = (unsigned)gw_http_status(code[0] ? code : NULL,
                                              &retry);
        rq->answer = sdx_json_dumps(sdx_client_reply_root(reply),
                                    &rq->answer_len);
    } else if (st == SDX_UNAVAILABLE && h->stopping) {
        made = gw_error("unavailable", "specdex-http is stopping, and no "
                        "reply came within %d s: ask again", STOP_DRAIN_S);
    } else if (st == SDX_UNAVAILABLE) {
        const gw_daemon_t *d = &h->daemon;
        made = gw_error("timeout", "no reply from specdexd at %s within "
                        "%d x %d ms (is it running?)", d->endpoints[0],
                        d->attempts, d->timeout_ms);
    } else {
        made = gw_error("internal", "talking to specdexd: %s",
                        st == SDX_NOMEM ? "out of memory"
                                        : "its reply is not a msgpack map");
    }
    if (made)
        rq->answer = s_json_text(made, &rq->status, &retry,
                                 &rq->answer_len);
    rq->retry_after = retry;
    sdx_client_reply_destroy(&reply);
    MHD_resume_connection(rq->con);
    h->resumed = true;
}

static void
s_completed(void *cls, struct MHD_Connection *con, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    req_t *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq->answer);
        free(rq);
        *con_cls = NULL;
    }
}

static void
s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    sdx_log(SDX_LOG_WARN, "http: %s", line);
}

/* ---------------------------------------------------------------- */
/* The loop                                                         */
/* ---------------------------------------------------------------- */

/* End the daemon calls still open, each answered `unavailable`
 * (s_call_done) and its connection resumed: MHD may not stop while a
 * connection is suspended (it aborts). */
static void
s_end_open_calls(http_t *h)
{
    h->stopping = true;
    sdx_async_cancel(h->async, s_call_done, h);
}

/* Connections MHD has open. */
static unsigned
s_connections(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

/*
 * Serve until SIGINT or SIGTERM (on SIGFD), then stop taking
 * connections, give the calls in flight STOP_DRAIN_S to end and their
 * answers STOP_LINGER_MS to leave (or until no connection is open).  Waits
 * on MHD's epoll descriptor and the daemon calls together; MHD_run
 * when its descriptor is readable, a connection was resumed (it is
 * taken up there) or its timeout has come, as its external mode
 * wants.  Returns the exit status.
 */
static int
s_serve(http_t *h, struct MHD_Daemon *d, int mhd_fd, int sigfd)
{
    uint64_t drain_until = 0, linger_until = 0; /* 0: not stopping */
    for (;;) {
        MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
        int wait_ms = -1;
        if (MHD_get_timeout(d, &mhd_ms) == MHD_YES)
            wait_ms = mhd_ms > INT_MAX ? INT_MAX : (int)mhd_ms;
        if (drain_until && (wait_ms < 0 || wait_ms > STOP_TICK_MS))
            wait_ms = STOP_TICK_MS;
        int fds[2] = {mhd_fd, sigfd};
        bool ready[2];
        uint64_t t0 = sdx_now_us();
        if (sdx_async_wait(h->async, fds, ready, 2, wait_ms, s_call_done,
                           h) != SDX_OK) {
            sdx_log(SDX_LOG_ERROR, "waiting: %s", strerror(errno));
            return 1;
        }
        uint64_t now = sdx_now_us();
        if (ready[0] || h->resumed || drain_until ||
            (wait_ms >= 0 && now - t0 >= (uint64_t)wait_ms * 1000u)) {
            h->resumed = false;
            unsigned before = s_connections(d);
            MHD_run(d);
            /* At the connection limit MHD takes its listening socket out
             * of its epoll set, and puts it back at the start of a run
             * once a connection has closed: that run must be now, as no
             * wake may come for it (a connection waiting in the kernel's
             * queue makes no event until the socket is back). */
            if (before >= h->max_connections && s_connections(d) < before)
                MHD_run(d);
        }
        if (ready[1] && !drain_until) {
            struct signalfd_siginfo si;
            ssize_t n = read(sigfd, &si, sizeof si);
            sd_notify(0, "STOPPING=1");
            sdx_log(SDX_LOG_INFO, "stopping (signal %d)",
                    n == (ssize_t)sizeof si ? (int)si.ssi_signo : 0);
            int lfd = MHD_quiesce_daemon(d);
            if (lfd >= 0)
                close(lfd);
            drain_until = now + STOP_DRAIN_S * 1000000ull;
        }
        if (!drain_until ||
            (sdx_async_pending(h->async) > 0 && now < drain_until))
            continue;
        s_end_open_calls(h);
        /* every call ended (or the drain is over): a moment for the
         * last answers to leave before the connections are closed */
        if (!linger_until)
            linger_until = now + STOP_LINGER_MS * 1000ull;
        if (s_connections(d) == 0 || now >= linger_until)
            return 0;
    }
}

/* ---------------------------------------------------------------- */
/* Start and stop                                                   */
/* ---------------------------------------------------------------- */

/* A number in LO..HI from the option NAME's ARG, or a message and false. */
static bool
s_uint(const char *name, const char *arg, unsigned long lo,
       unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "specdex-http: %s: '%s' is not a number in "
                "%lu..%lu\n", name, arg, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

/* LISTEN as a socket address; false with a message when it is not one. */
static bool
s_address(const char *listen, struct sockaddr_storage *ss, bool *loopback)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host) {
        fprintf(stderr, "specdex-http: --listen: '%s' is not ADDR:PORT\n",
                listen);
        return false;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "specdex-http: --listen: '%s': %s (a numeric "
                "address and port: 127.0.0.1:8599, [::1]:8599)\n", listen,
                gai_strerror(rc));
        return false;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return true;
}

/* The command line into H; returns -1 to exit 0, 0 to run, 2 on error. */
static int
s_options(int argc, char **argv, http_t *h)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"endpoint", required_argument, NULL, 'e'},
        {"timeout", required_argument, NULL, 't'},
        {"token-file", required_argument, NULL, 'T'},
        {"insecure-bind", no_argument, NULL, 'I'},
        {"threads", required_argument, NULL, 'j'},
        {"max-connections", required_argument, NULL, 'C'},
        {"max-body", required_argument, NULL, 'B'},
        {"max-header", required_argument, NULL, 'H'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"access-log", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    unsigned long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "l:e:t:j:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': h->listen = optarg; break;
        case 'e':
            if (h->daemon.nendpoints >= 8) {
                fprintf(stderr, "specdex-http: --endpoint: at most 8\n");
                return 2;
            }
            h->daemon.endpoints[h->daemon.nendpoints++] = optarg;
            break;
        case 't':
            if (!s_uint("--timeout", optarg, 1, 600000, &v))
                return 2;
            h->daemon.timeout_ms = (int)v;
            break;
        case 'T': h->token_file = optarg; break;
        case 'I': h->insecure_bind = true; break;
        case 'j':
            if (!s_uint("--threads", optarg, 1, 256, &v))
                return 2;
            h->threads = (unsigned)v;
            break;
        case 'C':
            if (!s_uint("--max-connections", optarg, 1, 65536, &v))
                return 2;
            h->max_connections = (unsigned)v;
            break;
        case 'B':
            if (!s_uint("--max-body", optarg, 2, 16777216, &v))
                return 2;
            h->max_body = v;
            break;
        case 'H':
            if (!s_uint("--max-header", optarg, 1024, 1048576, &v))
                return 2;
            h->max_header = v;
            break;
        case 'i':
            if (!s_uint("--idle-timeout", optarg, 1, 3600, &v))
                return 2;
            h->idle_s = (unsigned)v;
            break;
        case 'A': h->access_log = true; break;
        case 'h': s_usage(stdout); return -1;
        case 'V': printf("specdex-http %s\n", SDX_VERSION); return -1;
        default:
            fprintf(stderr, "Try 'specdex-http --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "specdex-http: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }
    if (h->daemon.nendpoints == 0) {
        const char *env = getenv("SPECDEX_ENDPOINT");
        h->daemon.endpoints[h->daemon.nendpoints++] =
            env && *env ? env : SDX_CLIENT_DEFAULT_ENDPOINT;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    http_t h = {
        .daemon = {.timeout_ms = SDX_CLIENT_DEFAULT_TIMEOUT_MS,
                   .attempts = SDX_CLIENT_DEFAULT_ATTEMPTS},
        .listen = DEFAULT_LISTEN,
        .threads = DEFAULT_THREADS,
        .max_connections = DEFAULT_CONNECTIONS,
        .max_body = DEFAULT_BODY,
        .max_header = DEFAULT_HEADER,
        .idle_s = DEFAULT_IDLE_S,
    };
    int rc = s_options(argc, argv, &h);
    if (rc)
        return rc < 0 ? 0 : rc;
    sdx_log_init("specdex-http", SDX_LOG_INFO);

    struct sockaddr_storage ss;
    bool loopback = false;
    if (!s_address(h.listen, &ss, &loopback))
        return 2;
    if (h.token_file) {
        char err[300];
        if (!(h.token = gw_read_token(h.token_file, err, sizeof err))) {
            fprintf(stderr, "specdex-http: --token-file: %s\n", err);
            return 2;
        }
    }
    if (!loopback && !h.token && !h.insecure_bind) {
        fprintf(stderr, "specdex-http: --listen %s is reachable from other "
                "machines: give --token-file (and put TLS in front), or "
                "--insecure-bind\n", h.listen);
        return 2;
    }
    /* Each connection has at most one request open, so at most
     * max_connections calls; --threads of them in flight. */
    sdx_status_t st = sdx_async_new(NULL, h.daemon.endpoints,
                                    h.daemon.nendpoints, h.threads,
                                    h.max_connections, h.daemon.timeout_ms,
                                    h.daemon.attempts, &h.async);
    if (st != SDX_OK) {
        fprintf(stderr, "specdex-http: --endpoint: %s\n",
                st == SDX_BAD_INPUT ? "not an endpoint ZeroMQ takes "
                                      "(ipc://PATH, tcp://HOST:PORT)"
                                    : sdx_status_str(st));
        free(h.token);
        return st == SDX_BAD_INPUT ? 2 : 1;
    }

    /* SIGINT and SIGTERM come as a descriptor the loop waits on. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sigfd = signalfd(-1, &stop, SFD_CLOEXEC);

    /* External epoll: MHD runs in this thread's loop (s_serve).
     * TURBO: no shutdown() before close and no listen-socket locking,
     * which cost a system call per connection and buy nothing here. */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, s_answer, &h,
        /* First, so that MHD's own messages go through it too. */
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, &h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)h.max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h.max_header,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h.idle_s,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, &h,
        MHD_OPTION_END);
    const union MHD_DaemonInfo *epoll_info =
        d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!d || !epoll_info || sigfd < 0) {
        fprintf(stderr, "specdex-http: cannot listen on %s: %s\n", h.listen,
                strerror(errno));
        if (d)
            MHD_stop_daemon(d);
        if (sigfd >= 0)
            close(sigfd);
        sdx_async_destroy(&h.async);
        free(h.token);
        return 1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char shown[160];
    snprintf(shown, sizeof shown, "%.*s:%u",
             (int)(strrchr(h.listen, ':') - h.listen), h.listen,
             info ? info->port : 0);
    sdx_log(SDX_LOG_INFO, "listening on http://%s/ (daemon %s, %u threads)",
            shown, h.daemon.endpoints[0], h.threads);
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s", shown);

    rc = s_serve(&h, d, epoll_info->epoll_fd, sigfd);
    /* Anything still open (s_serve failed) is answered first. */
    s_end_open_calls(&h);
    MHD_run(d);
    sdx_async_destroy(&h.async);
    MHD_stop_daemon(d);
    close(sigfd);
    free(h.token);
    return rc;
}
