/*
 * zap: the daemon's ZeroMQ authentication handler (ZAP, RFC 27) for
 * CURVE.  A thread answers libzmq's authentication requests: a client
 * is admitted when its public key has a NAME.key file in the allow
 * directory (read afresh for each handshake, so adding or removing a file
 * takes effect at the client's next connection, without a restart).
 * Every refusal is logged with the key's first characters, never more.
 */
#ifndef SDX_ZAP_H
#define SDX_ZAP_H

#include <stddef.h>

#include <zmq.h>

#include "sdx_status.h"

typedef struct sdx_zap sdx_zap_t; /* the handler thread and its socket */

/* The ZAP domain the daemon's CURVE socket asks to be checked in. */
#define SDX_ZAP_DOMAIN "specdex"

/*
 * Start the handler on CTX (the daemon's one ZeroMQ context) for the keys
 * in ALLOW_DIR.  Must run before any CURVE socket binds.  On success *out
 * is the handler (caller owns; sdx_zap_stop).  Returns SDX_IO (ERR says
 * why: the directory cannot be read, the ZAP endpoint is taken).
 */
sdx_status_t sdx_zap_start(void *ctx, const char *allow_dir,
                           sdx_zap_t **out, char *err, size_t err_size);

/* Handshake failures before ZAP is asked (libzmq 4.3 monitor events). */
#define SDX_ZAP_EVENTS (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |           \
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |            \
                        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/*
 * Count and log (rate-limited) a handshake the frontend refused before
 * ZAP was asked: a plaintext client, a client that trusts another server
 * key.  EVENT is the monitor's (one of SDX_ZAP_EVENTS), ADDRESS the
 * endpoint.  The broker reads the frontend's one socket monitor and
 * calls this, always from its own thread.
 */
void sdx_zap_handshake_failed(sdx_zap_t *zap, unsigned event,
                              const char *address);

/* Admitted and refused handshakes so far. */
void sdx_zap_counts(const sdx_zap_t *zap, unsigned long *admitted,
                    unsigned long *refused);

/* Stop the thread, close its socket, free ZAP.  NULL-safe. */
void sdx_zap_stop(sdx_zap_t **zap_p);

#endif /* SDX_ZAP_H */
