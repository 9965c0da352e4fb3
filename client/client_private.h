/*
 * client_private: what the typed operations (sdx_client_ops.c) need of
 * the request loop (sdx_client.c) and nobody else does.
 */
#ifndef SDX_CLIENT_PRIVATE_H
#define SDX_CLIENT_PRIVATE_H

#include "sdx_client.h"

/* Record REPLY's error code and message as CLIENT's last error. */
void sdx_client_note_error_reply(sdx_client_t *client,
                                 const sdx_client_reply_t *reply);

/* True when ENDPOINTS holds NENDPOINTS (>= 1) non-empty strings. */
bool sdx_client_endpoints_valid(const char *const *endpoints,
                                size_t nendpoints);

/* Largest reply accepted, bytes; a bigger one is refused by ZeroMQ. */
#define SDX_CLIENT_MAX_REPLY (16 * 1024 * 1024)

/* DATA (LEN bytes, copied) as a new reply; it must be exactly one msgpack
 * map.  SDX_OK, SDX_BAD_INPUT, SDX_NOMEM. */
sdx_status_t sdx_client_reply_unpack(const void *data, size_t len,
                                     sdx_client_reply_t **out);

#endif /* SDX_CLIENT_PRIVATE_H */
