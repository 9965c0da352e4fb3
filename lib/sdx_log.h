/*
 * sdx_log: one line per event to stderr, where journald picks it up.
 *
 * "specdexd[pid]: I: message".  The level letter follows the ZeroMQ
 * guide's examples (I:, W:, E:, D:).  Never pass query text here unless
 * the operator asked for it (--log-queries).
 */
#ifndef SDX_LOG_H
#define SDX_LOG_H

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

#endif /* SDX_LOG_H */
