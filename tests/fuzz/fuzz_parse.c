/*
 * fuzz_parse, fuzz_jsonl: libFuzzer harnesses for two readers of job
 * standards (indexer/read_text.c, read_jsonl.c), one source built twice,
 * SDX_FUZZ_JSONL naming the second (the saved-page reader has its own
 * harness, fuzz_html.c).  Each input is one file's bytes,
 * handed to the reader exactly as read (no terminating NUL, so an
 * overread past LEN is caught by ASan), and everything it made is freed,
 * so LeakSanitizer sees any clause or cell a reader loses.
 *
 * Besides "no crash, no leak, no undefined behaviour" the harness checks
 * the parser's contract (parse.h) and aborts when it breaks, which
 * libFuzzer reports like a crash:
 *  - on success at least the job summary came out, every clause has all
 *    its strings, a valid section and a level in 0..9, and packs to a
 *    msgpack map that reads back to the same id;
 *  - on failure nothing was appended and ERR holds a terminated,
 *    non-empty "NAME:LINE: ..." message, even when ERR is tiny.
 *
 * Built by SDX_FUZZ with -fsanitize=fuzzer; without clang it is linked
 * with replay_main.c, which replays the seed corpus under `make test`.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "sdx_clause.h"

#if defined(SDX_FUZZ_JSONL)
#define NAME "fuzz.jsonl"   /* the file name errors mention */
#define PARSE sdx_parse_jsonl
#define FUZZ_HARNESS "fuzz_jsonl"
#else
#define NAME "fuzz.txt"
#define PARSE sdx_parse_text
#define FUZZ_HARNESS "fuzz_parse"
#endif
#include "fuzz_contract.h"

#define ERR_SIZE 256    /* error buffer, bytes: as specdex-index uses */
#define TINY_ERR 5      /* a buffer too small for any message, bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one clause produced by a successful parse. */
static void
check_clause(const sdx_clause_t *c)
{
    if (!c->id || !c->series || !c->job_code || !c->title || !c->flsa ||
        !c->row || !c->section || !c->text)
        broken("a clause string is NULL");
    if (c->level < 0 || c->level > 9)
        broken("level outside 0..9");
    if (!sdx_section_valid(c->section))
        broken("unknown section kind");
    if (c->id[0] == '\0')
        broken("empty clause id");

    /* the record must survive the trip the indexer gives it */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    sdx_clause_pack(c, &pk, 0);
    sdx_clause_t *back = NULL;
    if (sdx_clause_from_msgpack(sb.data, sb.size, &back) != SDX_OK)
        broken("a packed clause does not read back");
    if (strcmp(back->id, c->id) != 0 || strcmp(back->text, c->text) != 0)
        broken("a packed clause reads back different");
    sdx_clause_destroy(&back);
    msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[ERR_SIZE];

    memset(err, 'x', sizeof err);
    sdx_status_t st = PARSE(NAME, (const char *)data, size, &list, err,
                            sizeof err);
    if (st == SDX_OK) {
        if (list.count == 0)
            broken("success with no clauses");
        for (size_t i = 0; i < list.count; i++)
            check_clause(list.items[i]);
    } else {
        if (list.count != 0)
            broken("clauses appended on failure");
        check_message(err, sizeof err, NAME);

        /* the same failure into a buffer too small for it */
        char tiny[TINY_ERR + 1];
        tiny[TINY_ERR] = '#';
        sdx_clause_list_t again = SDX_CLAUSE_LIST_INIT;
        if (PARSE(NAME, (const char *)data, size, &again, tiny, TINY_ERR) !=
            st)
            broken("a smaller error buffer changed the status");
        check_tiny(tiny, TINY_ERR);
        sdx_clause_list_clear(&again);
    }
    sdx_clause_list_clear(&list);
    return 0;
}
