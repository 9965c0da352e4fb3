/*
 * sdx_client: the request loop every specdex client uses.
 *
 * One request out, one reply back, over ZeroMQ REQ with the reliability
 * of the ZeroMQ guide's Lazy Pirate pattern: wait at most a timeout for
 * the reply; on silence close the socket (a REQ socket that lost its reply
 * is stuck), open a fresh one on the next endpoint and send again, up to a
 * bounded number of attempts; then report the daemon unavailable.  Every
 * specdex request is idempotent, so resending is safe.
 *
 * Several endpoints are replicas of one service: requests go round them
 * in turn, and one that fails (silence, or an `unavailable` or
 * `overloaded` reply) is skipped for a back-off, SDX_CLIENT_DEFAULT_
 * BACKOFF_MIN_MS doubling with each failure in a row up to
 * SDX_CLIENT_DEFAULT_BACKOFF_MAX_MS (sdx_client_set_backoff), then tried
 * again; one reply puts it back in service (docs/PROTOCOL.md,
 * "Replicas").
 *
 * Requests and replies are msgpack maps (docs/PROTOCOL.md).  A reply comes
 * back unpacked, as an sdx_client_reply_t that owns its memory.
 *
 * This header needs <msgpack.h>, and says why: the raw reply
 * (sdx_client_reply_root) is a msgpack object, so that a caller reads
 * the keys the typed results below do not decode (search's facets, keys
 * a newer daemon adds) and prints the reply as it came (sdx_json.h), and
 * the clause record (sdx_clause.h) packs to and unpacks from msgpack.
 * What the index is made of (term prefixes, value slots) is not here:
 * lib/sdx_index.h is the daemon's and the indexer's, not installed.
 */
#ifndef SDX_CLIENT_H
#define SDX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "sdx_clause.h"
#include "sdx_msgpack.h"
#include "sdx_status.h"

typedef struct sdx_client sdx_client_t; /* a connection to specdexd */
typedef struct sdx_client_reply sdx_client_reply_t; /* one unpacked reply */

/* Defaults a client starts with. */
#define SDX_CLIENT_DEFAULT_ENDPOINT "tcp://127.0.0.1:5599"
#define SDX_CLIENT_DEFAULT_TIMEOUT_MS 1000 /* per attempt, milliseconds */
#define SDX_CLIENT_DEFAULT_ATTEMPTS 2      /* tries in all, >= 1 */
#define SDX_CLIENT_DEFAULT_BACKOFF_MIN_MS 1000  /* a failed replica is */
#define SDX_CLIENT_DEFAULT_BACKOFF_MAX_MS 16000 /*   skipped 1 s, 2 s, ...
                                                   16 s */

/*
 * A client for ENDPOINTS (NENDPOINTS >= 1 ZeroMQ endpoints, replicas that
 * requests go round in turn, starting at one that differs by process;
 * copied).  Nothing is connected until the first request.  TIMEOUT_MS is
 * how long one attempt may take, from sending the request (which waits
 * for a connection to take it) to its reply; ATTEMPTS how many attempts
 * a request gets in all.  On success *out is the client (caller owns;
 * sdx_client_destroy).  Returns SDX_OK, SDX_BAD_INPUT (no endpoint, bad
 * timeout or attempts), SDX_NOMEM, SDX_IO (ZeroMQ context failed).
 */
sdx_status_t sdx_client_new(const char *const *endpoints, size_t nendpoints,
                            int timeout_ms, int attempts,
                            sdx_client_t **out);

/*
 * As sdx_client_new, but the client's sockets live in ZMQ_CTX, a ZeroMQ
 * context the caller made (zmq_ctx_new) and keeps until every client in
 * it is destroyed; NULL gives the client a context of its own, as
 * sdx_client_new does.  Many clients in one context share its I/O
 * thread, which then carries their messages in bursts instead of one
 * thread wake-up per message per client: what a gateway with a client
 * per thread wants (gateway/gw.c).  Each client is still used by one
 * thread at a time.  Returns as sdx_client_new.
 */
sdx_status_t sdx_client_new_in(void *zmq_ctx, const char *const *endpoints,
                               size_t nendpoints, int timeout_ms,
                               int attempts, sdx_client_t **out);

/*
 * Send the request REQ (LEN bytes of one msgpack map) and wait for its
 * reply.  On success *out is the reply (caller owns;
 * sdx_client_reply_destroy), whether it says ok or carries an error.
 * An attempt that gets no reply, or an `unavailable` or `overloaded`
 * error reply while other replicas are listed, goes again to the next
 * replica in service; the last such error reply is the answer when no
 * attempt does better.
 * Returns SDX_OK, SDX_UNAVAILABLE (no reply from any endpoint within the
 * attempts), SDX_BAD_INPUT (the reply is not a msgpack map), SDX_IO (a
 * ZeroMQ call failed), SDX_NOMEM.
 * The message of a failure is in sdx_client_errmsg().
 */
sdx_status_t sdx_client_call(sdx_client_t *client, const void *req,
                             size_t len, sdx_client_reply_t **out);

/*
 * Encrypt and authenticate with CURVE: SERVER_KEY is the daemon's public
 * key, CLIENT_PUBLIC/CLIENT_SECRET this client's keypair (Z85 text, as in
 * sdx_curve.h's files).  Takes effect on the next connection.  A daemon
 * that does not admit the key never answers: the call then ends
 * SDX_UNAVAILABLE.  Returns SDX_BAD_INPUT for a key that is not 40 Z85
 * characters.
 */
sdx_status_t sdx_client_set_curve(sdx_client_t *client,
                                  const char *server_key,
                                  const char *client_public,
                                  const char *client_secret);

/*
 * How long a failed replica is skipped: MIN_MS after its first failure,
 * doubled with each failure in a row, at most MAX_MS.  Returns
 * SDX_BAD_INPUT unless 0 < MIN_MS <= MAX_MS.
 */
sdx_status_t sdx_client_set_backoff(sdx_client_t *client, int min_ms,
                                    int max_ms);

/*
 * The endpoint that sent the last reply (as given to sdx_client_new), or
 * NULL before any.  Owned by CLIENT.
 */
const char *sdx_client_last_endpoint(const sdx_client_t *client);

/* Replies from the I-th endpoint so far (0 for I out of range). */
uint64_t sdx_client_replica_answered(const sdx_client_t *client, size_t i);

/* Last error message of CLIENT, or "".  Owned by CLIENT. */
const char *sdx_client_errmsg(const sdx_client_t *client);

/* Close the socket and free CLIENT.  NULL-safe; sets *client_p to NULL. */
void sdx_client_destroy(sdx_client_t **client_p);

/* The reply's root map.  Owned by REPLY. */
const msgpack_object *sdx_client_reply_root(const sdx_client_reply_t *reply);

/* True when the reply says ok: true. */
bool sdx_client_reply_ok(const sdx_client_reply_t *reply);

/*
 * The error code ("bad_query") and message of an error reply, written
 * into the buffers (always terminated; "" when absent).
 */
void sdx_client_reply_error(const sdx_client_reply_t *reply, char *code,
                            size_t code_size, char *message,
                            size_t message_size);

/* Free REPLY.  NULL-safe; sets *reply_p to NULL. */
void sdx_client_reply_destroy(sdx_client_reply_t **reply_p);


/* ---------------------------------------------------------------- */
/* Many calls in flight from one thread (sdx_async)                 */
/* ---------------------------------------------------------------- */

/*
 * For an event loop that serves many callers at once (specdex-http):
 * calls are sent without waiting, and the loop waits on the calls'
 * sockets and its own descriptors together; each call ends in a
 * callback.  Not thread-safe: one thread uses an sdx_async_t.
 */
typedef struct sdx_async sdx_async_t;

/* Requests one connection may have in flight: the daemon answers a
 * fifth `overloaded` (docs/PROTOCOL.md). */
#define SDX_CLIENT_CONN_IN_FLIGHT 4

/*
 * How call TAG ended: ST is SDX_OK with REPLY (the callee owns it;
 * sdx_client_reply_destroy), whether it says ok or carries an error;
 * SDX_UNAVAILABLE (no reply within the attempts; REPLY NULL);
 * SDX_BAD_INPUT (the reply is not a msgpack map) or SDX_NOMEM.
 */
typedef void sdx_async_done_t(void *cls, uint64_t tag, sdx_status_t st,
                              sdx_client_reply_t *reply);

/*
 * Calls to ENDPOINTS (replicas: each call goes to one that is connected,
 * round them), at most MAX_INFLIGHT in flight at once (connections of
 * SDX_CLIENT_CONN_IN_FLIGHT each are made for them) and MAX_CALLS in
 * all, the rest waiting here in order.  An attempt waits TIMEOUT_MS for
 * its reply; a call gets ATTEMPTS.  ZMQ_CTX as in sdx_client_new_in.
 * Returns SDX_OK, SDX_BAD_INPUT (no endpoint, a bad number, an endpoint
 * ZeroMQ does not take), SDX_NOMEM, SDX_IO.
 */
sdx_status_t sdx_async_new(void *zmq_ctx, const char *const *endpoints,
                           size_t nendpoints, size_t max_inflight,
                           size_t max_calls, int timeout_ms, int attempts,
                           sdx_async_t **out);

/*
 * Start call TAG: the request REQ (LEN bytes of one msgpack map;
 * copied).  It goes out in sdx_async_wait.  Returns SDX_OK,
 * SDX_UNAVAILABLE (MAX_CALLS calls are already open), SDX_NOMEM.
 */
sdx_status_t sdx_async_send(sdx_async_t *async, uint64_t tag,
                            const void *req, size_t len);

/*
 * Send what can go, wait up to TIMEOUT_MS (-1: until something happens)
 * for replies or for one of FDS (NFDS descriptors) to be readable, then
 * call DONE(CLS, ...) for each call that ended: answered, or out of
 * attempts.  READY[i] tells whether FDS[i] is readable.  Returns SDX_OK
 * (also when a signal cut the wait short), SDX_NOMEM, SDX_IO.
 */
sdx_status_t sdx_async_wait(sdx_async_t *async, const int *fds, bool *ready,
                            size_t nfds, int timeout_ms,
                            sdx_async_done_t *done, void *cls);

/* Calls sent and not yet ended. */
size_t sdx_async_pending(const sdx_async_t *async);

/* End every open call now, each with DONE(CLS, tag, SDX_UNAVAILABLE,
 * NULL): a caller that stops answers what it holds. */
void sdx_async_cancel(sdx_async_t *async, sdx_async_done_t *done,
                      void *cls);

/* Close the sockets and free ASYNC; open calls end with no callback.
 * NULL-safe; sets *async_p to NULL. */
void sdx_async_destroy(sdx_async_t **async_p);


/* ---------------------------------------------------------------- */
/* Typed operations                                                 */
/* ---------------------------------------------------------------- */

/*
 * The typed calls below build the request for one operation of the
 * contract, send it through sdx_client_call(), and hand back an
 * sdx_result_t: the reply decoded into C types, plus the raw reply for
 * callers that print it as JSON.  One call, sdx_result_destroy(), frees
 * all of it.
 *
 * Each returns SDX_OK; SDX_REMOTE when the daemon answered with an error
 * reply (its code and message in sdx_client_error_code() and
 * sdx_client_errmsg(), the reply in *out); SDX_UNAVAILABLE when no daemon
 * answered; SDX_BAD_INPUT for a malformed reply or bad arguments;
 * SDX_IO, SDX_NOMEM.  *out is NULL unless SDX_OK or SDX_REMOTE.
 */

#define SDX_MAX_LEVEL 9 /* levels 1..9 fit the fixed arrays below */

/* What to ask for; zero/NULL members are left out of the request. */
typedef struct sdx_query {
    const char *q;                 /* query string (search, ladder, ...) */
    unsigned offset;               /* search: first hit, 0-based */
    unsigned limit;                /* search: hits; 0 = daemon default */
    const int *levels;             /* filter: levels */
    size_t nlevels;                /* number of LEVELS */
    const char *const *sections;   /* filter: section kinds */
    size_t nsections;              /* number of SECTIONS */
    const char *const *rows;       /* filter: row labels */
    size_t nrows;                  /* number of ROWS */
    const char *const *codes;      /* filter: job codes */
    size_t ncodes;                 /* number of CODES */
    const char *series;            /* filter (search, ladder, fit): one
                                      series, its title or a job code;
                                      gaps: the series (required) */
    const char *hl_open;           /* search: snippet markers, both or */
    const char *hl_close;          /*   neither; NULL = daemon default */
    bool no_snippet;               /* search: ask for no snippets */
    bool group;                    /* search: merge identical rows */
    bool facets;                   /* search: ask for facet counts */
    unsigned k;                    /* context: passages; 0 = default */
    unsigned max_chars;            /* context: budget; 0 = default */
    const char *syntax;            /* search, context: how q reads,
                                      "plain" or "query"; NULL = the
                                      op's own (search: query, context:
                                      plain) */
    bool has_min_score;            /* context: send MIN_SCORE (0 is a
                                      value: no cut-off) */
    double min_score;              /* context: passages under this share
                                      (0..1) of the best passage's score
                                      are left out */
    const char *text;              /* fit, gaps: the description or
                                      draft (at most 8 KiB) */
    unsigned level;                /* gaps: the intended level, 1..5 */
    const char *const *exclude;    /* fit: clause ids left out */
    size_t nexclude;               /* number of EXCLUDE */
} sdx_query_t;

/* One search hit: the clause and how it ranked. */
typedef struct sdx_result_hit {
    sdx_clause_t *clause;          /* the clause record */
    unsigned rank;                 /* 1-based */
    double score;                  /* BM25 weight */
    int percent;                   /* Xapian's percentage */
    char *snippet;                 /* "" when none */
    int levels[SDX_MAX_LEVEL];     /* grouped hits: the levels merged */
    size_t nlevels;                /* 0 unless grouped */
} sdx_result_hit_t;

/* One cell of a row across levels (row, ladder's row_cells). */
typedef struct sdx_result_cell {
    int level;                     /* 1..9 */
    char *id;                      /* "" when the level has no cell */
    char *title;                   /* the level's title */
    char *text;                    /* NULL when the level has no cell */
    char *series;                  /* the series title, "" from a daemon
                                      that does not send it */
} sdx_result_cell_t;

/* One context passage for a chatbot. */
typedef struct sdx_result_passage {
    char *id;                      /* first clause id */
    char *cite;                    /* citation a person can check */
    int levels[SDX_MAX_LEVEL];     /* levels it stands for */
    size_t nlevels;                /* number of LEVELS */
    char *text;                    /* the passage */
    double score;                  /* BM25 weight */
} sdx_result_passage_t;

/*
 * What a question in plain words named (context, search with syntax
 * "plain"): what the answer was restricted to or drawn from.
 */
typedef struct sdx_result_understood {
    int levels[SDX_MAX_LEVEL];     /* levels named, ascending */
    size_t nlevels;                /* number of LEVELS */
    char **sections;               /* section kinds ("ksa") */
    size_t nsections;              /* number of SECTIONS */
    char **series;                 /* series names, as the records */
    size_t nseries;                /* number of SERIES */
    char **rows;                   /* row labels ("KSA 02") */
    size_t nrows;                  /* number of ROWS */
} sdx_result_understood_t;

/* One series of the index (series). */
typedef struct sdx_result_series {
    char *series;                  /* its title, as the records write it */
    int levels[SDX_MAX_LEVEL];     /* its levels, ascending */
    size_t nlevels;                /* number of LEVELS */
    char **codes;                  /* the job code of each level */
    size_t ncodes;                 /* number of CODES */
    uint64_t clauses;              /* clauses it holds */
} sdx_result_series_t;

/* Daemon statistics (stats). */
typedef struct sdx_result_stats {
    uint64_t docs;                 /* documents served */
    char *index_path;              /* path of the served index */
    uint64_t revision;             /* index revision */
    char *built_at;                /* ISO 8601 build time */
    uint64_t uptime_s;             /* seconds since start */
    uint64_t requests;             /* requests answered */
    uint64_t errors;               /* error replies */
    uint64_t workers;              /* worker threads */
    uint64_t p50_us, p90_us, p99_us, max_us; /* latency, microseconds */
} sdx_result_stats_t;

/* A place of a quoted span in a clause, or the closest clause (verify). */
typedef struct sdx_result_place {
    char *id;                      /* the clause */
    unsigned start;                /* first character of its text that
                                      the span covers, 0-based (code
                                      points) */
    unsigned end;                  /* one past the last */
    unsigned distance;             /* word edits (0 for a verbatim place) */
} sdx_result_place_t;

/* One level of a fit, best first. */
typedef struct sdx_result_fit_level {
    int level;                     /* 1..5 */
    char *title;                   /* that level's title */
    double score;                  /* its votes (see docs/PROTOCOL.md) */
    double share;                  /* SCORE over the first level's */
} sdx_result_fit_level_t;

/* A decoded reply; only the members of the operation asked are set. */
typedef struct sdx_result {
    sdx_client_reply_t *reply;     /* the raw reply (for JSON output) */
    uint64_t took_us;              /* server time, microseconds */
    /* search */
    uint64_t total;                /* estimated matches */
    bool partial;                  /* cost bounds cut the search short */
    char *corrected;               /* spelling correction, or NULL */
    sdx_result_hit_t *hits;        /* HITS[0..nhits) */
    size_t nhits;                  /* number of HITS */
    /* ladder: LADDER[l] is the best clause at level l, or NULL */
    sdx_clause_t *ladder[SDX_MAX_LEVEL + 1];
    char *row;                     /* ladder: row of the best hit; row:
                                      the label as the corpus writes it
                                      (NULL when nothing matched) */
    /* ladder (row_cells), row (cells) */
    sdx_result_cell_t *cells;      /* CELLS[0..ncells) */
    size_t ncells;                 /* number of CELLS */
    /* get: CLAUSES[i] for the i-th id, NULL when unknown */
    sdx_clause_t **clauses;
    size_t nclauses;               /* number of CLAUSES */
    /* context */
    sdx_result_passage_t *passages; /* PASSAGES[0..npassages) */
    size_t npassages;              /* number of PASSAGES */
    uint64_t chars;                /* sum of passage text lengths */
    /* plain words (context; search with syntax "plain") */
    bool has_understood;           /* the reply had `understood` */
    sdx_result_understood_t understood; /* zero unless HAS_UNDERSTOOD */
    char *note;                    /* why nothing came back, or NULL */
    /* suggest */
    char *suggestion;              /* corrected query, or NULL */
    /* stats */
    sdx_result_stats_t stats;      /* zero unless stats */
    /* fit */
    char *fit_series;              /* the series ranked first, or NULL */
    sdx_result_fit_level_t *fit_levels; /* its levels, best first */
    size_t nfit_levels;            /* number of FIT_LEVELS */
    /* verify */
    bool verbatim;                 /* the span is verbatim somewhere */
    bool cited_verbatim;           /* ... in the clause cited */
    sdx_result_place_t *places;    /* where: PLACES[0..nplaces) */
    size_t nplaces;                /* number of PLACES */
    bool has_closest;              /* not verbatim, and CLOSEST is set */
    sdx_result_place_t closest;    /* the closest clause and how far */
    /* series */
    sdx_result_series_t *series;   /* SERIES[0..nseries), by slug */
    size_t nseries;                /* number of SERIES */
    bool series_more;              /* the daemon cut the list short */
} sdx_result_t;

/* ping: SDX_OK when the daemon answers. */
sdx_status_t sdx_client_ping(sdx_client_t *client, sdx_result_t **out);

/*
 * search: Q->q and the search members of Q (Q->syntax among them).
 * With syntax "plain", CORRECTED is the question put right.
 */
sdx_status_t sdx_client_search(sdx_client_t *client, const sdx_query_t *q,
                               sdx_result_t **out);

/* ladder: Q->q, optional Q->sections, Q->rows and Q->series. */
sdx_status_t sdx_client_ladder(sdx_client_t *client, const sdx_query_t *q,
                               sdx_result_t **out);

/* row: ROW (a label, case-insensitive), SERIES (NULL for any). */
sdx_status_t sdx_client_row(sdx_client_t *client, const char *row,
                            const char *series, sdx_result_t **out);

/* get: NIDS (1..100) clause ids. */
sdx_status_t sdx_client_get(sdx_client_t *client, const char *const *ids,
                            size_t nids, sdx_result_t **out);

/*
 * context: Q->q, Q->k, Q->max_chars, Q->levels, Q->sections, Q->syntax,
 * Q->min_score (when Q->has_min_score).  Besides PASSAGES, the result
 * has UNDERSTOOD (plain words) and, when no passage came back, NOTE and
 * CORRECTED when the daemon sent them.
 */
sdx_status_t sdx_client_context(sdx_client_t *client, const sdx_query_t *q,
                                sdx_result_t **out);

/* suggest: Q (a query string). */
sdx_status_t sdx_client_suggest(sdx_client_t *client, const char *q,
                                sdx_result_t **out);

/* stats. */
sdx_status_t sdx_client_stats(sdx_client_t *client, sdx_result_t **out);

/* series: every series of the index, its levels, codes and clauses. */
sdx_status_t sdx_client_series(sdx_client_t *client, sdx_result_t **out);

/*
 * The grid ops (docs/PROTOCOL.md).  fit and verify decode what a
 * program acts on (fit: SERIES and FIT_LEVELS; verify: VERBATIM,
 * CITED_VERBATIM, PLACES, CLOSEST); the rest of their replies, and the
 * replies of diff, first and gaps, are nested lists a caller walks in
 * the raw reply (sdx_client_reply_root(result->reply), with
 * sdx_msgpack_get), which every result holds.
 */

/* fit: Q->text, optional Q->series and Q->exclude. */
sdx_status_t sdx_client_fit(sdx_client_t *client, const sdx_query_t *q,
                            sdx_result_t **out);

/* diff: ROW (a label), SERIES (NULL for any). */
sdx_status_t sdx_client_diff(sdx_client_t *client, const char *row,
                             const char *series, sdx_result_t **out);

/* first: Q->q, optional Q->sections and Q->rows. */
sdx_status_t sdx_client_first(sdx_client_t *client, const sdx_query_t *q,
                              sdx_result_t **out);

/* verify: TEXT (the quoted span), CLAUSE (the id cited, NULL for none). */
sdx_status_t sdx_client_verify(sdx_client_t *client, const char *text,
                               const char *clause, sdx_result_t **out);

/* gaps: Q->text, Q->level and Q->series, all required. */
sdx_status_t sdx_client_gaps(sdx_client_t *client, const sdx_query_t *q,
                             sdx_result_t **out);

/*
 * The error code of the last SDX_REMOTE reply ("bad_query"), or "".
 * Owned by CLIENT.
 */
const char *sdx_client_error_code(const sdx_client_t *client);

/* Free RESULT and everything in it.  NULL-safe; sets *result_p to NULL. */
void sdx_result_destroy(sdx_result_t **result_p);

#endif /* SDX_CLIENT_H */
