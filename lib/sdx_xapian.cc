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
 * with "of" still match), default operator OR, boolean operators in
 * capitals only, wildcard expansion capped to the most frequent terms
 * instead of failing.  Snippets are cut from a value slot that holds the
 * document's plain text, because the document data is opaque to this
 * layer.
 *
 * Synonyms are expanded here, by rewriting the query string before it
 * is parsed, not by Xapian's FLAG_AUTO_SYNONYMS: Xapian looks a
 * multi-word synonym ("root cause analysis") up as one term, which
 * matches nothing.  The rewrite turns each key found in the query into
 * a bracketed OR of phrases, so the parser builds real phrase queries
 * and the rest of the query keeps its meaning.  The table is read once
 * per handle (it is small: one entry per word of corpus/synonyms.txt).
 */
#include "sdx_xapian.h"

#include <xapian.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

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

struct sdx_db {
    Xapian::Database db;           /* the open database */
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
    std::string errmsg;            /* last error, "" when none */
};

namespace {

/* One hit, copied out of the MSet so the results own their strings. */
struct hit {
    std::string data;     /* document data */
    std::string snippet;  /* HTML-escaped, "" when not asked for */
    std::string key;      /* value in the key slot, "" when not asked */
    double score;         /* BM25 weight */
    int percent;          /* 0..100 */
    uint64_t collapsed;   /* get_collapse_count() */
};

/* One facet: (value, documents) in ascending value order. */
typedef std::vector<std::pair<std::string, uint64_t>> facet;

} /* namespace */

struct sdx_results {
    std::vector<hit> hits;     /* the page, in rank order */
    uint64_t estimate = 0;     /* get_matches_estimated() */
    bool partial = false;      /* the time limit was reached */
    bool scan_cut = false;     /* sdx_results_scan_cut */
    double scan_floor = 0;     /* its *floor: a weight */
    std::string corrected;     /* spelling correction, "" when none */
    std::vector<facet> facets; /* one per spec facet slot */
    bool facets_exact = false; /* the spies saw every match */
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

/*
 * The filters of SPEC with EXCLUDE equal to EXCLUDE as one query: AND of
 * groups, OR within a group (the caller ANDs or AND_NOTs it).
 */
Xapian::Query
filter_query(const sdx_search_spec_t *spec, bool exclude)
{
    Xapian::Query all;
    for (size_t i = 0; i < spec->nfilters; i++) {
        const sdx_filter_t *f = &spec->filters[i];
        if (f->nterms == 0 || f->exclude != exclude)
            continue;
        std::vector<Xapian::Query> any;
        for (size_t j = 0; j < f->nterms; j++)
            any.emplace_back(f->terms[j]);
        Xapian::Query group(Xapian::Query::OP_OR, any.begin(), any.end());
        /* excluded: a document with any term of any group goes */
        all = all.empty() ? group
                          : Xapian::Query(exclude ? Xapian::Query::OP_OR
                                                  : Xapian::Query::OP_AND,
                                          all, group);
    }
    return all;
}

/*
 * A boolean field whose value is rewritten by a C function before it
 * becomes a term: `row:"Key Resp 06"` -> XRkey-resp-06.  A value the
 * function refuses is a parse error naming the field only (never the
 * value, which is query text).  The error is noted in *ERROR and thrown
 * after parse_query returns: an exception thrown through Xapian's
 * parser from a FieldProcessor leaks the parser's state (72 bytes a
 * time, seen with LeakSanitizer in 1.4.22).
 */
class normalising_field : public Xapian::FieldProcessor {
  public:
    normalising_field(const char *name, const char *prefix,
                      sdx_normalise_fn fn, std::string *error)
        : name_(name), prefix_(prefix), fn_(fn), error_(error)
    {
    }

    Xapian::Query
    operator()(const std::string &value) override
    {
        char buf[256];
        int n = fn_(value.c_str(), buf, sizeof buf);
        if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) {
            if (error_->empty())
                *error_ = name_ + ": the value needs a letter or digit "
                                  "(and at most 200 bytes)";
            /* Query(), not the shared static MatchNothing: its
             * reference count is not atomic (see parse()) */
            return Xapian::Query();
        }
        return Xapian::Query(prefix_ + std::string(buf, n));
    }

  private:
    std::string name_;    /* field name, for the message */
    std::string prefix_;  /* term prefix */
    sdx_normalise_fn fn_; /* value -> term value */
    std::string *error_;  /* where a refused value is noted */
};

/* Bytes of a query word: ASCII letters and digits, UTF-8, ' and -. */
bool
word_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

bool
word_byte(unsigned char c)
{
    return word_start(c) || c == '\'' || c == '-';
}

std::string
lower_ascii(std::string s)
{
    for (char &c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool
is_operator(const std::string &w)
{
    return w == "AND" || w == "OR" || w == "NOT" || w == "XOR" ||
           w == "NEAR" || w == "ADJ";
}

/* TEXT lower-cased with '-' as a space: what the parser sees in it. */
std::string
same_words(const std::string &text)
{
    std::string s = lower_ascii(text);
    for (char &c : s)
        if (c == '-')
            c = ' ';
    return s;
}

/*
 * TEXT as it goes into a rewritten query: several words are a phrase
 * ("root cause analysis"); one word stays bare, so it is stemmed like
 * any other, unless it is a stop word ("IT"), which a phrase keeps.
 */
std::string
as_term(const sdx_db_t *db, const std::string &text)
{
    bool one_word = text.find(' ') == std::string::npos;
    if (one_word && !db->stopper(lower_ascii(text)))
        return text;
    return '"' + text + '"';
}

/* One word of a query, for the synonym rewrite. */
struct qword {
    size_t begin, end;    /* byte offsets in the query */
    bool blocked;         /* may not be part of a synonym key */
};

/*
 * SPEC's query with synonym keys expanded (see sdx_db_search in the
 * header): words are found outside quotes; a word is left alone when it
 * is an operator, a field name or value (next to ':'), a wildcard
 * (followed by '*'), a +/- term, or next to NEAR/ADJ.
 */
std::string
expand_synonyms(const sdx_db_t *db, const std::string &q)
{
    if (db->synonyms.empty())
        return q;
    std::vector<qword> words;
    bool quoted = false;
    for (size_t i = 0; i < q.size();) {
        unsigned char c = static_cast<unsigned char>(q[i]);
        if (c == '"') {
            quoted = !quoted;
            i++;
            continue;
        }
        if (quoted || !word_start(c)) {
            i++;
            continue;
        }
        size_t b = i;
        while (i < q.size() && word_byte(static_cast<unsigned char>(q[i])))
            i++;
        size_t e = i;
        while (e > b && (q[e - 1] == '-' || q[e - 1] == '\''))
            e--;
        char before = b > 0 ? q[b - 1] : ' ';
        char after = e < q.size() ? q[e] : ' ';
        bool blocked = before == ':' || before == '+' || before == '-' ||
                       after == ':' || after == '*' ||
                       is_operator(q.substr(b, e - b));
        words.push_back(qword{b, e, blocked});
    }
    /* NEAR and ADJ take single terms: their neighbours stay words. */
    for (size_t i = 0; i < words.size(); i++) {
        std::string w = q.substr(words[i].begin,
                                 words[i].end - words[i].begin);
        if (w != "NEAR" && w != "ADJ")
            continue;
        if (i > 0)
            words[i - 1].blocked = true;
        if (i + 1 < words.size())
            words[i + 1].blocked = true;
    }

    std::string out;
    size_t copied = 0;
    for (size_t i = 0; i < words.size();) {
        /* the longest run of words from I that is a key */
        size_t found = 0;
        const std::vector<std::string> *syns = nullptr;
        size_t run = 0;
        while (run < db->synonym_words && i + run < words.size() &&
               !words[i + run].blocked &&
               (run == 0 ||
                q.find_first_not_of(" \t", words[i + run - 1].end) ==
                    words[i + run].begin))
            run++;
        for (size_t n = run; n > 0 && !syns; n--) {
            std::string typed;
            for (size_t k = i; k < i + n; k++) {
                if (k > i)
                    typed += ' ';
                typed += q.substr(words[k].begin,
                                  words[k].end - words[k].begin);
            }
            auto it = db->synonyms.find(typed);
            if (it == db->synonyms.end())
                it = db->synonyms.find(lower_ascii(typed));
            if (it != db->synonyms.end()) {
                syns = &it->second;
                found = n;
            }
        }
        if (!syns) {
            i++;
            continue;
        }
        size_t b = words[i].begin, e = words[i + found - 1].end;
        out.append(q, copied, b - copied);
        const std::string typed = q.substr(b, e - b);
        /* Several words as typed match each on their own and, as a
         * phrase, on a par with the synonyms' phrases. */
        out += '(';
        out += found == 1 ? as_term(db, typed)
                          : typed + " OR \"" + typed + '"';
        /* A variant that tokenises like one already there ("end-user"
         * beside "end user") would only count the same match twice. */
        std::vector<std::string> seen{same_words(typed)};
        for (const std::string &syn : *syns) {
            std::string norm = same_words(syn);
            bool dup = false;
            for (const std::string &x : seen)
                dup = dup || x == norm;
            if (dup)
                continue;
            seen.push_back(norm);
            out += " OR " + as_term(db, syn);
        }
        out += ')';
        copied = e;
        i += found;
    }
    out.append(q, copied, std::string::npos);
    return out;
}

/* Read DB's synonym table into its cache. */
void
load_synonyms(sdx_db_t *db)
{
    db->synonyms.clear();
    db->synonym_words = 0;
    size_t nkeys = 0;
    for (Xapian::TermIterator k = db->db.synonym_keys_begin();
         k != db->db.synonym_keys_end() && nkeys < SYNONYM_KEYS_MAX;
         ++k, nkeys++) {
        const std::string key = *k;
        size_t words = 1;
        for (char c : key)
            words += c == ' ';
        if (words > SYNONYM_WORDS_MAX)
            continue;
        std::vector<std::string> &syns = db->synonyms[key];
        for (Xapian::TermIterator s = db->db.synonyms_begin(key);
             s != db->db.synonyms_end(key); ++s)
            syns.push_back(*s);
        if (words > db->synonym_words)
            db->synonym_words = words;
    }
}

/* A query parser set up with DB's and SPEC's settings. */
void
setup_parser(sdx_db_t *db, const sdx_search_spec_t *spec,
             Xapian::QueryParser &qp, std::string *field_error)
{
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
        if (f->boolean && f->normalise)
            qp.add_boolean_prefix(
                f->name,
                (new normalising_field(f->name, f->prefix, f->normalise,
                                       field_error))
                    ->release());
        else if (f->boolean)
            qp.add_boolean_prefix(f->name, f->prefix);
        else
            qp.add_prefix(f->name, f->prefix);
    }
}

/* Parser flags: operators in capitals only (no BOOLEAN_ANY_CASE). */
const unsigned PARSE_FLAGS = Xapian::QueryParser::FLAG_BOOLEAN |
                             Xapian::QueryParser::FLAG_PHRASE |
                             Xapian::QueryParser::FLAG_LOVEHATE |
                             Xapian::QueryParser::FLAG_WILDCARD |
                             Xapian::QueryParser::FLAG_PURE_NOT;

/*
 * Parse SPEC's query with DB's settings; "" or blank matches all.  When
 * TERMS is not NULL it gets the query's terms (the bound's count walks
 * them anyway; the highlighter needs them).
 */
Xapian::Query
parse(sdx_db_t *db, const sdx_search_spec_t *spec,
      std::vector<std::string> *terms)
{
    /* Not Query::MatchAll: that is one static object, and Xapian 1.4's
     * reference counts are not atomic, so copying it in several worker
     * threads at once corrupts it (a crash under concurrent ladders).
     * The empty term is the same query, built afresh per call. */
    if (blank(spec->query))
        return Xapian::Query(std::string());
    std::string field_error;
    Xapian::QueryParser qp;
    setup_parser(db, spec, qp, &field_error);
    std::string text = spec->query;
    if (spec->synonyms)
        text = expand_synonyms(db, text);
    Xapian::Query q = qp.parse_query(text, PARSE_FLAGS);
    if (!field_error.empty())
        throw Xapian::QueryParserError(field_error);
    unsigned max_terms = spec->max_terms ? spec->max_terms
                                         : DEFAULT_MAX_TERMS;
    size_t nterms = 0;
    for (Xapian::TermIterator t = q.get_terms_begin();
         t != q.get_terms_end(); ++t) {
        if (++nterms > max_terms)
            throw Xapian::QueryParserError(
                "too many terms (at most " + std::to_string(max_terms) +
                ", synonyms included)");
        if (terms)
            terms->push_back(*t);
    }
    return q;
}

/* Bytes of a word for spelling: ASCII letters and digits, UTF-8. */
bool
spell_byte(unsigned char c)
{
    return word_start(c);
}

/*
 * The spelling correction of SPEC's query, or "" when none: each word
 * the index does not hold (outside field names and values, wildcards,
 * operators and stop words) replaced by the nearest word of the spelling
 * table, the rest of the text kept as typed.  Not Xapian's
 * FLAG_SPELLING_CORRECTION: that also "corrects" words the index does
 * hold when a more frequent one is near (root -> not), which turns a
 * query that found nothing because of its filters into nonsense.
 */
std::string
correction(sdx_db_t *db, const sdx_search_spec_t *spec)
{
    if (blank(spec->query))
        return std::string();
    const std::string q = spec->query;
    std::string out;
    size_t copied = 0;
    bool changed = false;
    for (size_t i = 0; i < q.size();) {
        unsigned char c = static_cast<unsigned char>(q[i]);
        if (c == ':') { /* a field value: to the next blank or ')' */
            i++;
            if (i < q.size() && q[i] == '"') {
                size_t close = q.find('"', i + 1);
                i = close == std::string::npos ? q.size() : close + 1;
            }
            while (i < q.size() && !strchr(" \t)", q[i]))
                i++;
            continue;
        }
        if (!spell_byte(c)) {
            i++;
            continue;
        }
        size_t b = i;
        while (i < q.size() && spell_byte(static_cast<unsigned char>(q[i])))
            i++;
        const std::string word = q.substr(b, i - b);
        const std::string lower = lower_ascii(word);
        if ((i < q.size() && (q[i] == ':' || q[i] == '*')) ||
            is_operator(word) ||
            word.find_first_not_of("0123456789") == std::string::npos ||
            db->stopper(lower) || db->synonyms.count(lower) ||
            db->synonyms.count(word) || db->db.term_exists(lower))
            continue;
        std::string fix = db->db.get_spelling_suggestion(lower, 2);
        if (fix.empty() || fix == lower)
            continue;
        out.append(q, copied, b - copied);
        out += fix;
        copied = i;
        changed = true;
    }
    if (!changed)
        return std::string();
    out.append(q, copied, std::string::npos);
    return out;
}

/* Byte classes for the highlighter, one table lookup a byte (most of
 * the work of a snippet is walking its text). */
enum : unsigned char {
    ASCII_WORD = 1,  /* an ASCII letter or digit */
    ESCAPED = 2,     /* & < >: HTML-escaped */
    HIGH = 4,        /* a byte of a non-ASCII character */
};
struct byte_classes {
    unsigned char c[256]; /* ASCII_WORD, ESCAPED, HIGH or 0, by byte */
};
constexpr byte_classes
make_byte_classes()
{
    byte_classes t{};
    for (int i = 0; i < 256; i++)
        t.c[i] = static_cast<unsigned char>(
            ((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') ||
             (i >= '0' && i <= '9')) ? ASCII_WORD
            : (i == '&' || i == '<' || i == '>') ? ESCAPED
            : i >= 0x80 ? HIGH : 0);
    return t;
}
constexpr byte_classes BYTE_CLASSES = make_byte_classes();

/*
 * Snippets, made here rather than by MSet::snippet().  Xapian's snippet
 * tokenises and stems every word of the text and, with the background
 * model, looks up term statistics for each; on short clauses that cost
 * five times the search itself (docs/BENCH.md).  A clause is short and
 * our question is simpler: which words of this text did the query ask
 * for?  So a highlighter is built once per search from the parsed
 * query's terms (unstemmed ones as they are, "Z" stems without the Z)
 * and the wildcard patterns of the query text; each hit's text is
 * scanned once, and a word is stemmed only when its first byte and
 * prefix make a stem match possible (the handle keeps the stems it
 * made, sdx_db.stems).  Runs of matched words separated by blanks are marked as one
 * (a phrase is highlighted whole).  A text longer than the snippet
 * length is cut at word boundaries around the window holding most
 * matches, with an ellipsis where cut.  The output is HTML-escaped (&,
 * <, >) as MSet::snippet's is.
 */
class highlighter {
  public:
    /* TERMS: the parsed query's terms (as parse() collects them,
     * duplicates allowed); TEXT: the query as typed, for wildcards. */
    highlighter(sdx_db_t *db, const std::vector<std::string> &terms,
                const char *text)
        : db_(db)
    {
        for (const std::string &term : terms) {
            if (term.empty())
                continue;
            unsigned char c0 = static_cast<unsigned char>(term[0]);
            if (c0 == 'Z' && term.size() > 1) {
                add_first(term[1]);
                stems_.push_back(term.substr(1));
            } else if (!(c0 >= 'A' && c0 <= 'Z')) {
                /* capitals start a prefixed (filter) term */
                add_first(term[0]);
                words_.push_back(term);
            }
        }
        find_wildcards(text ? text : "");
        tokens_.reserve(TOKENS_RESERVED);
        matched_.reserve(TOKENS_RESERVED);
    }

    /* TEXT (N bytes) with the matched words marked, cut to about CHARS
     * bytes. */
    std::string run(const char *text, size_t n, size_t chars,
                    const char *open, const char *close)
    {
        tokens_.clear();
        escaped_ = false;
        tokenise(text, n);
        size_t ws = 0, we = n;
        if (n > chars)
            choose_window(n, chars, &ws, &we);
        std::string out;
        out.reserve(we - ws + 64);
        if (ws > 0)
            out += SNIPPET_OMIT;
        /* Text is copied a run at a time: only where a mark opens or
         * closes (a word holds nothing to escape). */
        size_t pos = ws;
        bool marked = false;
        for (const token &t : tokens_) {
            if (t.b < ws)
                continue;
            if (t.e > we)
                break;
            if (!t.match) {
                if (marked)
                    out += close;
                marked = false;
                continue;
            }
            if (!(marked && blank_only(text, pos, t.b))) {
                if (marked)
                    out += close;
                escape(text, pos, t.b, &out);
                out += open;
            } else {
                out.append(text + pos, t.b - pos);
            }
            marked = true;
            out.append(text + t.b, t.e - t.b);
            pos = t.e;
        }
        if (marked)
            out += close;
        escape(text, pos, we, &out);
        if (we < n)
            out += SNIPPET_OMIT;
        return out;
    }

  private:
    struct token {
        size_t b, e;   /* the word's bytes in the text */
        bool match;    /* one the query asked for */
    };

    static const size_t TOKENS_RESERVED = 128; /* words of a text held
                                                  without a regrowth */
    sdx_db_t *db_;                    /* its stemmer and stem cache */
    std::vector<std::string> words_;  /* unstemmed terms, lower case */
    std::vector<std::string> stems_;  /* stems of the "Z" terms */
    std::vector<std::string> wild_;   /* wildcard prefixes, lower case */
    bool first_[256] = {};            /* bytes a matching word starts
                                         with */
    std::vector<token> tokens_;        /* words of the text being cut */
    std::vector<size_t> matched_;      /* choose_window's: indexes of
                                          matched tokens */
    std::string word_;                 /* the word being looked up */
    bool escaped_ = false;             /* the text holds & < or >
                                          (words never do) */

    void add_first(char c)
    {
        unsigned char u = static_cast<unsigned char>(c);
        first_[u] = true;
        if (u >= 0x80) /* any non-ASCII word is a candidate */
            for (int i = 0x80; i < 256; i++)
                first_[i] = true;
    }

    /* The `word*` patterns of the query text (not field values). */
    void find_wildcards(const std::string &q)
    {
        for (size_t i = 0; i < q.size(); i++) {
            if (q[i] != '*' || i == 0)
                continue;
            size_t b = i;
            while (b > 0 && word_start(static_cast<unsigned char>(q[b - 1])))
                b--;
            if (b == i || (b > 0 && q[b - 1] == ':'))
                continue;
            std::string p = lower(q.substr(b, i - b));
            add_first(p[0]);
            wild_.push_back(p);
        }
    }

    static std::string lower(const std::string &s)
    {
        for (unsigned char c : s)
            if (c >= 0x80)
                return Xapian::Unicode::tolower(s);
        return lower_ascii(s);
    }

    /* Is the word TEXT[B..E) one the query asked for?  Exact words and
     * wildcards are a few compares; only a word that may stem to a
     * query stem is stemmed, once per handle (sdx_db.stems). */
    bool matches(const char *text, size_t b, size_t e)
    {
        if (!first_[static_cast<unsigned char>(lower_byte(text[b]))])
            return false;
        if (plain_miss(text + b, e - b))
            return false;
        /* the word in lower case, in a buffer kept across words */
        std::string &w = word_;
        w.assign(text + b, e - b);
        bool ascii = true;
        for (char &c : w) {
            if (static_cast<unsigned char>(c) >= 0x80)
                ascii = false;
            c = lower_byte(c);
        }
        if (!ascii)
            w = Xapian::Unicode::tolower(w);
        for (const std::string &t : words_)
            if (t == w)
                return true;
        for (const std::string &p : wild_)
            if (w.compare(0, p.size(), p) == 0)
                return true;
        /* English stems keep all but the word's last letters; a word
         * not sharing a stem's first letters cannot stem to it, and
         * most words are not stemmed at all. */
        bool maybe = false;
        for (const std::string &s : stems_) {
            size_t k = s.size() > 3 ? s.size() - 2 : 1;
            if (w.compare(0, k, s, 0, k) == 0) {
                maybe = true;
                break;
            }
        }
        if (!maybe)
            return false;
        const std::string &st = stem_of(w);
        for (const std::string &s : stems_)
            if (s == st)
                return true;
        return false;
    }

    /* W's English stem, from the handle's cache when it is there. */
    const std::string &stem_of(const std::string &w)
    {
        auto c = db_->stems.find(w);
        if (c != db_->stems.end())
            return c->second;
        if (db_->stems.size() >= STEM_CACHE_MAX)
            db_->stems.clear();
        return db_->stems.emplace(w, db_->stem(w)).first->second;
    }

    /* True when the word W (LEN bytes) is ASCII and certainly no
     * match: no query word or wildcard, and too different from every
     * stem to stem to it.  Decided in place, without copying the word
     * (most candidates only share a first letter with a query term). */
    bool plain_miss(const char *w, size_t len) const
    {
        for (size_t i = 0; i < len; i++)
            if (static_cast<unsigned char>(w[i]) >= 0x80)
                return false;
        for (const std::string &t : words_)
            if (t.size() == len && same_lower(w, t.data(), len))
                return false;
        for (const std::string &p : wild_)
            if (p.size() <= len && same_lower(w, p.data(), p.size()))
                return false;
        for (const std::string &st : stems_) {
            size_t k = st.size() > 3 ? st.size() - 2 : 1;
            if (k <= len && same_lower(w, st.data(), k))
                return false;
        }
        return true;
    }

    /* W's first N bytes, lower-cased, equal LOWER's. */
    static bool same_lower(const char *w, const char *lower, size_t n)
    {
        for (size_t i = 0; i < n; i++)
            if (lower_byte(w[i]) != lower[i])
                return false;
        return true;
    }

    static char lower_byte(char c)
    {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }

    static bool ascii_word(unsigned char c)
    {
        return BYTE_CLASSES.c[c] & ASCII_WORD;
    }

    /* Bytes of the code point at TEXT[I] (N bytes in all; 1 for ASCII
     * or a bad byte), and whether it is a word character as Xapian's
     * tokeniser sees it. */
    static size_t char_at(const char *text, size_t n, size_t i, bool *word)
    {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            *word = ascii_word(c);
            return 1;
        }
        /* UTF-8 decoded here (the text is valid UTF-8: the indexer
         * checked it); a bad sequence is one non-word byte */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        unsigned ch = len == 4 ? c & 0x07u : len == 3 ? c & 0x0fu : c & 0x1fu;
        if (len == 1 || len > n - i) {
            *word = false;
            return 1;
        }
        for (size_t k = 1; k < len; k++) {
            unsigned char cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) {
                *word = false;
                return 1;
            }
            ch = (ch << 6) | (cc & 0x3fu);
        }
        *word = Xapian::Unicode::is_wordchar(ch);
        return len;
    }

    /* Split TEXT (N bytes) into words (a letter run, with an apostrophe
     * between letters kept, as in "manager's").  ASCII letters and
     * digits, nearly all of a clause, are taken a run at a time. */
    void tokenise(const char *text, size_t n)
    {
        const unsigned char *cls = BYTE_CLASSES.c;
        size_t i = 0;
        while (i < n) {
            /* blanks and punctuation, a run at a time */
            while (i < n && !cls[static_cast<unsigned char>(text[i])])
                i++;
            if (i == n)
                break;
            bool word;
            size_t len = char_at(text, n, i, &word);
            if (!word) {
                escaped_ = escaped_ ||
                           BYTE_CLASSES.c[static_cast<unsigned char>(
                               text[i])] & ESCAPED;
                i += len;
                continue;
            }
            size_t b = i;
            i += len;
            const unsigned char *u =
                reinterpret_cast<const unsigned char *>(text);
            while (i < n) {
                while (i < n && ascii_word(u[i]))
                    i++;
                if (i == n)
                    break;
                /* an ASCII blank or mark other than ' ends the word */
                if (u[i] < 0x80 && u[i] != '\'')
                    break;
                len = char_at(text, n, i, &word);
                if (word) {
                    i += len;
                    continue;
                }
                /* ' or U+2019 between two word characters */
                size_t ap = text[i] == '\'' ? 1
                          : text[i] == '\xe2' && n - i >= 3 &&
                                    memcmp(text + i, "\xe2\x80\x99", 3) == 0
                              ? 3 : 0;
                bool next = false;
                if (ap && i + ap < n)
                    char_at(text, n, i + ap, &next);
                if (!next)
                    break;
                i += ap;
            }
            tokens_.push_back({b, i, matches(text, b, i)});
        }
    }

    static bool blank_only(const char *text, size_t b, size_t e)
    {
        for (size_t i = b; i < e; i++)
            if (text[i] != ' ')
                return false;
        return true;
    }

    void escape(const char *text, size_t b, size_t e,
                std::string *out) const
    {
        if (!escaped_) {
            out->append(text + b, e - b);
            return;
        }
        const unsigned char *cls = BYTE_CLASSES.c;
        size_t run = b;
        for (size_t i = b; i < e; i++) {
            char c = text[i];
            if (!(cls[static_cast<unsigned char>(c)] & ESCAPED))
                continue;
            out->append(text + run, i - run);
            *out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;";
            run = i + 1;
        }
        out->append(text + run, e - run);
    }

    /* The window of at most CHARS bytes of the text (N bytes) holding
     * the most matched words (the earliest such), with some text before
     * the first of them, cut at word boundaries. */
    void choose_window(size_t n, size_t chars, size_t *ws, size_t *we)
    {
        std::vector<size_t> &m = matched_;
        m.clear();
        for (size_t i = 0; i < tokens_.size(); i++)
            if (tokens_[i].match)
                m.push_back(i);
        size_t start = 0, span = 0;
        if (!m.empty()) {
            size_t best = 0, best_n = 0, j = 0;
            for (size_t i = 0; i < m.size(); i++) {
                if (j < i)
                    j = i;
                while (j + 1 < m.size() &&
                       tokens_[m[j + 1]].e - tokens_[m[i]].b <= chars)
                    j++;
                if (j - i + 1 > best_n) {
                    best_n = j - i + 1;
                    best = i;
                }
            }
            const token &first = tokens_[m[best]];
            const token &last = tokens_[m[best + best_n - 1]];
            start = first.b;
            span = last.e - first.b;
            /* context before the matches: up to half of what is left */
            size_t lead = span < chars ? (chars - span) / 2 : 0;
            if (lead > start)
                lead = start;
            size_t s = start - lead;
            /* begin at a word: the first one starting at or after S */
            for (const token &t : tokens_)
                if (t.b >= s) {
                    s = t.b;
                    break;
                }
            start = s < start ? s : start;
        }
        size_t end = start + chars;
        if (end >= n) {
            end = n;
        } else {
            /* end after the last word that fits whole */
            size_t fit = start;
            for (const token &t : tokens_)
                if (t.b >= start && t.e <= end)
                    fit = t.e;
            end = fit > start ? fit : end;
        }
        *ws = start;
        *we = end;
    }
};

/* One search attempt; throws what Xapian throws. */
void
run_search(sdx_db_t *db, const sdx_search_spec_t *spec, sdx_results_t *r)
{
    bool own_snippets = spec->snippets && !spec->xapian_snippets;
    std::vector<std::string> terms;
    Xapian::Query query = parse(db, spec, own_snippets ? &terms : nullptr);
    std::unique_ptr<highlighter> hl;
    if (own_snippets)
        hl.reset(new highlighter(db, terms, spec->query));
    Xapian::Query filter = filter_query(spec, false);
    if (!filter.empty())
        query = Xapian::Query(Xapian::Query::OP_FILTER, query, filter);
    Xapian::Query unwanted = filter_query(spec, true);
    if (!unwanted.empty())
        query = Xapian::Query(Xapian::Query::OP_AND_NOT, query, unwanted);

    Xapian::Enquire enquire(db->db);
    enquire.set_query(query);
    /* Equal scores in document order: the same query gives the same
     * ranking every time, so offset/limit pages neither skip nor
     * repeat a hit. */
    enquire.set_docid_order(Xapian::Enquire::ASCENDING);
    /* The limit arms a POSIX timer per search (three system calls, 5 %
     * of a search on a small index); a database that small is matched
     * in far less than any limit, so it goes without. */
    bool time_limited = spec->time_limit_s > 0 &&
                        db->db.get_doccount() > TIME_LIMIT_MIN_DOCS;
    if (time_limited)
        enquire.set_time_limit(spec->time_limit_s);
    /* Xapian's collapse never raises its weight floor once every key
     * has a hit (a better hit for a key replaces one in place, and the
     * floor moves only when the full page takes a new entry), so with
     * a few keys it weighs and collapses every match; the scan reads
     * COLLAPSE_SCAN matches with the usual pruning instead. */
    bool scan = spec->collapse && spec->collapse_scan > 0;
    if (spec->collapse && !scan)
        enquire.set_collapse_key(spec->key_slot);
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    for (size_t i = 0; i < spec->nfacets; i++) {
        spies.emplace_back(new Xapian::ValueCountMatchSpy(
            spec->facet_slots[i]));
        enquire.add_matchspy(spies.back().get());
    }
    unsigned limit = spec->limit ? spec->limit : DEFAULT_LIMIT;
    auto start = std::chrono::steady_clock::now();
    Xapian::MSet mset = scan ? enquire.get_mset(0, spec->collapse_scan,
                                                spec->check_at_least)
                             : enquire.get_mset(spec->offset, limit,
                                                spec->check_at_least);
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    /* Xapian does not say whether its time limit fired; having spent
     * that long in the match is the sign that it did. */
    r->partial = time_limited && took.count() >= spec->time_limit_s;

    const char *open = spec->hl_open && *spec->hl_open ? spec->hl_open
                                                       : DEFAULT_HL_OPEN;
    const char *close = spec->hl_close && *spec->hl_close ? spec->hl_close
                                                          : DEFAULT_HL_CLOSE;
    size_t chars = spec->snippet_chars ? spec->snippet_chars
                                       : DEFAULT_SNIPPET_CHARS;
    /* One hit of the page from the match at IT (its key already read
     * into KEY when the caller needed it). */
    auto make_hit = [&](const Xapian::MSetIterator &it,
                        const Xapian::Document &doc, std::string key) {
        hit h;
        if (spec->data_in_slot)
            h.data = doc.get_value(spec->data_slot);
        if (h.data.empty())
            h.data = doc.get_data();
        h.score = it.get_weight();
        h.percent = it.get_percent();
        h.collapsed = spec->collapse && !scan ? it.get_collapse_count() : 0;
        h.key = std::move(key);
        if (spec->snippets && (spec->xapian_snippets || hl)) {
            /* the text from the record in place, else its own slot */
            const char *p = nullptr;
            size_t n = 0;
            std::string text;
            if (!spec->snippet_text ||
                !spec->snippet_text(h.data.data(), h.data.size(), &p, &n)) {
                text = doc.get_value(spec->snippet_slot);
                p = text.data();
                n = text.size();
            }
            if (spec->xapian_snippets)
                h.snippet = mset.snippet(
                    std::string(p, n), chars, db->stem,
                    Xapian::MSet::SNIPPET_BACKGROUND_MODEL |
                        Xapian::MSet::SNIPPET_EXHAUSTIVE,
                    open, close, SNIPPET_OMIT);
            else
                h.snippet = hl->run(p, n, chars, open, close);
        }
        return h;
    };
    r->hits.clear();
    r->scan_cut = false;
    r->scan_floor = 0;
    if (scan) {
        /* each key's first match, in rank order: the key's best */
        std::unordered_map<std::string, size_t> seen; /* key -> index
                                                         in hits, or
                                                         SIZE_MAX when
                                                         before OFFSET */
        size_t keys_met = 0;
        for (Xapian::MSetIterator it = mset.begin();
             it != mset.end() && r->hits.size() < limit; ++it) {
            Xapian::Document doc = it.get_document();
            std::string key = doc.get_value(spec->key_slot);
            auto k = seen.find(key);
            if (k != seen.end()) {
                if (k->second != SIZE_MAX)
                    r->hits[k->second].collapsed++;
                continue;
            }
            if (keys_met++ < spec->offset) {
                seen.emplace(std::move(key), SIZE_MAX);
                continue;
            }
            seen.emplace(key, r->hits.size());
            r->hits.push_back(make_hit(it, doc, std::move(key)));
        }
        if (r->hits.size() < limit && mset.size() >= spec->collapse_scan &&
            mset.get_matches_upper_bound() > mset.size()) {
            r->scan_cut = true;
            r->scan_floor = mset[mset.size() - 1].get_weight();
        }
    } else {
        r->hits.reserve(mset.size());
        for (Xapian::MSetIterator it = mset.begin(); it != mset.end();
             ++it) {
            Xapian::Document doc = it.get_document();
            std::string key;
            if (spec->keys || spec->collapse)
                key = doc.get_value(spec->key_slot);
            r->hits.push_back(make_hit(it, doc, std::move(key)));
        }
    }
    r->estimate = mset.get_matches_estimated();

    r->facets.clear();
    Xapian::doccount lower = mset.get_uncollapsed_matches_lower_bound();
    r->facets_exact = !r->partial &&
                      lower == mset.get_uncollapsed_matches_upper_bound();
    for (const auto &spy : spies) {
        facet f;
        for (Xapian::TermIterator v = spy->values_begin();
             v != spy->values_end(); ++v)
            f.emplace_back(*v, v.get_termfreq());
        r->facets.push_back(std::move(f));
        if (spy->get_total() != lower)
            r->facets_exact = false;
    }

    r->corrected.clear();
    if (spec->correct && mset.empty() && r->estimate == 0)
        r->corrected = correction(db, spec);
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
        if (d.empty())
            d = doc.get_data();
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
    const hit &h = r->hits[i];
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
