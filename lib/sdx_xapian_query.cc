/*
 * sdx_xapian_query: the query side of the shim (sdx_xapian_private.h):
 * a query string to a Xapian::Query (the parser's settings, fields
 * rewritten by a C normaliser, synonyms expanded by rewriting the
 * string, stop words), spelling correction, and one search attempt
 * (run_search: filters, collapse or the collapse scan, facets, each
 * hit's record, key and snippet).  Everything here throws what Xapian
 * throws; the boundary (sdx_xapian.cc) catches and classifies it.
 *
 * Searching: English stemming (STEM_SOME) on both sides, a small English
 * stop list at query time only (the index keeps every word, so phrases
 * with "of" still match), default operator OR, boolean operators in
 * capitals only, wildcard expansion capped to the most frequent terms
 * instead of failing.
 *
 * Synonyms are expanded here, by rewriting the query string before it
 * is parsed, not by Xapian's FLAG_AUTO_SYNONYMS: Xapian looks a
 * multi-word synonym ("root cause analysis") up as one term, which
 * matches nothing.  The rewrite turns each key found in the query into
 * a bracketed OR of phrases, so the parser builds real phrase queries
 * and the rest of the query keeps its meaning.  The table is read once
 * per handle (it is small: one entry per word of corpus/synonyms.txt).
 */
#include "sdx_xapian_private.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace sdx_x {

namespace {

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

/* True when Q holds an OP_WILDCARD Xapian would expand shard by shard. */
bool
has_wildcard(const Xapian::Query &q)
{
    if (q.get_type() == Xapian::Query::OP_WILDCARD)
        return true;
    for (size_t i = 0; i < q.get_num_subqueries(); i++)
        if (has_wildcard(q.get_subquery(i)))
            return true;
    return false;
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

} /* namespace */

/* Read DB's synonym table into its cache. */
void
load_synonyms(sdx_db_t *db)
{
    db->synonyms.clear();
    db->synonym_words = 0;
    size_t nkeys = 0;
    for (Xapian::TermIterator k = db->words.synonym_keys_begin();
         k != db->words.synonym_keys_end() && nkeys < SYNONYM_KEYS_MAX;
         ++k, nkeys++) {
        const std::string key = *k;
        size_t words = 1;
        for (char c : key)
            words += c == ' ';
        if (words > SYNONYM_WORDS_MAX)
            continue;
        std::vector<std::string> &syns = db->synonyms[key];
        for (Xapian::TermIterator s = db->words.synonyms_begin(key);
             s != db->words.synonyms_end(key); ++s)
            syns.push_back(*s);
        if (words > db->synonym_words)
            db->synonym_words = words;
    }
}

namespace {

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
    /* Xapian expands a wildcard in each shard on its own and weighs
     * the OP_SYNONYM it makes with that shard's statistics (so does an
     * explicit OP_SYNONYM of the same terms): over shards a wildcard
     * ranks otherwise than in one index.  Refused, never a different
     * ranking in silence. */
    if (db->sharded && has_wildcard(q))
        throw Xapian::QueryParserError(
            "wildcards are not served by an index of shards (Xapian "
            "weighs them shard by shard, which ranks otherwise than one "
            "index): spell the words out");
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

} /* namespace */

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
        std::string fix = db->words.get_spelling_suggestion(lower, 2);
        /* The spelling table holds every word of the texts, stop words
         * too: "fro" would become "for", a correction that searches
         * for nothing ("Did you mean: for"). */
        if (fix.empty() || fix == lower || db->stopper(fix))
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

/* One search attempt; throws what Xapian throws. */
void
run_search(sdx_db_t *db, const sdx_search_spec_t *spec, sdx_results_t *r)
{
    bool own_snippets = spec->snippets && !db->xapian_snippets;
    std::vector<std::string> terms;
    Xapian::Query query = parse(db, spec, own_snippets ? &terms : nullptr);
    highlighter_ptr hl;
    if (own_snippets)
        hl = make_highlighter(db, terms, spec->query);
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
    /* An updated index holds documents out of corpus order: its order
     * key puts equal scores back in it (sdx_db_set_tie_slot). */
    if (db->tie_slot >= 0)
        enquire.set_sort_by_relevance_then_value(
            static_cast<Xapian::valueno>(db->tie_slot), false);
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
        h.data = doc.get_value(spec->data_slot);
        h.score = it.get_weight();
        h.percent = it.get_percent();
        h.collapsed = spec->collapse && !scan ? it.get_collapse_count() : 0;
        h.key = std::move(key);
        if (spec->snippets && (db->xapian_snippets || hl)) {
            /* the text where it lies in the data, not copied */
            const char *p = h.data.data();
            size_t n = h.data.size();
            if (spec->snippet_text &&
                !spec->snippet_text(h.data.data(), h.data.size(), &p, &n)) {
                p = "";
                n = 0;
            }
            if (db->xapian_snippets)
                h.snippet = mset.snippet(
                    std::string(p, n), chars, db->stem,
                    Xapian::MSet::SNIPPET_BACKGROUND_MODEL |
                        Xapian::MSet::SNIPPET_EXHAUSTIVE,
                    open, close, SNIPPET_OMIT);
            else
                h.snippet = highlight(*hl, p, n, chars, open, close);
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

} /* namespace sdx_x */
