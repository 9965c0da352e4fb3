/*
 * sdx_clause: the clause record, the one shape every part of specdex
 * shares.  The parser produces it, the indexer stores it as msgpack in
 * the index's record slot, the daemon returns it unchanged, the clients
 * print it.
 *
 * A clause is one non-empty cell of a job standard (one row at one level),
 * or a series-wide paragraph such as the job summary (level 0).  The field
 * meanings are those of the wire contract (docs/PROTOCOL.md).
 *
 * What a clause becomes in the index (terms, value slots) is
 * sdx_index.h's; this header is the record alone.
 */
#ifndef SDX_CLAUSE_H
#define SDX_CLAUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <msgpack.h>

#include "sdx_status.h"

/* Number of fields in a clause record (keys of its msgpack map). */
#define SDX_CLAUSE_FIELDS 10

typedef struct sdx_clause {
    char *id;        /* "5366/key-resp-06"; unique across the index */
    char *series;    /* "Clinical Applications Professional 1-5 HX" */
    int level;       /* 1..9; 0 for a series-wide clause */
    char *job_code;  /* "5366"; "" for series-wide */
    char *title;     /* "Clinical Applications Professional 2 HX" */
    char *flsa;      /* "Non-Exempt"; "" when unknown */
    char *row;       /* "Key Resp 06", "Special Condition 2" */
    char *section;   /* one of sdx_sections[] */
    int item;        /* 6 for Key Resp 06; 0 when the row has no number */
    char *text;      /* the cell's text, whitespace normalised, UTF-8 */
} sdx_clause_t;

/* Section kinds, NULL-terminated, in reading order. */
extern const char *const sdx_sections[];

/* True when NAME is one of sdx_sections[] (exact, lower case). */
bool sdx_section_valid(const char *name);

/*
 * A new clause with every string set to "" and numbers to 0.  Returns
 * NULL when out of memory.  The caller owns it: sdx_clause_destroy().
 */
sdx_clause_t *sdx_clause_new(void);

/* Free a clause and its strings; NULL-safe, sets *clause_p to NULL. */
void sdx_clause_destroy(sdx_clause_t **clause_p);

/*
 * Replace one string field with a copy of VALUE.  FIELD points at a member
 * of a clause (e.g. &c->title).  Returns SDX_NOMEM, leaving the old value,
 * when the copy fails.
 */
sdx_status_t sdx_clause_set(char **field, const char *value);

/*
 * Write "Key Resp 06" as "key-resp-06" into OUT (size OUT_SIZE): ASCII
 * letters lower-cased, runs of anything else but digits to one '-', no
 * leading or trailing '-'.  Returns the length, or -1 when it would not
 * fit (OUT then holds a truncated, terminated string).
 */
int sdx_slug(const char *label, char *out, size_t out_size);

/*
 * Pack the clause as a msgpack map of its SDX_CLAUSE_FIELDS fields.
 * EXTRA is how many more key/value pairs the caller will pack into the
 * same map right after (rank, score, ...); 0 for the bare record.
 */
void sdx_clause_pack(const sdx_clause_t *clause, msgpack_packer *pk,
                     unsigned extra);

/*
 * Read a clause back from a msgpack object (a map as packed above; keys
 * it does not know are ignored, missing ones stay empty).  On success
 * *out is a new clause owned by the caller; on failure *out is NULL and
 * the status is SDX_BAD_INPUT (not a map, wrong type) or SDX_NOMEM.
 */
sdx_status_t sdx_clause_unpack(const msgpack_object *obj,
                               sdx_clause_t **out);

/*
 * Find the `text` of the packed clause record BUF (LEN bytes) without
 * unpacking it: *text points into BUF (not NUL-terminated), *text_len
 * its bytes.  Returns false when BUF is not a map of str keys with str,
 * int, bool or nil values holding a str `text` (nothing is allocated).
 * The shim's snippet_text callback (sdx_search_spec_t).
 */
bool sdx_clause_text(const void *buf, size_t len, const char **text,
                     size_t *text_len);

/* The same from a buffer holding exactly one msgpack object. */
sdx_status_t sdx_clause_from_msgpack(const void *buf, size_t len,
                                     sdx_clause_t **out);

#endif /* SDX_CLAUSE_H */
