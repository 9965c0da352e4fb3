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

#endif /* SDX_CLIENT_PRIVATE_H */
