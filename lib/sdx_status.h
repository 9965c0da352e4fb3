/*
 * sdx_status: the one status type every fallible specdex call returns.
 *
 * Zero is success.  The enum drives program logic; the text a person
 * reads comes from sdx_status_str() (static) and from the module that
 * failed (a handle's last error message, or an error buffer).
 */
#ifndef SDX_STATUS_H
#define SDX_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sdx_status {
    SDX_OK = 0,          /* success */
    SDX_BAD_INPUT,       /* outside input is malformed: corpus file, frame */
    SDX_BAD_QUERY,       /* the query string does not parse */
    SDX_NOT_FOUND,       /* the thing asked for does not exist */
    SDX_UNAVAILABLE,     /* the database could not be opened */
    SDX_MODIFIED,        /* the database changed under a reader */
    SDX_XAPIAN,          /* any other Xapian error */
    SDX_NOMEM,           /* out of memory (std::bad_alloc, malloc) */
    SDX_IO,              /* a system call failed; errno-style detail */
    SDX_INTERNAL,        /* a bug: an exception nobody expected */
    SDX_REMOTE,          /* the daemon answered with an error reply */
    SDX_STATUS_LAST      /* not a status: the number of statuses */
} sdx_status_t;

/*
 * Static English text for a status ("bad query"); "unknown status" for a
 * value outside the enum.  Never NULL, never to be freed.
 */
const char *sdx_status_str(sdx_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* SDX_STATUS_H */
