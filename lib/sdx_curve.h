/*
 * sdx_curve: CURVE key files, shared by the daemon and the clients.
 *
 * A keypair is two files, in the shape CZMQ's certificates use, so the
 * tools people already know can read them:
 *   NAME.key         public-key = "<40 Z85 characters>"       (mode 0644)
 *   NAME.key_secret  public-key = "..." and secret-key = "..."  (mode 0600)
 * Lines starting with '#' are comments.  The daemon admits the clients
 * whose NAME.key files are in its --allow-keys directory; a client names
 * the daemon's NAME.key (--server-key) and its own NAME.key_secret
 * (--client-key).
 */
#ifndef SDX_CURVE_H
#define SDX_CURVE_H

#include <stddef.h>

#include "sdx_status.h"

#define SDX_CURVE_KEY_LEN 40 /* Z85 characters of a CURVE key */

/* A key as Z85 text, NUL-terminated. */
typedef struct sdx_curve_key {
    char z85[SDX_CURVE_KEY_LEN + 1]; /* "" when absent */
} sdx_curve_key_t;

/*
 * Make a new keypair and write BASE.key and BASE.key_secret (neither may
 * exist yet).  Returns SDX_OK, SDX_IO (ERR says which file and why), or
 * SDX_UNAVAILABLE when libzmq was built without CURVE.
 */
sdx_status_t sdx_curve_keygen(const char *base, char *err, size_t err_size);

/*
 * Read PATH: *PUBLIC_KEY always, *SECRET_KEY (when not NULL) must be there
 * too.  A secret file readable by others is refused.  Returns SDX_OK,
 * SDX_IO (cannot read), SDX_BAD_INPUT (ERR names the file and line).
 */
sdx_status_t sdx_curve_read(const char *path, sdx_curve_key_t *public_key,
                            sdx_curve_key_t *secret_key, char *err,
                            size_t err_size);

#endif /* SDX_CURVE_H */
