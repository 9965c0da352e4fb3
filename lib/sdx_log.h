/*
 * sdx_log: one line per event to stderr, where journald picks it up.
 *
 * "specdexd[pid]: I: message".  The level letter follows the ZeroMQ
 * guide's examples (I:, W:, E:, D:).  Never pass query text here unless
 * the operator asked for it (--log-queries).
 */
#ifndef SDX_LOG_H
#define SDX_LOG_H

#include <stdbool.h>

typedef enum sdx_log_level {
    SDX_LOG_ERROR = 0, /* something failed; service may be degraded */
    SDX_LOG_WARN,      /* bad input or a recoverable failure */
    SDX_LOG_INFO,      /* lifecycle: started, index opened, stopping */
    SDX_LOG_DEBUG,     /* per-request detail; off by default */
} sdx_log_level_t;

/* Set the program name shown in each line and the most verbose level. */
void sdx_log_init(const char *program, sdx_log_level_t max_level);

/* Log one line at LEVEL (printf format; a newline is added). */
void sdx_log(sdx_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A rate limit on one kind of line that outside events can repeat
 * without end (a refused client reconnecting every 100 ms, a broken
 * index retried, accept failing at the descriptor limit): at most BURST
 * lines in each window of WINDOW_S seconds, and at the window's end one
 * line saying how many were held back.  Initialise with the three
 * fields below set and the rest zero.  Not locked: one thread uses it.
 */
typedef struct sdx_log_limit {
    const char *what;          /* the kind, in the held-back line:
                                  "CURVE: unknown-key refusal" */
    unsigned burst;            /* lines per window, at most */
    unsigned window_s;         /* the window, seconds */
    long long window_start;    /* start of the current window, s */
    unsigned logged;           /* lines logged in it */
    unsigned long suppressed;  /* lines held back in it */
} sdx_log_limit_t;

/*
 * True when one more line of LIM's kind may be logged now (the caller
 * then logs it); false counts it as held back.  A window that ended
 * with lines held back logs "N more WHAT lines in the last S s not
 * logged" first.
 */
bool sdx_log_allowed(sdx_log_limit_t *lim);

#endif /* SDX_LOG_H */
