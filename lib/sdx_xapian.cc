/*
 * sdx_xapian: the C shim over libxapian (lib/sdx_xapian.h is the
 * contract).
 *
 * This is the only C++ file of specdex and the only one that includes
 * <xapian.h>.  Each handle is a C++ struct holding Xapian objects by
 * value; C sees only an incomplete type.  Each extern "C" body is one
 * try block whose handlers call classify(), the one place that turns the
 * exception in flight into an sdx_status_t and a message kept in the
 * handle (as notmuch's _notmuch_xapian_error does, plus std::bad_alloc
 * and `...`, which notmuch lets escape).  Messages come from get_msg():
 * Xapian's text, never the query string.
 *
 * Searching: English stemming (STEM_SOME) on both sides, a small English
 * stop list at query time only (the index keeps every word, so phrases
 * with "of" still match), default operator OR, wildcard expansion capped
 * to the most frequent terms instead of failing.  Snippets are cut from
 * a value slot that holds the document's plain text, because the
 * document data is opaque to this layer.
 */
#include "sdx_xapian.h"

#include <xapian.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

/* Defaults of sdx_search_spec_t's zero values. */
const unsigned DEFAULT_LIMIT = 10;          /* hits per page */
const unsigned DEFAULT_EXPANSION = 100;     /* terms per wildcard */
const unsigned DEFAULT_SNIPPET_CHARS = 200; /* bytes of text aimed at */
const char DEFAULT_HL_OPEN[] = "<b>";       /* used when no marker given */
const char DEFAULT_HL_CLOSE[] = "</b>";
const char SNIPPET_OMIT[] = "\xe2\x80\xa6"; /* U+2026 HORIZONTAL ELLIPSIS */

/*
 * Query-time stop words.  BM25 already gives "the" almost no weight, but
 * every such word still drags its huge posting list through the match;
 * dropping it makes "duties of the role" as cheap as "duties role".
 * "and", "or", "not" are absent on purpose: with FLAG_BOOLEAN_ANY_CASE
 * they are operators.  Xapian keeps stop words inside phrases and when
 * the query is nothing but stop words.
 */
const char *const STOP_WORDS[] = {
    "a", "an", "are", "as", "at", "be", "by", "for", "from", "in", "into",
    "is", "it", "its", "of", "on", "that", "the", "these", "this", "those",
    "to", "was", "were", "with",
};

} /* namespace */

struct sdx_writer {
    Xapian::WritableDatabase db;   /* the database being built */
    Xapian::TermGenerator tg;      /* indexes text into DOC */
    Xapian::Document doc;          /* the document being described */
    bool in_doc = false;           /* begin_doc called, add_doc not yet */
    bool first_text = true;        /* no index_text in DOC yet */
    std::string errmsg;            /* last error, "" when none */
};

struct sdx_db {
    Xapian::Database db;           /* the open database */
    Xapian::Stem stem{"english"};  /* for queries and snippets */
    Xapian::SimpleStopper stopper; /* STOP_WORDS */
    std::string errmsg;            /* last error, "" when none */
};

namespace {

/* One hit, copied out of the MSet so the results own their strings. */
struct hit {
    std::string data;     /* document data */
    std::string snippet;  /* HTML-escaped, "" when not asked for */
    double score;         /* BM25 weight */
    int percent;          /* 0..100 */
};

} /* namespace */

struct sdx_results {
    std::vector<hit> hits;  /* the page, in rank order */
    uint64_t estimate = 0;  /* get_matches_estimated() */
};

namespace {

/* Set *MSG to TEXT; an allocation failure leaves it empty, not thrown. */
void
set_msg(std::string *msg, const std::string &text) noexcept
{
    try {
        msg->assign(text);
    } catch (...) {
        msg->clear();
    }
}

/* "DatabaseOpeningError: Couldn't detect type of database". */
void
set_xapian_msg(std::string *msg, const Xapian::Error &e) noexcept
{
    try {
        std::string text(e.get_type());
        text += ": ";
        text += e.get_msg();
        msg->assign(text);
    } catch (...) {
        msg->clear();
    }
}

/*
 * Classify the exception being handled: rethrow it and catch it by type.
 * Must be called from inside a catch handler.  Stores the message in
 * *MSG.  A WildcardError's message names the pattern (query text), so
 * it gets a fixed message instead; with WILDCARD_LIMIT_MOST_FREQUENT it
 * should not happen at all.
 */
sdx_status_t
classify(std::string *msg) noexcept
{
    try {
        throw;
    } catch (const Xapian::QueryParserError &e) {
        set_msg(msg, e.get_msg());
        return SDX_BAD_QUERY;
    } catch (const Xapian::WildcardError &) {
        set_msg(msg, "a wildcard expands to too many terms");
        return SDX_BAD_QUERY;
    } catch (const Xapian::DatabaseModifiedError &e) {
        set_xapian_msg(msg, e);
        return SDX_MODIFIED;
    } catch (const Xapian::DatabaseOpeningError &e) {
        /* Also DatabaseNotFoundError and DatabaseVersionError. */
        set_xapian_msg(msg, e);
        return SDX_UNAVAILABLE;
    } catch (const Xapian::DatabaseCreateError &e) {
        set_xapian_msg(msg, e);
        return SDX_UNAVAILABLE;
    } catch (const Xapian::DatabaseLockError &e) {
        set_xapian_msg(msg, e);
        return SDX_UNAVAILABLE;
    } catch (const Xapian::Error &e) {
        set_xapian_msg(msg, e);
        return SDX_XAPIAN;
    } catch (const std::bad_alloc &) {
        set_msg(msg, "out of memory");
        return SDX_NOMEM;
    } catch (const std::exception &e) {
        set_msg(msg, e.what());
        return SDX_INTERNAL;
    } catch (...) {
        set_msg(msg, "unexpected exception");
        return SDX_INTERNAL;
    }
}

/* Copy MSG to a malloc'd *ERRMSG when the caller asked for one. */
void
give_errmsg(const std::string &msg, char **errmsg) noexcept
{
    if (errmsg)
        *errmsg = strdup(msg.c_str()); /* NULL if out of memory */
}

/* Fail a writer call made outside begin_doc .. add_doc (a bug). */
sdx_status_t
no_doc(sdx_writer_t *w) noexcept
{
    set_msg(&w->errmsg, "no document begun (call sdx_writer_begin_doc)");
    return SDX_INTERNAL;
}

bool
blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!strchr(" \t\r\n", *s))
            return false;
    return true;
}

/* The filters of SPEC as one query: AND of groups, OR within a group. */
Xapian::Query
filter_query(const sdx_search_spec_t *spec)
{
    Xapian::Query all;
    for (size_t i = 0; i < spec->nfilters; i++) {
        const sdx_filter_t *f = &spec->filters[i];
        if (f->nterms == 0)
            continue;
        std::vector<Xapian::Query> any;
        for (size_t j = 0; j < f->nterms; j++)
            any.emplace_back(f->terms[j]);
        Xapian::Query group(Xapian::Query::OP_OR, any.begin(), any.end());
        all = all.empty() ? group
                          : Xapian::Query(Xapian::Query::OP_AND, all, group);
    }
    return all;
}

/* Parse SPEC's query with DB's settings; "" or blank matches all. */
Xapian::Query
parse(sdx_db_t *db, const sdx_search_spec_t *spec)
{
    if (blank(spec->query))
        return Xapian::Query::MatchAll;
    Xapian::QueryParser qp;
    qp.set_database(db->db);
    qp.set_stemmer(db->stem);
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_stopper(&db->stopper);
    qp.set_default_op(Xapian::Query::OP_OR);
    unsigned expansion = spec->max_expansion ? spec->max_expansion
                                             : DEFAULT_EXPANSION;
    qp.set_max_expansion(expansion,
                         Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                         Xapian::QueryParser::FLAG_WILDCARD |
                             Xapian::QueryParser::FLAG_PARTIAL);
    for (size_t i = 0; i < spec->nfields; i++) {
        const sdx_field_t *f = &spec->fields[i];
        if (f->boolean)
            qp.add_boolean_prefix(f->name, f->prefix);
        else
            qp.add_prefix(f->name, f->prefix);
    }
    unsigned flags = Xapian::QueryParser::FLAG_BOOLEAN |
                     Xapian::QueryParser::FLAG_PHRASE |
                     Xapian::QueryParser::FLAG_LOVEHATE |
                     Xapian::QueryParser::FLAG_WILDCARD |
                     Xapian::QueryParser::FLAG_PURE_NOT |
                     Xapian::QueryParser::FLAG_BOOLEAN_ANY_CASE;
    return qp.parse_query(spec->query, flags);
}

/* One search attempt; throws what Xapian throws. */
void
run_search(sdx_db_t *db, const sdx_search_spec_t *spec, sdx_results_t *r)
{
    Xapian::Query query = parse(db, spec);
    Xapian::Query filter = filter_query(spec);
    if (!filter.empty())
        query = Xapian::Query(Xapian::Query::OP_FILTER, query, filter);

    Xapian::Enquire enquire(db->db);
    enquire.set_query(query);
    if (spec->time_limit_s > 0)
        enquire.set_time_limit(spec->time_limit_s);
    unsigned limit = spec->limit ? spec->limit : DEFAULT_LIMIT;
    Xapian::MSet mset = enquire.get_mset(spec->offset, limit,
                                         spec->check_at_least);

    const char *open = spec->hl_open && *spec->hl_open ? spec->hl_open
                                                       : DEFAULT_HL_OPEN;
    const char *close = spec->hl_close && *spec->hl_close ? spec->hl_close
                                                          : DEFAULT_HL_CLOSE;
    size_t chars = spec->snippet_chars ? spec->snippet_chars
                                       : DEFAULT_SNIPPET_CHARS;
    r->hits.clear();
    r->hits.reserve(mset.size());
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
        Xapian::Document doc = it.get_document();
        hit h;
        h.data = doc.get_data();
        h.score = it.get_weight();
        h.percent = it.get_percent();
        if (spec->snippets) {
            std::string text = doc.get_value(spec->snippet_slot);
            h.snippet = mset.snippet(text, chars, db->stem,
                                     Xapian::MSet::SNIPPET_BACKGROUND_MODEL |
                                         Xapian::MSet::SNIPPET_EXHAUSTIVE,
                                     open, close, SNIPPET_OMIT);
        }
        r->hits.push_back(std::move(h));
    }
    r->estimate = mset.get_matches_estimated();
}

} /* namespace */

/* ---------------------------------------------------------------- */
/* Writing                                                          */
/* ---------------------------------------------------------------- */

extern "C" sdx_status_t
sdx_writer_create(const char *path, sdx_writer_t **out, char **errmsg)
{
    sdx_writer_t *w = nullptr;
    *out = nullptr;
    if (errmsg)
        *errmsg = nullptr;
    try {
        w = new sdx_writer_t;
        w->db = Xapian::WritableDatabase(path, Xapian::DB_CREATE |
                                                   Xapian::DB_BACKEND_GLASS);
        w->tg.set_stemmer(Xapian::Stem("english"));
        w->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        w->tg.set_database(w->db);
        /* Everything happens inside a transaction, so that destroying
         * the writer abandons what was not committed (the destructor of
         * WritableDatabase would commit it otherwise). */
        w->db.begin_transaction(true); /* flushed on commit */
        *out = w;
        return SDX_OK;
    } catch (...) {
        std::string msg;
        sdx_status_t st = classify(&msg);
        give_errmsg(msg, errmsg);
        delete w;
        return st;
    }
}

extern "C" sdx_status_t
sdx_writer_begin_doc(sdx_writer_t *w)
{
    try {
        w->doc = Xapian::Document();
        w->tg.set_document(w->doc);
        w->tg.set_termpos(0);
        w->in_doc = true;
        w->first_text = true;
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_index_text(sdx_writer_t *w, const char *text, const char *prefix,
                      unsigned wdf_inc, bool spelling)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        if (!w->first_text)
            w->tg.increase_termpos(); /* a gap: no phrase across calls */
        w->first_text = false;
        w->tg.set_flags(spelling ? Xapian::TermGenerator::FLAG_SPELLING
                                 : Xapian::TermGenerator::flags(0));
        w->tg.index_text(text, wdf_inc, prefix ? prefix : "");
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_add_term(sdx_writer_t *w, const char *term)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        w->doc.add_boolean_term(term);
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_set_value(sdx_writer_t *w, unsigned slot, const void *value,
                     size_t len)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        w->doc.add_value(slot, std::string(static_cast<const char *>(value),
                                           len));
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_set_data(sdx_writer_t *w, const void *data, size_t len)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        w->doc.set_data(std::string(static_cast<const char *>(data), len));
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_add_doc(sdx_writer_t *w, const char *unique_term)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        w->doc.add_boolean_term(unique_term);
        w->db.replace_document(unique_term, w->doc);
        w->in_doc = false;
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_set_metadata(sdx_writer_t *w, const char *key, const char *value)
{
    try {
        w->db.set_metadata(key, value);
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_add_synonym(sdx_writer_t *w, const char *term, const char *synonym)
{
    try {
        w->db.add_synonym(term, synonym);
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" sdx_status_t
sdx_writer_commit(sdx_writer_t *w)
{
    try {
        w->db.commit_transaction();
        w->db.begin_transaction(true); /* flushed on commit */
        return SDX_OK;
    } catch (...) {
        return classify(&w->errmsg);
    }
}

extern "C" const char *
sdx_writer_errmsg(const sdx_writer_t *w)
{
    return w ? w->errmsg.c_str() : "";
}

extern "C" void
sdx_writer_destroy(sdx_writer_t **w_p)
{
    if (!w_p || !*w_p)
        return;
    sdx_writer_t *w = *w_p;
    *w_p = nullptr;
    try {
        /* Abandon what was not committed (see sdx_writer_create). */
        w->db.cancel_transaction();
    } catch (...) {
        /* Nothing to cancel, or the database is already unusable. */
    }
    try {
        delete w; /* the destructor releases the lock */
    } catch (...) {
        /* Destructors do not throw; nothing to report if one did. */
    }
}

/* ---------------------------------------------------------------- */
/* Reading                                                          */
/* ---------------------------------------------------------------- */

extern "C" sdx_status_t
sdx_db_open(const char *path, sdx_db_t **out, char **errmsg)
{
    sdx_db_t *db = nullptr;
    *out = nullptr;
    if (errmsg)
        *errmsg = nullptr;
    try {
        db = new sdx_db_t;
        db->db = Xapian::Database(path);
        for (const char *word : STOP_WORDS)
            db->stopper.add(word);
        *out = db;
        return SDX_OK;
    } catch (...) {
        std::string msg;
        sdx_status_t st = classify(&msg);
        give_errmsg(msg, errmsg);
        delete db;
        return st;
    }
}

extern "C" sdx_status_t
sdx_db_doc_count(sdx_db_t *db, uint64_t *count)
{
    try {
        *count = db->db.get_doccount();
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_revision(sdx_db_t *db, uint64_t *revision)
{
    try {
        *revision = db->db.get_revision();
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_get_metadata(sdx_db_t *db, const char *key, char **value)
{
    *value = nullptr;
    try {
        std::string v = db->db.get_metadata(key);
        char *copy = static_cast<char *>(malloc(v.size() + 1));
        if (!copy)
            throw std::bad_alloc();
        memcpy(copy, v.data(), v.size());
        copy[v.size()] = '\0';
        *value = copy;
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_get_data_by_term(sdx_db_t *db, const char *term, void **data,
                        size_t *len)
{
    *data = nullptr;
    *len = 0;
    try {
        Xapian::PostingIterator p = db->db.postlist_begin(term);
        if (p == db->db.postlist_end(term)) {
            set_msg(&db->errmsg, "no document has that term");
            return SDX_NOT_FOUND;
        }
        std::string d = db->db.get_document(*p).get_data();
        /* malloc(0) may return NULL: allocate one byte at least. */
        void *copy = malloc(d.size() ? d.size() : 1);
        if (!copy)
            throw std::bad_alloc();
        memcpy(copy, d.data(), d.size());
        *data = copy;
        *len = d.size();
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_search(sdx_db_t *db, const sdx_search_spec_t *spec,
              sdx_results_t **out)
{
    sdx_results_t *r = nullptr;
    *out = nullptr;
    try {
        r = new sdx_results_t;
        for (int attempt = 0;; attempt++) {
            try {
                run_search(db, spec, r);
                break;
            } catch (const Xapian::DatabaseModifiedError &) {
                if (attempt > 0)
                    throw;
                db->db.reopen(); /* then the whole search once more */
            }
        }
        *out = r;
        return SDX_OK;
    } catch (...) {
        delete r;
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_reopen(sdx_db_t *db)
{
    try {
        db->db.reopen();
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" const char *
sdx_db_errmsg(const sdx_db_t *db)
{
    return db ? db->errmsg.c_str() : "";
}

extern "C" void
sdx_db_destroy(sdx_db_t **db_p)
{
    if (!db_p || !*db_p)
        return;
    sdx_db_t *db = *db_p;
    *db_p = nullptr;
    try {
        delete db;
    } catch (...) {
        /* Destructors do not throw; nothing to report if one did. */
    }
}

extern "C" size_t
sdx_results_count(const sdx_results_t *r)
{
    return r ? r->hits.size() : 0;
}

extern "C" uint64_t
sdx_results_estimate(const sdx_results_t *r)
{
    return r ? r->estimate : 0;
}

extern "C" void
sdx_results_hit(const sdx_results_t *r, size_t i, sdx_hit_t *out)
{
    const hit &h = r->hits[i];
    out->data = h.data.data();
    out->data_len = h.data.size();
    out->score = h.score;
    out->percent = h.percent;
    out->snippet = h.snippet.c_str();
}

extern "C" void
sdx_results_destroy(sdx_results_t **r_p)
{
    if (!r_p || !*r_p)
        return;
    delete *r_p;
    *r_p = nullptr;
}
