/*
 * lucene-bench: the peer a search team would pick.  Lucene++ (Debian's
 * liblucene++-dev, the C++ port of Lucene 3.0; Elasticsearch, Solr and
 * OpenSearch are Lucene) on the same clauses and the same queries as
 * fts5-bench, set up as a Lucene user would: the English Snowball
 * analyzer (Xapian's English stemmer is Snowball's too), the classic
 * QueryParser, Lucene's default (TF-IDF) similarity, the contrib
 * highlighter for the fragments.  The index is optimized after
 * the build (one segment), as a read-mostly Lucene 3 index is deployed;
 * nothing else is tuned.
 *
 *   lucene-bench build --index DIR JSONL...
 *       Add the clause records (JSON Lines, docs/CORPUS.md) to a new
 *       index in DIR, then optimize; prints
 *       "lucene_build,CLAUSES,SECONDS,BYTES".
 *   lucene-bench search --index DIR --queries FILE [--threads N]
 *       [--duration S] [--warmup S] [--no-snippet] [--no-ladder]
 *       [--corpus LABEL] [--header]
 *       Run the query set from N threads, each with its own reader and
 *       searcher, for S seconds; prints the CSV line of bench.h, with
 *       the mean exact matches per search query of the timed part
 *       (Lucene counts every match) in its matches column.
 *   lucene-bench show --index DIR --queries FILE
 *       Each search query once: the query, its top hit's id and
 *       fragment, its number of matches (tab-separated), to check the
 *       translation and the highlighting by eye.
 *
 * Query translation (Xapian syntax -> Lucene's), so both engines answer
 * the same question: Lucene's syntax already means the same for what the
 * query set holds -- "phrases", AND, OR, NOT, a trailing `word*` prefix,
 * and two operands with no operator joined by OR (QueryParser's default
 * operator, and the shim's).  The query text is handed over as it is;
 * what differs is how each engine stems: Xapian matches a bare word by
 * its stem, and a prefix on the unstemmed words; Lucene++ indexes stems
 * only, so a prefix is matched against the stems.  The mean matches per
 * query, against specdex-inproc --matches, shows how near they are.
 * Level and section filters are a QueryWrapperFilter on the untokenized
 * level and section fields: they select, they do not score (Xapian's
 * OP_FILTER).  A ladder is five searches, one per level, top 1, without
 * fragments (the daemon's ladder carries no snippets either).  A search
 * is top 10; every hit's stored fields are read and, unless
 * --no-snippet, its best 240-character fragment made with <mark>
 * markers, HTML-escaped (as the daemon's snippets are).
 *
 * The only C++ besides the Xapian shim, and like it a boundary: every
 * Lucene++ exception is caught in this file and becomes an error line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <exception>
#include <string>
#include <vector>

#include <LuceneHeaders.h>
#include <FileUtils.h>
#include <PerFieldAnalyzerWrapper.h>
#include <Highlighter.h>
#include <QueryScorer.h>
#include <QueryWrapperFilter.h>
#include <SimpleFragmenter.h>
#include <SimpleHTMLEncoder.h>
#include <SimpleHTMLFormatter.h>
#include <SnowballAnalyzer.h>

#include "bench.h"

using namespace Lucene;

#define LINE_MAX_BYTES (1 << 20) /* bytes of one JSON line */
#define NCOLS 10                 /* fields of a clause */
#define FRAGMENT_CHARS 240       /* as the daemon's SNIPPET_CHARS */
#define TOP 10                   /* hits of a search */

/* Fields in record order; text is the only one searched. */
static const char *const cols[NCOLS] = {
    "text", "id", "series", "level", "job_code", "title", "flsa", "row",
    "section", "item"};

/* What an exception says, for the error line. */
static std::string
s_what(const LuceneException &e)
{
    return StringUtils::toUTF8(e.getError());
}

/*
 * The analyzers: "text" stemmed (Snowball's English; Lucene++ names its
 * stemmers in lower case), "raw" the same words unstemmed and without
 * stop words, as Xapian keeps both (STEM_SOME).
 */
static AnalyzerPtr
s_analyzer()
{
    PerFieldAnalyzerWrapperPtr a = newLucene<PerFieldAnalyzerWrapper>(
        newLucene<SnowballAnalyzer>(LuceneVersion::LUCENE_CURRENT,
                                    L"english"));
    a->addAnalyzer(L"raw", newLucene<StandardAnalyzer>(
                               LuceneVersion::LUCENE_CURRENT,
                               HashSet<String>::newInstance()));
    return a;
}

/*
 * QueryParser, with prefixes and phrases matched against the unstemmed
 * words ("raw"), as Xapian's QueryParser does: it expands a wildcard
 * over the words as written ("communicat*" finds nothing among the stems,
 * where "communicate" is "communic"), and a phrase, or a hyphenated
 * word, means those words ("acquires skills" is not "acquire skill").
 * A bare word is matched by its stem in both.
 */
class RawParser : public QueryParser {
public:
    RawParser(const AnalyzerPtr &a)
        : QueryParser(LuceneVersion::LUCENE_CURRENT, L"text", a) {}

protected:
    virtual QueryPtr getFieldQuery(const String &field,
                                   const String &queryText)
    {
        QueryPtr q = QueryParser::getFieldQuery(field, queryText);
        if (field == L"text" &&
            (boost::dynamic_pointer_cast<PhraseQuery>(q) ||
             boost::dynamic_pointer_cast<MultiPhraseQuery>(q)))
            return QueryParser::getFieldQuery(L"raw", queryText);
        return q;
    }

    virtual QueryPtr getPrefixQuery(const String &field,
                                    const String &termStr)
    {
        return QueryParser::getPrefixQuery(field == L"text" ? L"raw" : field,
                                           termStr);
    }
};

/* Bytes of the files in DIR (an index is one flat directory). */
static long long
s_dir_bytes(const char *dir)
{
    long long total = 0;
    HashSet<String> names = HashSet<String>::newInstance();
    String wdir = StringUtils::toUnicode(dir);
    if (!FileUtils::listDirectory(wdir, true, names))
        return -1;
    for (HashSet<String>::iterator it = names.begin(); it != names.end();
         ++it) {
        struct stat st;
        std::string path = std::string(dir) + "/" + StringUtils::toUTF8(*it);
        if (stat(path.c_str(), &st) == 0)
            total += (long long)st.st_size;
    }
    return total;
}

/* ---------------------------------------------------------------- */
/* build                                                            */
/* ---------------------------------------------------------------- */

static int
s_build(const char *dir, char **files, int nfiles)
{
    std::vector<char> line(LINE_MAX_BYTES);
    size_t clauses = 0;
    uint64_t t0 = sdx_now_ns();
    FILE *f = NULL;
    int fi = 0;
    size_t lineno = 0;
    try {
        IndexWriterPtr writer = newLucene<IndexWriter>(
            FSDirectory::open(StringUtils::toUnicode(dir)), s_analyzer(),
            true, IndexWriter::MaxFieldLengthUNLIMITED);
        for (fi = 0; fi < nfiles; fi++) {
            lineno = 0;
            if (!(f = fopen(files[fi], "r"))) {
                fprintf(stderr, "lucene-bench: %s: %s\n", files[fi],
                        strerror(errno));
                writer->rollback();
                return 1;
            }
            while (fgets(line.data(), LINE_MAX_BYTES, f)) {
                const char *vals[NCOLS];
                lineno++;
                if (line[0] == '\n' || line[0] == '\0')
                    continue;
                if (bq_json_line(line.data(), cols, NCOLS, vals)) {
                    fprintf(stderr, "lucene-bench: %s:%zu: not a flat JSON "
                            "object\n", files[fi], lineno);
                    fclose(f);
                    writer->rollback();
                    return 1;
                }
                DocumentPtr doc = newLucene<Document>();
                for (int i = 0; i < NCOLS; i++) {
                    /* text analyzed; level and section untokenized for
                       the filters; the rest only stored */
                    Field::Index how = i == 0 ? Field::INDEX_ANALYZED
                                       : (i == 3 || i == 8)
                                           ? Field::INDEX_NOT_ANALYZED_NO_NORMS
                                           : Field::INDEX_NO;
                    doc->add(newLucene<Field>(
                        StringUtils::toUnicode(cols[i]),
                        StringUtils::toUnicode(vals[i]), Field::STORE_YES,
                        how));
                }
                /* the unstemmed words, for prefixes (not stored) */
                doc->add(newLucene<Field>(L"raw",
                                          StringUtils::toUnicode(vals[0]),
                                          Field::STORE_NO,
                                          Field::INDEX_ANALYZED));
                writer->addDocument(doc);
                clauses++;
            }
            fclose(f);
            f = NULL;
        }
        writer->optimize();
        writer->close();
    } catch (const LuceneException &e) {
        if (f)
            fclose(f);
        fprintf(stderr, "lucene-bench: build: %s%s%s:%zu: %s\n", dir,
                fi < nfiles ? " from " : "", fi < nfiles ? files[fi] : "",
                lineno, s_what(e).c_str());
        return 1;
    } catch (const std::exception &e) {
        if (f)
            fclose(f);
        fprintf(stderr, "lucene-bench: build: %s\n", e.what());
        return 1;
    }
    double secs = (double)(sdx_now_ns() - t0) / 1e9;
    printf("lucene_build,%zu,%.3f,%lld\n", clauses, secs, s_dir_bytes(dir));
    return 0;
}

/* ---------------------------------------------------------------- */
/* search                                                           */
/* ---------------------------------------------------------------- */

/* What the threads share (read-only). */
typedef struct shared {
    const char *dir;          /* the index */
    const bq_set_t *set;      /* the queries */
    bool snippets;            /* make fragments */
    double warmup, duration;  /* seconds */
    unsigned nthreads;        /* threads */
} shared_t;

/* One thread's Lucene++ objects: nothing here is shared. */
struct engine {
    IndexReaderPtr reader;    /* read-only, this thread's */
    SearcherPtr searcher;     /* over READER */
    AnalyzerPtr analyzer;     /* for the parser and the highlighter */
    QueryParserPtr parser;    /* not thread-safe: one each */
    uint64_t matches;         /* total hits of the search queries */
    uint64_t searches;        /* search queries counted in MATCHES */
};

/* SHOULD clauses FIELD:VALUE for each value, as one query. */
static QueryPtr
s_any(const wchar_t *field, const std::vector<String> &values)
{
    BooleanQueryPtr q = newLucene<BooleanQuery>();
    for (const String &v : values)
        q->add(newLucene<TermQuery>(newLucene<Term>(field, v)),
               BooleanClause::SHOULD);
    return q;
}

/* The filter of query Q (LEVEL > 0: that level only), or NULL. */
static FilterPtr
s_filter(const bq_query_t *q, int level)
{
    std::vector<String> levels, sections;
    if (level > 0)
        levels.push_back(StringUtils::toString(level));
    else
        for (size_t i = 0; i < q->nlevels; i++)
            levels.push_back(StringUtils::toString(q->levels[i]));
    for (size_t i = 0; i < q->nsections; i++)
        sections.push_back(StringUtils::toUnicode(q->sections[i]));
    if (levels.empty() && sections.empty())
        return FilterPtr();
    BooleanQueryPtr all = newLucene<BooleanQuery>();
    if (!levels.empty())
        all->add(s_any(L"level", levels), BooleanClause::MUST);
    if (!sections.empty())
        all->add(s_any(L"section", sections), BooleanClause::MUST);
    return newLucene<QueryWrapperFilter>(all);
}

/* Where `show` prints each search's top hit (NULL: not asked). */
static FILE *s_show;

/* One search: top N under FILTER, every hit read, fragments if asked. */
static void
s_search_one(engine &e, const QueryPtr &query, const FilterPtr &filter,
             int n, bool fragments, bool count, const wchar_t *hl_field)
{
    TopDocsPtr top = e.searcher->search(query, filter, n);
    if (count) {
        e.matches += (uint64_t)top->totalHits;
        e.searches++;
    }
    HighlighterPtr hl;
    if (fragments && top->scoreDocs.size() > 0) {
        hl = newLucene<Highlighter>(
            newLucene<SimpleHTMLFormatter>(L"<mark>", L"</mark>"),
            newLucene<SimpleHTMLEncoder>(),
            newLucene<QueryScorer>(query, hl_field));
        hl->setTextFragmenter(newLucene<SimpleFragmenter>(FRAGMENT_CHARS));
    }
    volatile size_t touched = 0;
    for (int32_t i = 0; i < top->scoreDocs.size(); i++) {
        DocumentPtr doc = e.searcher->doc(top->scoreDocs[i]->doc);
        Collection<FieldablePtr> fields = doc->getFields();
        for (Collection<FieldablePtr>::iterator f = fields.begin();
             f != fields.end(); ++f)
            touched += (*f)->stringValue().size();
        if (!hl)
            continue;
        String frag = hl->getBestFragment(e.analyzer, hl_field,
                                          doc->get(L"text"));
        touched += frag.size();
        if (s_show && i == 0)
            fprintf(s_show, "\t%s\t%s", StringUtils::toUTF8(
                        doc->get(L"id")).c_str(),
                    StringUtils::toUTF8(frag).c_str());
    }
    if (s_show && count)
        fprintf(s_show, "\t%d\n", (int)top->totalHits);
}

/* One query of the set: a search, or a ladder of five. */
static void
s_query(engine &e, const shared_t *sh, size_t qi)
{
    const bq_query_t *q = &sh->set->v[qi];
    QueryPtr query = e.parser->parse(StringUtils::toUnicode(q->q));
    if (q->op == BQ_SEARCH) {
        /* The highlighter marks the words of one field's analysis: the
           unstemmed ones for a prefix or a phrase, else the stems.  (A
           query mixing both would have only one kind marked; the set
           has none.) */
        s_search_one(e, query, s_filter(q, 0), TOP, sh->snippets, true,
                     strpbrk(q->q, "*\"-") ? L"raw" : L"text");
        return;
    }
    for (int level = 1; level <= 5; level++)
        s_search_one(e, query, s_filter(q, level), 1, false, false, L"");
}

/*
 * show: each search query once, one line each: the query, the top hit's
 * id and fragment, the number of matches -- to read the translation and
 * the highlighting against the daemon's answers.
 */
static int
s_show_all(const char *dir, const char *queries)
{
    bq_set_t *set = NULL;
    char err[512];
    if (bq_set_load(queries, true, &set, err, sizeof err)) {
        fprintf(stderr, "lucene-bench: %s\n", err);
        return 1;
    }
    shared_t sh = {dir, set, true, 0, 0, 1};
    int rc = 0;
    s_show = stdout;
    try {
        engine e;
        e.reader = IndexReader::open(
            FSDirectory::open(StringUtils::toUnicode(dir)), true);
        e.searcher = newLucene<IndexSearcher>(e.reader);
        e.analyzer = s_analyzer();
        e.parser = newLucene<RawParser>(e.analyzer);
        for (size_t i = 0; i < set->n; i++) {
            printf("%s", set->v[i].q);
            s_query(e, &sh, i);
        }
    } catch (const LuceneException &ex) {
        fprintf(stderr, "lucene-bench: %s\n", s_what(ex).c_str());
        rc = 1;
    }
    bq_set_destroy(&set);
    return rc;
}

/* One query of the set (bq_query_fn); matches counted when TIMED. */
static int
s_query_timed(bq_thread_t *w, void *arg, size_t qi, bool timed)
{
    engine &e = *(engine *)arg;
    const shared_t *sh = (const shared_t *)w->shared;
    uint64_t matches = e.matches, searches = e.searches;
    try {
        s_query(e, sh, qi);
    } catch (const LuceneException &ex) {
        if (w->errors < 3)
            fprintf(stderr, "lucene-bench: %s: %s\n", sh->set->v[qi].q,
                    s_what(ex).c_str());
        return -1;
    }
    if (!timed) {
        e.matches = matches;
        e.searches = searches;
    }
    return 0;
}

/* Mean matches per search query, summed over threads (written once each). */
static double s_matches[BQ_THREADS_MAX];
static uint64_t s_searches[BQ_THREADS_MAX];

static void *
s_worker(void *arg)
{
    bq_thread_t *w = (bq_thread_t *)arg;
    const shared_t *sh = (const shared_t *)w->shared;
    try {
        engine e;
        e.reader = IndexReader::open(
            FSDirectory::open(StringUtils::toUnicode(sh->dir)), true);
        e.searcher = newLucene<IndexSearcher>(e.reader);
        e.analyzer = s_analyzer();
        e.parser = newLucene<RawParser>(e.analyzer);
        e.matches = e.searches = 0;
        bq_thread_loop(w, sh->set->n, sh->nthreads, sh->warmup,
                       sh->duration, s_query_timed, &e);
        s_matches[w->index] = (double)e.matches;
        s_searches[w->index] = e.searches;
        e.searcher->close();
        e.reader->close();
    } catch (const LuceneException &ex) {
        fprintf(stderr, "lucene-bench: %s: %s\n", sh->dir,
                s_what(ex).c_str());
        w->failed = 1;
    } catch (const std::exception &ex) {
        fprintf(stderr, "lucene-bench: %s: %s\n", sh->dir, ex.what());
        w->failed = 1;
    } catch (...) {
        fprintf(stderr, "lucene-bench: %s: unknown exception\n", sh->dir);
        w->failed = 1;
    }
    return NULL;
}

static int
s_search(int argc, char **argv)
{
    bq_peer_opts_t o;
    bq_set_t *set = NULL;
    char err[512];
    int rc = 1;

    if (bq_peer_opts_parse(argc, argv, "lucene-bench", "index", "DIR", &o))
        return 2;
    shared_t sh = {o.store, NULL, o.snippets, o.warmup, o.duration,
                   o.nthreads};
    if (bq_set_load(o.queries, o.no_ladder, &set, err, sizeof err)) {
        fprintf(stderr, "lucene-bench: %s\n", err);
        return 1;
    }
    sh.set = set;
    std::vector<bq_thread_t> w(sh.nthreads);
    bq_lat_t all = {};
    bq_result_t r = {};
    r.engine = sh.snippets ? "lucene" : "lucene-nosnip";
    r.corpus = o.corpus;
    r.inflight = r.threads = sh.nthreads;
    r.snippets = sh.snippets;
    int failed = bq_threads_run(w.data(), sh.nthreads, &sh, s_worker,
                                "lucene-bench", &r, &all);
    if (!failed) {
        double m = 0;
        uint64_t s = 0;
        for (unsigned i = 0; i < sh.nthreads; i++) {
            m += s_matches[i];
            s += s_searches[i];
        }
        r.matches = s ? m / (double)s : -1;
        bq_result_print(stdout, o.header, &r, &all);
        rc = r.errors ? 1 : 0;
    }
    bq_lat_free(&all);
    bq_set_destroy(&set);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "search") == 0)
        return s_search(argc - 1, argv + 1);
    if (argc == 6 && strcmp(argv[1], "show") == 0 &&
        strcmp(argv[2], "--index") == 0 && strcmp(argv[4], "--queries") == 0)
        return s_show_all(argv[3], argv[5]);
    if (argc >= 5 && strcmp(argv[1], "build") == 0 &&
        strcmp(argv[2], "--index") == 0)
        return s_build(argv[3], argv + 4, argc - 4);
    fprintf(stderr, "usage: lucene-bench build --index DIR JSONL...\n"
            "       lucene-bench search --index DIR --queries FILE ...\n"
            "       lucene-bench show --index DIR --queries FILE\n");
    return 2;
}
