/*
 * question: a question in plain words, read into what specdex searches.
 *
 * A chatbot passes its users' questions straight through, and a person
 * types them as they would ask a colleague; neither writes Xapian's
 * query language, whose operators and field prefixes hide in ordinary
 * questions ("... AND?", "NOT sure whether ...", an odd quote).  So
 * `context`, and `search` with syntax "plain", read q here (rules in
 * docs/PROTOCOL.md, "Plain words"):
 *   - words only: never an operator, a field, a wildcard or a +/- term;
 *     a quoted span is a hint of a phrase, its words still count alone;
 *   - the words that ask rather than say (who, what, does, the, ...)
 *     carry no evidence and are not searched for;
 *   - what names the standard's own structure is understood, not
 *     searched for as text: "level 3", "levels 1 and 2", a job code
 *     ("5366") or a title ("Clinical Applications Professional 4")
 *     restrict the levels; a series' name or a job code the series; a
 *     row or section ("KSAs", "special conditions", "key resp 06",
 *     "education") says where the answer should come from.
 * What was understood is reported in the reply (`understood`), so that
 * nothing is assumed silently.
 *
 * The series' names come from the index (its XT terms), read once per
 * database handle and revision and kept with the handle
 * (sdx_db_set_user): the reader is called from that handle's thread
 * only, like every use of a handle.
 */
#ifndef SDX_QUESTION_H
#define SDX_QUESTION_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

#include "sdx_index.h"
#include "sdx_proto.h"
#include "sdx_xapian.h"

#define SDX_QUESTION_NAMED_MAX 8 /* series, sections or rows one question
                                    names, each, at most (more are left
                                    as words) */

/* A question as read.  Every pointer is owned here. */
typedef struct sdx_question {
    char *query;               /* the words to search for and the phrase
                                  hints, in the query language; "" when
                                  the question has none */
    char *words;               /* the words alone, one space between, in
                                  the order of SPANS */
    size_t *spans;             /* begin and end byte of each word of
                                  WORDS in the question: 2 x NWORDS */
    size_t nwords;             /* words in WORDS */
    unsigned levels;           /* bit L: level L was named */
    char *series[SDX_QUESTION_NAMED_MAX]; /* slugs of the series named */
    char *series_names[SDX_QUESTION_NAMED_MAX]; /* their names as the
                                  records write them */
    size_t nseries;            /* entries of SERIES */
    const char *sections[SDX_QUESTION_NAMED_MAX]; /* section kinds named
                                  (static) */
    size_t nsections;          /* entries of SECTIONS */
    char *rows[SDX_QUESTION_NAMED_MAX]; /* slugs of numbered rows named */
    char *row_labels[SDX_QUESTION_NAMED_MAX]; /* their labels, as the
                                  records write them */
    size_t nrows;              /* entries of ROWS */
} sdx_question_t;

/*
 * Read question Q (valid UTF-8, as the decoder passes it) against the
 * index DB into *QN, which needs no initialisation and is released with
 * sdx_question_clear() whatever the result.  Returns SDX_E_NONE, or
 * SDX_E_INTERNAL (out of memory, or the index failed: logged) with ERR.
 */
sdx_errcode_t sdx_question_read(sdx_db_t *db, const char *q,
                                sdx_question_t *qn, sdx_proto_error_t *err);

/* Free what QN holds and zero it.  Idempotent. */
void sdx_question_clear(sdx_question_t *qn);

/* True when QN names a row or a section. */
bool sdx_question_names_rows(const sdx_question_t *qn);

/*
 * Add the restrictions QN named to FS: its levels and its series, one
 * filter each (none when not named).  Returns as sdx_index_filter_add.
 */
sdx_errcode_t sdx_question_restrict(const sdx_question_t *qn,
                                    sdx_index_filters_t *fs,
                                    sdx_proto_error_t *err);

/*
 * Add the rows and sections QN named to FS as one filter (a clause of
 * any of them), or nothing when it names none.  Returns as
 * sdx_index_filter_add.
 */
sdx_errcode_t sdx_question_prefer(const sdx_question_t *qn,
                                  sdx_index_filters_t *fs,
                                  sdx_proto_error_t *err);

/*
 * Pack `understood`: {levels: [int], sections: [str], series: [str],
 * rows: [str]}, the levels ascending, the rest in the question's order;
 * sections and rows only when ROWS_APPLIED (the answer came from them).
 */
void sdx_question_pack(const sdx_question_t *qn, bool rows_applied,
                       msgpack_packer *pk);

/*
 * The question Q (read into QN) with each of its words that the index
 * does not hold replaced by the index's nearest word, everything else
 * as typed; NULL when no word needs it (or out of memory).  Never a
 * stop word or a question word.  Caller frees.  On an index failure the
 * shim's status is returned in *ST, else SDX_OK.
 */
char *sdx_question_correct(sdx_db_t *db, const char *q,
                           const sdx_question_t *qn, sdx_status_t *st);

#endif /* SDX_QUESTION_H */
