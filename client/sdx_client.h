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
 * Requests and replies are msgpack maps (docs/PROTOCOL.md).  A reply comes
 * back unpacked, as an sdx_reply_t that owns its memory.
 */
#ifndef SDX_CLIENT_H
#define SDX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

#include "sdx_status.h"

typedef struct sdx_client sdx_client_t; /* a connection to specdexd */
typedef struct sdx_reply sdx_reply_t;   /* one unpacked reply */

/* Defaults a client starts with. */
#define SDX_CLIENT_DEFAULT_ENDPOINT "tcp://127.0.0.1:5599"
#define SDX_CLIENT_DEFAULT_TIMEOUT_MS 1000 /* per attempt, milliseconds */
#define SDX_CLIENT_DEFAULT_ATTEMPTS 2      /* tries in all, >= 1 */

/*
 * A client for ENDPOINTS (NENDPOINTS >= 1 ZeroMQ endpoints, tried in turn;
 * copied).  Nothing is connected until the first request.  TIMEOUT_MS is
 * how long one attempt waits for its reply; ATTEMPTS how many attempts a
 * request gets in all.  On success *out is the client (caller owns;
 * sdx_client_destroy).  Returns SDX_OK, SDX_BAD_INPUT (no endpoint, bad
 * timeout or attempts), SDX_NOMEM, SDX_IO (ZeroMQ context failed).
 */
sdx_status_t sdx_client_new(const char *const *endpoints, size_t nendpoints,
                            int timeout_ms, int attempts,
                            sdx_client_t **out);

/*
 * Send the request REQ (LEN bytes of one msgpack map) and wait for its
 * reply.  On success *out is the reply (caller owns; sdx_reply_destroy),
 * whether it says ok or carries an error.  Returns SDX_OK, SDX_UNAVAILABLE
 * (no reply from any endpoint within the attempts), SDX_BAD_INPUT (the
 * reply is not a msgpack map), SDX_IO (a ZeroMQ call failed), SDX_NOMEM.
 * The message of a failure is in sdx_client_errmsg().
 */
sdx_status_t sdx_client_call(sdx_client_t *client, const void *req,
                             size_t len, sdx_reply_t **out);

/* Last error message of CLIENT, or "".  Owned by CLIENT. */
const char *sdx_client_errmsg(const sdx_client_t *client);

/* Close the socket and free CLIENT.  NULL-safe; sets *client_p to NULL. */
void sdx_client_destroy(sdx_client_t **client_p);

/* The reply's root map.  Owned by REPLY. */
const msgpack_object *sdx_reply_root(const sdx_reply_t *reply);

/* True when the reply says ok: true. */
bool sdx_reply_ok(const sdx_reply_t *reply);

/*
 * The error code ("bad_query") and message of an error reply, written
 * into the buffers (always terminated; "" when absent).
 */
void sdx_reply_error(const sdx_reply_t *reply, char *code, size_t code_size,
                     char *message, size_t message_size);

/*
 * The value of KEY in MAP (a msgpack map), or NULL when MAP is not a map
 * or has no such key.
 */
const msgpack_object *sdx_msgpack_get(const msgpack_object *map,
                                      const char *key);

/* Free REPLY.  NULL-safe; sets *reply_p to NULL. */
void sdx_reply_destroy(sdx_reply_t **reply_p);

#endif /* SDX_CLIENT_H */
