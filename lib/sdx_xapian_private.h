/*
 * sdx_xapian_private: what the shim's three files share, and nothing
 * outside them sees (notmuch's lib/notmuch-private.h and
 * database-private.h, in one).  The shim is split as notmuch splits its
 * lib/: the extern "C" boundary (sdx_xapian.cc: every entry point, the
 * one rethrow-and-classify helper, the writer), the query side
 * (sdx_xapian_query.cc: parsing, synonyms, spelling, run_search) and the
 * highlighter (sdx_xapian_highlight.cc).  C++ only; the public contract
 * is sdx_xapian.h.
 *
 * The handles' bodies live here because two files reach into them: the
 * boundary opens and frees them, the query side reads and fills them.
 * Everything else here is in namespace sdx_x; those names leave the
 * archive mangled as _ZN5sdx_x..., never as C symbols.
 */
#ifndef SDX_XAPIAN_PRIVATE_H
#define SDX_XAPIAN_PRIVATE_H

#include "sdx_xapian.h"

#include <xapian.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sdx_x {

/* Defaults of sdx_search_spec_t's zero values. */
const unsigned DEFAULT_LIMIT = 10;          /* hits per page */
const unsigned DEFAULT_EXPANSION = 100;     /* terms per wildcard */
const unsigned DEFAULT_SNIPPET_CHARS = 200; /* bytes of text aimed at */
const unsigned DEFAULT_MAX_TERMS = 100;     /* terms in a parsed query */
const size_t SYNONYM_KEYS_MAX = 100000;     /* synonym keys read, at most */
const size_t SYNONYM_WORDS_MAX = 8;         /* words in one synonym key */
const Xapian::doccount TIME_LIMIT_MIN_DOCS = 10000; /* smaller: no time limit */
const size_t STEM_CACHE_MAX = 20000;        /* words in sdx_db.stems (a
                                               few MB at most) */
const char DEFAULT_HL_OPEN[] = "<b>";       /* used when no marker given */
const char DEFAULT_HL_CLOSE[] = "</b>";
const char SNIPPET_OMIT[] = "\xe2\x80\xa6"; /* U+2026 HORIZONTAL ELLIPSIS */

/* One hit, copied out of the MSet so the results own their strings. */
struct hit {
    std::string data;     /* the value in the data slot */
    std::string snippet;  /* HTML-escaped, "" when not asked for */
    std::string key;      /* value in the key slot, "" when not asked */
    double score;         /* BM25 weight */
    int percent;          /* 0..100 */
    uint64_t collapsed;   /* get_collapse_count() */
};

/* One facet: (value, documents) in ascending value order. */
typedef std::vector<std::pair<std::string, uint64_t>> facet;

} /* namespace sdx_x */

struct sdx_db {
    Xapian::Database db;           /* the open database: its shards */
    Xapian::Database words;        /* where spelling, synonyms and
                                      metadata are read: DB itself, or
                                      its meta shard (Xapian's remote
                                      backend serves neither spelling
                                      nor synonyms) */
    std::vector<std::string> remotes; /* the remote shards' specs */
    bool sharded = false;          /* more than one shard (their ids
                                      interleave: ties go by tie_slot) */
    bool broken = false;           /* a remote shard failed: reopen */
    Xapian::Stem stem{"english"};  /* for queries and snippets */
    std::unordered_map<std::string, std::string> stems;
                                   /* word -> its stem, for the
                                      highlighter: stemming costs some
                                      3,000 instructions a word, and
                                      the same words come back search
                                      after search; at most
                                      STEM_CACHE_MAX, emptied when full */
    Xapian::SimpleStopper stopper; /* STOP_WORDS */
    std::map<std::string, std::vector<std::string>> synonyms;
                                   /* key -> its synonyms, read at open */
    size_t synonym_words = 0;      /* words in the longest key */
    bool xapian_snippets = false;  /* sdx_db_set_xapian_snippets: the
                                      bench's baseline */
    int tie_slot = -1;             /* sdx_db_set_tie_slot: the value slot
                                      that orders equal scores, -1: the
                                      document id */
    std::string errmsg;            /* last error, "" when none */
    void *user = nullptr;          /* sdx_db_set_user's DATA */
    sdx_user_free_fn user_free = nullptr; /* frees USER, or NULL */

    sdx_db() = default;
    sdx_db(const sdx_db &) = delete;
    sdx_db &operator=(const sdx_db &) = delete;
    ~sdx_db()
    {
        if (user_free)
            user_free(user);
    }
};

struct sdx_results {
    std::vector<sdx_x::hit> hits;     /* the page, in rank order */
    uint64_t estimate = 0;     /* get_matches_estimated() */
    bool partial = false;      /* the time limit was reached */
    bool scan_cut = false;     /* sdx_results_scan_cut */
    double scan_floor = 0;     /* its *floor: a weight */
    std::string corrected;     /* spelling correction, "" when none */
    std::vector<sdx_x::facet> facets; /* one per spec facet slot */
    bool facets_exact = false; /* the spies saw every match */
};

namespace sdx_x {

/* Bytes of a query word: ASCII letters and digits, UTF-8, ' and -
   (the query side and the highlighter read words alike). */
inline bool
word_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

inline bool
word_byte(unsigned char c)
{
    return word_start(c) || c == '\'' || c == '-';
}

/* S with its ASCII capitals lower-cased. */
inline std::string
lower_ascii(std::string s)
{
    for (char &c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

/* ---------------------------------------------------------------- */
/* The query side (sdx_xapian_query.cc); each throws what Xapian      */
/* throws, for the boundary to classify                             */
/* ---------------------------------------------------------------- */

/* Read DB's synonym table into its cache (at open and each reopen). */
void load_synonyms(sdx_db_t *db);

/*
 * The spelling correction of SPEC's query, or "" when none
 * (sdx_db_suggest, and search's `corrected`).
 */
std::string correction(sdx_db_t *db, const sdx_search_spec_t *spec);

/* One search attempt into R (sdx_db_search retries it once). */
void run_search(sdx_db_t *db, const sdx_search_spec_t *spec,
                sdx_results_t *r);

/* ---------------------------------------------------------------- */
/* The highlighter (sdx_xapian_highlight.cc)                        */
/* ---------------------------------------------------------------- */

class highlighter;

/* Frees a highlighter (its type is complete only where it is made). */
struct highlighter_free {
    void operator()(highlighter *h) const noexcept;
};
typedef std::unique_ptr<highlighter, highlighter_free> highlighter_ptr;

/*
 * A highlighter for one search on DB: TERMS are the parsed query's
 * terms (as parse() collects them, duplicates allowed), TEXT the query
 * as typed, for its wildcards.
 */
highlighter_ptr make_highlighter(sdx_db_t *db,
                                 const std::vector<std::string> &terms,
                                 const char *text);

/*
 * TEXT (N bytes) with the words H matches marked between OPEN and
 * CLOSE, HTML-escaped, cut to about CHARS bytes with an ellipsis where
 * cut.
 */
std::string highlight(highlighter &h, const char *text, size_t n,
                      size_t chars, const char *open, const char *close);

} /* namespace sdx_x */

#endif /* SDX_XAPIAN_PRIVATE_H */
