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
 * header memory and idle time, and a thread pool); jansson reads and
 * writes JSON.  Each of the pool's threads answers a request inline,
 * borrowing an already connected client from gw_pool (a connection per
 * request would cost more than the search).
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
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "gw.h"
#include "gw_assets.h"
#include "sdx_log.h"

#define DEFAULT_LISTEN "127.0.0.1:8599"
#define DEFAULT_THREADS 16        /* requests answered at once */
#define DEFAULT_CONNECTIONS 256   /* open connections at once */
#define DEFAULT_BODY 65536        /* request body, bytes (the daemon's
                                     frame limit is the same) */
#define DEFAULT_HEADER 16384      /* header memory per connection, bytes */
#define DEFAULT_IDLE_S 10         /* a silent connection is closed after */
#define OP_MAX 32                 /* bytes of an op name in a path */

/* The command line, and what the handler needs. */
typedef struct http {
    gw_daemon_t daemon;        /* how to reach specdexd */
    gw_pool_t pool;            /* its connected clients */
    const char *listen;        /* ADDR:PORT */
    const char *token_file;    /* NULL: no token asked */
    char *token;               /* the token, or NULL */
    bool insecure_bind;        /* non-loopback without a token */
    bool access_log;           /* a line per request */
    unsigned threads;          /* MHD's thread pool */
    unsigned max_connections;  /* MHD_OPTION_CONNECTION_LIMIT */
    size_t max_body;           /* bytes of a request body */
    size_t max_header;         /* MHD_OPTION_CONNECTION_MEMORY_LIMIT */
    unsigned idle_s;           /* MHD_OPTION_CONNECTION_TIMEOUT, seconds */
} http_t;

/* One request in progress (MHD's per-request pointer). */
typedef struct req {
    char *body;                /* what has come of the body */
    size_t len;                /* bytes of BODY */
    bool too_large;            /* the body went past max_body */
    struct timespec start;     /* for the access log */
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
"  -j, --threads N      requests answered at once (default %d)\n"
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

/* Answer REPLY (a JSON reply; consumed) with the status its code maps to. */
static enum MHD_Result
s_send_json(const http_t *h, struct MHD_Connection *con, const char *method,
            const char *url, const req_t *rq, json_t *reply)
{
    int retry = 0;
    unsigned status = reply ? (unsigned)gw_http_status(
                                  gw_error_code(reply), &retry)
                            : 500;
    char *text = reply ? json_dumps(reply, JSON_COMPACT
                                            | JSON_REAL_PRECISION(17))
                       : NULL;
    json_decref(reply);
    if (!text)
        return MHD_NO; /* out of memory: MHD closes the connection */
    size_t len = strlen(text);
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
    json_t *reply = gw_call(&h->pool, op, req);
    json_decref(req);
    return s_send_json(h, con, method, url, rq, reply);
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
    if (gw_pool_init(&h.pool, &h.daemon, h.threads) != 0) {
        fprintf(stderr, "specdex-http: out of memory\n");
        free(h.token);
        return 1;
    }

    /* The pool's threads inherit this mask, so only sigwait below sees
     * SIGINT and SIGTERM. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* TURBO: no shutdown() before close and no listen-socket locking,
     * which cost a system call per connection and buy nothing here. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, s_answer, &h,
        /* First, so that MHD's own messages go through it too. */
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, &h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* One thread is MHD's internal thread, not a pool of one. */
        MHD_OPTION_THREAD_POOL_SIZE, h.threads > 1 ? h.threads : 0u,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)h.max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h.max_header,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h.idle_s,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, &h,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "specdex-http: cannot listen on %s: %s\n", h.listen,
                strerror(errno));
        gw_pool_destroy(&h.pool);
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

    int sig = 0;
    sigwait(&stop, &sig);
    sd_notify(0, "STOPPING=1");
    sdx_log(SDX_LOG_INFO, "stopping (signal %d)", sig);
    MHD_stop_daemon(d);
    gw_pool_destroy(&h.pool);
    free(h.token);
    return 0;
}
