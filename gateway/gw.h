/*
 * gw: what the two gateways (specdex-http, specdex-mcp) share.  Each is a
 * thin client of specdexd through libspecdex-client: a request arrives as
 * JSON, goes to the daemon as msgpack (sdx_json_to_msgpack), and the
 * daemon's reply comes back as JSON (sdx_json_from_msgpack), with no code
 * per op; the daemon stays the one place that searches and validates.
 *
 * Besides the daemon's error codes (docs/PROTOCOL.md) the gateways make
 * three of their own, in the same reply shape: `timeout` (no reply from
 * the daemon within the attempts), `not_found` (a path that is not an op
 * or a file) and `unauthorized` (no or wrong bearer token).
 */
#ifndef SDX_GW_H
#define SDX_GW_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sdx_client.h"

/* How the gateways reach the daemon. */
typedef struct gw_daemon {
    const char *endpoints[8];  /* tried in turn (failover) */
    size_t nendpoints;         /* >= 1 */
    int timeout_ms;            /* one attempt's wait, milliseconds */
    int attempts;              /* attempts per request, >= 1 */
} gw_daemon_t;

/*
 * Connected clients kept for reuse: a request borrows one and gives it
 * back, so a ZeroMQ socket is not set up per request (the connect and
 * handshake cost more than a small corpus's search).  At most MAX are
 * kept; more borrowers each get a fresh client.
 */
typedef struct gw_pool {
    const gw_daemon_t *daemon; /* borrowed */
    void *ctx;                 /* the ZeroMQ context all its clients share */
    pthread_mutex_t lock;      /* guards free_ and nfree */
    sdx_client_t **free_;      /* idle clients, a stack */
    size_t nfree;              /* entries of FREE_ in use */
    size_t max;                /* capacity of FREE_ */
} gw_pool_t;

/* A pool of at most MAX idle clients of DAEMON.  Returns 0, or -1 (out
 * of memory, or no ZeroMQ context). */
int gw_pool_init(gw_pool_t *pool, const gw_daemon_t *daemon, size_t max);

/* Close every idle client and the context.  Nothing may be borrowed
 * any more. */
void gw_pool_destroy(gw_pool_t *pool);

/*
 * Send REQ (a JSON object: the request without `v`, which is added when
 * absent) as op OP and return the reply as JSON (caller owns): the
 * daemon's reply, or one made here in the same shape (`{"v": 1, "ok":
 * false, "error": {"code", "message"}}`) when the request could not be
 * sent or answered: `bad_request` (REQ not an object, or its `op`
 * differs from OP), `timeout`, `internal` (out of memory).  NULL only
 * when out of memory for even that.  A client is borrowed from POOL.
 */
json_t *gw_call(gw_pool_t *pool, const char *op, const json_t *req);

/*
 * REQ (as gw_call takes it) as the request of op OP: one msgpack map in
 * SB, op and v (unless given) packed first, then REQ's own keys, so REQ
 * is not copied.  NULL when packed, or an error reply (caller owns):
 * `bad_request` (not an object, another op), `internal` (no memory).
 */
json_t *gw_pack(const char *op, const json_t *req, msgpack_sbuffer *sb);

/* An error reply in the daemon's shape (caller owns); NULL: no memory. */
json_t *gw_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The error code of REPLY, or NULL when it says ok. */
const char *gw_error_code(const json_t *reply);

/* The HTTP status for an error CODE (200 for NULL), and in *RETRY_AFTER
 * the seconds a client should wait before trying again (0: none). */
int gw_http_status(const char *code, int *retry_after);

/*
 * Read a bearer-token file: its first line, without the newline; it must
 * be 16..4096 bytes of printable ASCII.  Returns the token (caller
 * frees) or NULL with a message in ERR.
 */
char *gw_read_token(const char *path, char *err, size_t errsize);

#endif /* SDX_GW_H */
