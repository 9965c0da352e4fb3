/*
 * sdx_status: text for each status code.  A switch rather than a table,
 * so the compiler warns when a status is added without its text.
 */
#include "sdx_status.h"

const char *
sdx_status_str(sdx_status_t status)
{
    switch (status) {
    case SDX_OK:          return "ok";
    case SDX_BAD_INPUT:   return "bad input";
    case SDX_BAD_QUERY:   return "bad query";
    case SDX_NOT_FOUND:   return "not found";
    case SDX_UNAVAILABLE: return "index unavailable";
    case SDX_MODIFIED:    return "index modified while reading";
    case SDX_XAPIAN:      return "Xapian error";
    case SDX_NOMEM:       return "out of memory";
    case SDX_IO:          return "input/output error";
    case SDX_INTERNAL:    return "internal error";
    case SDX_REMOTE:      return "error reply";
    case SDX_STATUS_LAST: break;
    }
    return "unknown status";
}
