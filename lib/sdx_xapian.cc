/*
 * sdx_xapian: the C shim over libxapian (lib/sdx_xapian.h is the
 * contract), its extern "C" boundary.
 *
 * The shim is the only C++ of specdex and the only code that includes
 * <xapian.h>, in three files as notmuch splits its lib/: this one (every
 * entry point, the writer), sdx_xapian_query.cc (parsing, synonyms,
 * spelling, run_search) and sdx_xapian_highlight.cc (snippets), sharing
 * sdx_xapian_private.h.  Each handle is a C++ struct holding Xapian
 * objects by value; C sees only an incomplete type.  Each extern "C"
 * body is one try block whose handlers call classify(), the one place
 * that turns the exception in flight into an sdx_status_t and a message
 * kept in the handle (as notmuch's _notmuch_xapian_error does, plus
 * std::bad_alloc and `...`, which notmuch lets escape).  Messages come
 * from get_msg() and get_error_string(): Xapian's text and the errno's,
 * never the query string.
 */
#include "sdx_xapian_private.h"

#include <cstdlib>
#include <cstring>
#include <new>

using sdx_x::correction;
using sdx_x::load_synonyms;
using sdx_x::run_search;

namespace {

const size_t STEM_MEMO_MAX = 1000000;      /* words a writer's stemmer
                                              remembers, at most */

/*
 * Query-time stop words.  BM25 already gives "the" almost no weight, but
 * every such word still drags its huge posting list through the match;
 * dropping it makes "duties of the role" as cheap as "duties role".
 * Operators are recognised in capitals only, so a lower-case "and" or
 * "or" in a question is a word, and one of the commonest: stopped too.
 * Xapian keeps stop words inside phrases and when the query is nothing
 * but stop words.
 */
const char *const STOP_WORDS[] = {
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in",
    "into", "is", "it", "its", "of", "on", "or", "that", "the", "these",
    "this", "those", "to", "was", "were", "with",
};

/*
 * The English stemmer with a memo, for the writer.  TermGenerator stems
 * every word it indexes (STEM_SOME), and a corpus says the same few
 * tens of thousands of words over and over: the Snowball stemmer was an
 * eighth of the build's instructions, a hash look-up is a fraction of
 * it.  The stems are Xapian's own, so the index is the same.  One per
 * writer (Xapian objects are not shared between threads); the memo
 * stops growing at STEM_MEMO_MAX words and then only stems.
 */
class memo_stemmer : public Xapian::StemImplementation {
  public:
    std::string
    operator()(const std::string &word) override
    {
        auto it = memo_.find(word);
        if (it != memo_.end())
            return it->second;
        std::string stem = english_(word);
        if (memo_.size() < STEM_MEMO_MAX)
            memo_.emplace(word, stem);
        return stem;
    }

    std::string
    get_description() const override
    {
        return "english, remembered";
    }

  private:
    Xapian::Stem english_{"english"};                     /* the stemmer */
    std::unordered_map<std::string, std::string> memo_; /* word -> stem */
};

} /* namespace */

struct sdx_writer {
    Xapian::WritableDatabase db;   /* the database being built */
    Xapian::TermGenerator tg;      /* indexes text into DOC */
    Xapian::Document doc;          /* the document being described */
    bool in_doc = false;           /* begin_doc called, add_doc not yet */
    bool first_text = true;        /* no index_text in DOC yet */
    bool bulk = false;             /* SDX_WRITER_BULK: append, no lookup */
    bool plain_text = false;       /* unprefixed text in DOC, no SPELLING */
    bool spelled_text = false;     /* bulk: SPELLING text in DOC */
    std::unordered_map<std::string, Xapian::termcount> spelling;
                                   /* bulk: word -> occurrences since the
                                      last commit, written by commit */
    std::string errmsg;            /* last error, "" when none */
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

/*
 * "DatabaseOpeningError: Couldn't detect type of database", and the
 * errno text when Xapian kept one ("DatabaseError: Error writing block
 * 5 (No space left on device)"): without it a full disk reads as a
 * broken clause.
 */
void
set_xapian_msg(std::string *msg, const Xapian::Error &e) noexcept
{
    try {
        std::string text(e.get_type());
        text += ": ";
        text += e.get_msg();
        const char *why = e.get_error_string();
        if (why && *why) {
            text += " (";
            text += why;
            text += ")";
        }
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

/*
 * classify() for a call that has no handle to keep the message in: it
 * goes to *ERRMSG, malloc'd, when the caller asked for one.
 */
sdx_status_t
classify_to(char **errmsg) noexcept
{
    std::string msg;
    sdx_status_t st = classify(&msg);
    give_errmsg(msg, errmsg);
    return st;
}

/*
 * Count the spelling words of W's document: its unprefixed terms with a
 * wdf (boolean terms have none; Xapian's prefixes are capital letters),
 * each as often as it occurs, which is what TermGenerator's
 * FLAG_SPELLING would add one at a time.  Xapian's spelling table looks
 * each word up in a std::map per occurrence, and after each flush (every
 * 10,000 documents) in its B-tree again and rewrites it: a tenth of a
 * bulk build.  Counted here, the table is written once, at commit, with
 * the same words and frequencies.
 */
void
spell_doc(sdx_writer_t *w)
{
    for (Xapian::TermIterator t = w->doc.termlist_begin();
         t != w->doc.termlist_end(); ++t) {
        const std::string &term = *t;
        Xapian::termcount wdf = t.get_wdf();
        if (wdf == 0 || term.empty() || (term[0] >= 'A' && term[0] <= 'Z'))
            continue;
        w->spelling[term] += wdf;
    }
}

/* Fail a writer call made outside begin_doc .. add_doc (a bug). */
sdx_status_t
no_doc(sdx_writer_t *w) noexcept
{
    set_msg(&w->errmsg, "no document begun (call sdx_writer_begin_doc)");
    return SDX_INTERNAL;
}

} /* namespace */

/* ---------------------------------------------------------------- */
/* Writing                                                          */
/* ---------------------------------------------------------------- */

extern "C" sdx_status_t
sdx_writer_create(const char *path, sdx_writer_t **out, char **errmsg)
{
    return sdx_writer_create_flags(path, 0, out, errmsg);
}

extern "C" sdx_status_t
sdx_writer_create_flags(const char *path, unsigned flags, sdx_writer_t **out,
                        char **errmsg)
{
    sdx_writer_t *w = nullptr;
    *out = nullptr;
    if (errmsg)
        *errmsg = nullptr;
    try {
        int db_flags = Xapian::DB_CREATE | Xapian::DB_BACKEND_GLASS;
        if (flags & SDX_WRITER_BULK)
            db_flags |= Xapian::DB_NO_TERMLIST;
        if (flags & SDX_WRITER_NO_SYNC)
            db_flags |= Xapian::DB_NO_SYNC;
        w = new sdx_writer_t;
        w->bulk = (flags & SDX_WRITER_BULK) != 0;
        w->db = Xapian::WritableDatabase(path, db_flags);
        w->tg.set_stemmer(Xapian::Stem(new memo_stemmer));
        w->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        w->tg.set_database(w->db);
        /* Everything happens inside a transaction, so that destroying
         * the writer abandons what was not committed (the destructor of
         * WritableDatabase would commit it otherwise). */
        w->db.begin_transaction(true); /* flushed on commit */
        *out = w;
        return SDX_OK;
    } catch (...) {
        sdx_status_t st = classify_to(errmsg);
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
        w->plain_text = false;
        w->spelled_text = false;
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
    bool unprefixed = !prefix || !*prefix;
    /* A bulk writer gathers a document's spelling words from its
     * unprefixed terms when it is added (see spell_doc), so those terms
     * must all come from SPELLING text, counted once per word. */
    if (w->bulk && unprefixed &&
        (spelling ? w->plain_text || wdf_inc != 1 : w->spelled_text)) {
        set_msg(&w->errmsg, "a bulk writer takes unprefixed text either "
                            "all with spelling (wdf 1) or all without, "
                            "per document");
        return SDX_BAD_INPUT;
    }
    if (w->bulk && spelling && !unprefixed) {
        set_msg(&w->errmsg, "a bulk writer takes spelling from unprefixed "
                            "text only");
        return SDX_BAD_INPUT;
    }
    try {
        if (!w->first_text)
            w->tg.increase_termpos(); /* a gap: no phrase across calls */
        w->first_text = false;
        if (unprefixed && spelling)
            w->spelled_text = true;
        else if (unprefixed)
            w->plain_text = true;
        bool flag = spelling && !w->bulk;
        w->tg.set_flags(flag ? Xapian::TermGenerator::FLAG_SPELLING
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
sdx_writer_add_doc(sdx_writer_t *w, const char *unique_term)
{
    if (!w->in_doc)
        return no_doc(w);
    try {
        w->doc.add_boolean_term(unique_term);
        /* replace_document looks the term up first (and needs the
         * termlist table to remove an old document); a bulk build has
         * checked its ids already. */
        if (w->bulk) {
            if (w->spelled_text)
                spell_doc(w);
            w->db.add_document(w->doc);
        } else {
            w->db.replace_document(unique_term, w->doc);
        }
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
    if (!*term || !*synonym || strchr(term, '"') || strchr(synonym, '"')) {
        set_msg(&w->errmsg, "a synonym and its key must be non-empty and "
                            "hold no '\"'");
        return SDX_BAD_INPUT;
    }
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
        for (const auto &word : w->spelling)
            w->db.add_spelling(word.first, word.second);
        w->spelling.clear();
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

extern "C" sdx_status_t
sdx_compact(const char *const *paths, size_t n, const char *out,
            char **errmsg)
{
    if (errmsg)
        *errmsg = nullptr;
    if (n == 0) {
        give_errmsg("no database to compact", errmsg);
        return SDX_BAD_INPUT;
    }
    try {
        Xapian::Database all;
        for (size_t i = 0; i < n; i++)
            all.add_database(Xapian::Database(paths[i]));
        /* FULL: blocks packed full, as nobody updates a revision. */
        all.compact(out, Xapian::Compactor::FULL);
        return SDX_OK;
    } catch (...) {
        return classify_to(errmsg);
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
        load_synonyms(db);
        *out = db;
        return SDX_OK;
    } catch (...) {
        sdx_status_t st = classify_to(errmsg);
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
sdx_db_value_count(sdx_db_t *db, unsigned slot, uint64_t *count)
{
    try {
        *count = db->db.get_value_freq(slot);
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
sdx_db_get_data_by_term(sdx_db_t *db, const char *term, unsigned data_slot,
                        void **data, size_t *len)
{
    *data = nullptr;
    *len = 0;
    try {
        Xapian::PostingIterator p = db->db.postlist_begin(term);
        if (p == db->db.postlist_end(term)) {
            set_msg(&db->errmsg, "no document has that term");
            return SDX_NOT_FOUND;
        }
        Xapian::Document doc = db->db.get_document(*p);
        std::string d = doc.get_value(data_slot);
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

extern "C" void
sdx_db_set_xapian_snippets(sdx_db_t *db, bool on)
{
    db->xapian_snippets = on;
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
                load_synonyms(db);
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
sdx_db_suggest(sdx_db_t *db, const sdx_search_spec_t *spec, char **out)
{
    *out = nullptr;
    try {
        std::string c;
        for (int attempt = 0;; attempt++) {
            try {
                c = correction(db, spec);
                break;
            } catch (const Xapian::DatabaseModifiedError &) {
                if (attempt > 0)
                    throw;
                db->db.reopen();
                load_synonyms(db);
            }
        }
        if (c.empty())
            return SDX_OK;
        char *copy = strdup(c.c_str());
        if (!copy)
            throw std::bad_alloc();
        *out = copy;
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" sdx_status_t
sdx_db_terms(sdx_db_t *db, const char *prefix, size_t max, char **out,
             size_t *len, size_t *count, bool *more)
{
    *out = nullptr;
    *len = 0;
    *count = 0;
    *more = false;
    try {
        std::string all;
        size_t n = 0, plen = strlen(prefix);
        for (Xapian::TermIterator t = db->db.allterms_begin(prefix);
             t != db->db.allterms_end(prefix); ++t) {
            if (n == max) {
                *more = true;
                break;
            }
            const std::string term = *t;
            all.append(term, plen, std::string::npos);
            all += '\0';
            n++;
        }
        if (n == 0)
            return SDX_OK;
        char *copy = static_cast<char *>(malloc(all.size()));
        if (!copy)
            throw std::bad_alloc();
        memcpy(copy, all.data(), all.size());
        *out = copy;
        *len = all.size();
        *count = n;
        return SDX_OK;
    } catch (...) {
        return classify(&db->errmsg);
    }
}

extern "C" void
sdx_db_set_user(sdx_db_t *db, void *data, sdx_user_free_fn free_fn)
{
    if (db->user_free && db->user != data)
        db->user_free(db->user);
    db->user = data;
    db->user_free = free_fn;
}

extern "C" void *
sdx_db_user(const sdx_db_t *db)
{
    return db ? db->user : nullptr;
}

extern "C" sdx_status_t
sdx_db_reopen(sdx_db_t *db)
{
    try {
        db->db.reopen();
        load_synonyms(db);
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
    const sdx_x::hit &h = r->hits[i];
    out->data = h.data.data();
    out->data_len = h.data.size();
    out->score = h.score;
    out->percent = h.percent;
    out->snippet = h.snippet.c_str();
    out->key = h.key.c_str();
    out->key_len = h.key.size();
    out->collapsed = h.collapsed;
}

extern "C" bool
sdx_results_partial(const sdx_results_t *r)
{
    return r && r->partial;
}

extern "C" bool
sdx_results_scan_cut(const sdx_results_t *r, double *floor)
{
    *floor = r && r->scan_cut ? r->scan_floor : 0;
    return r && r->scan_cut;
}

extern "C" const char *
sdx_results_corrected(const sdx_results_t *r)
{
    return r ? r->corrected.c_str() : "";
}

extern "C" bool
sdx_results_facets_exact(const sdx_results_t *r)
{
    return r && r->facets_exact;
}

extern "C" size_t
sdx_results_facet_size(const sdx_results_t *r, size_t i)
{
    return r && i < r->facets.size() ? r->facets[i].size() : 0;
}

extern "C" void
sdx_results_facet(const sdx_results_t *r, size_t i, size_t j,
                  const char **value, size_t *len, uint64_t *count)
{
    const std::pair<std::string, uint64_t> &v = r->facets[i][j];
    *value = v.first.data();
    *len = v.first.size();
    *count = v.second;
}

extern "C" void
sdx_results_destroy(sdx_results_t **r_p)
{
    if (!r_p || !*r_p)
        return;
    delete *r_p;
    *r_p = nullptr;
}
