/*
 * sdx_xapian_highlight: the shim's snippets (sdx_xapian_private.h), made
 * here rather than by Xapian's MSet::snippet(), which stays the naive
 * baseline `make bench` measures against.
 */
#include "sdx_xapian_private.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sdx_x {

namespace {

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

} /* namespace */

/*
 * Snippets, made here rather than by MSet::snippet().  Xapian's snippet
 * tokenises and stems every word of the text and, with the background
 * model, looks up term statistics for each; on short clauses that cost
 * five times the search itself (docs/BENCH.md).  A clause is short and
 * our question is simpler: which words of this text did the query ask
 * for?  So a highlighter is built once per search from the parsed
 * query's terms (unstemmed ones as they are, "Z" stems without the Z)
 * and the wildcard patterns of the query text; each hit's text is
 * scanned once (plain ASCII 16 bytes at a time, into bitmaps of where
 * words start and end), only words whose first two bytes are those of
 * a query term are looked at, and a word is stemmed only when its
 * prefix makes a stem match possible (the handle keeps the stems it
 * made, sdx_db.stems).  Only the matched words are kept; the window
 * is cut at word boundaries read from the bitmaps.  On the bundled
 * corpus this made snippets cost +17 % of a search in-process, from
 * +24 % when every word was kept and looked up (docs/BENCH.md).  Runs
 * of matched words separated by blanks are marked as one
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
        for (const std::string &t : words_)
            if (t.size() >= 2)
                add_pair(t[0], t[1]);
        for (const std::string &p : wild_)
            add_prefix(p, p.size());
        for (const std::string &st : stems_)
            add_prefix(st, stem_prefix(st));
        tokens_.reserve(TOKENS_RESERVED);
    }

    /* TEXT (N bytes) with the matched words marked, cut to about CHARS
     * bytes. */
    std::string run(const char *text, size_t n, size_t chars,
                    const char *open, const char *close)
    {
        tokens_.clear();
        escaped_ = false;
        if (!scan_ascii(text, n))
            tokenise(text, n);
        size_t ws = 0, we = n;
        if (n > chars)
            choose_window(n, chars, &ws, &we);
        std::string out;
        out.reserve(we - ws + 64);
        if (ws > 0)
            out += SNIPPET_OMIT;
        /* Text is copied a run at a time: only where a mark opens or
         * closes (a word holds nothing to escape).  Two matched words
         * with only blanks between are one mark; any other word
         * between them is not blank, so it closes the mark. */
        size_t pos = ws;
        bool marked = false;
        for (const token &t : tokens_) {
            if (t.b < ws)
                continue;
            if (t.e > we)
                break;
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
        size_t b, e;   /* a matched word's bytes in the text */
    };

    static const size_t TOKENS_RESERVED = 64; /* matched words of a text
                                                 held without a regrowth */
    sdx_db_t *db_;                    /* its stemmer and stem cache */
    std::vector<std::string> words_;  /* unstemmed terms, lower case */
    std::vector<std::string> stems_;  /* stems of the "Z" terms */
    std::vector<std::string> wild_;   /* wildcard prefixes, lower case */
    bool first_[256] = {};            /* bytes a matching word starts
                                         with */
    uint64_t pairs_[16] = {};         /* 1024 bits: an ASCII word of two
                                         bytes or more whose first two
                                         (pair_bit) are not set matches
                                         nothing */
    std::vector<token> tokens_;        /* matched words of the text being
                                          cut, in order */
    std::vector<uint64_t> starts_;     /* bit I: a word starts at byte I */
    std::vector<uint64_t> ends_;       /* bit I: a word's last byte is I */
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

    /* Bit of the first two bytes of a word in pairs_: 5 bits of each,
     * which drops case (and makes digits share bits with letters: a
     * false candidate, never a missed one). */
    static unsigned pair_bit(char c0, char c1)
    {
        return (static_cast<unsigned>(c0) & 31u) << 5 |
               (static_cast<unsigned>(c1) & 31u);
    }

    void add_pair(char c0, char c1)
    {
        unsigned bit = pair_bit(c0, c1);
        pairs_[bit >> 6] |= uint64_t{1} << (bit & 63);
    }

    /* Words starting with the first K bytes of P are candidates. */
    void add_prefix(const std::string &p, size_t k)
    {
        if (p.empty())
            return;
        if (k >= 2 && p.size() >= 2) {
            add_pair(p[0], p[1]);
            return;
        }
        for (int c = 0; c < 32; c++)
            add_pair(p[0], static_cast<char>(c));
    }

    /* The bytes of a stem a word must share to stem to it: English
     * stems keep all but the word's last letters. */
    static size_t stem_prefix(const std::string &st)
    {
        return st.size() > 3 ? st.size() - 2 : 1;
    }

    /* Can the ASCII word TEXT[B..E) be one the query asked for?  A
     * table lookup (pairs_, first_) that rules out nearly every word
     * before matches() looks at it; never false for a match. */
    bool ascii_candidate(const char *text, size_t b, size_t e) const
    {
        if (e - b < 2)
            return first_[static_cast<unsigned char>(lower_byte(text[b]))];
        unsigned bit = pair_bit(text[b], text[b + 1]);
        return pairs_[bit >> 6] >> (bit & 63) & 1;
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
            size_t k = stem_prefix(s);
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
            size_t k = stem_prefix(st);
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

    /* Clear the word bitmaps for a text of N bytes (a bit to spare past
     * its end, for the scans of scan_ascii and choose_window). */
    void clear_bitmaps(size_t n)
    {
        starts_.assign(n / 64 + 1, 0);
        ends_.assign(n / 64 + 1, 0);
    }

    void add_word(size_t b, size_t e)
    {
        starts_[b >> 6] |= uint64_t{1} << (b & 63);
        ends_[(e - 1) >> 6] |= uint64_t{1} << ((e - 1) & 63);
    }

    /* The 64 bytes of TEXT (N bytes in all) from I on, as bit masks:
     * *WORD of ASCII letters and digits, *ESC of & < >; the result is
     * the mask of bytes the fast path cannot take (non-ASCII, and the
     * apostrophe, which may join two words).  Bits past N are 0. */
    static uint64_t classify64(const char *text, size_t n, size_t i,
                               uint64_t *word, uint64_t *esc)
    {
        uint64_t w = 0, x = 0, special = 0;
        for (unsigned k = 0; k < 64 && i + k < n; k += 16) {
            const char *p = text + i + k;
            char pad[16] = {};
            if (n - (i + k) < 16) { /* the text's tail: zeros beyond */
                memcpy(pad, p, n - (i + k));
                p = pad;
            }
            unsigned wm = 0, xm = 0, sm = 0;
#if defined(__SSE2__)
            __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
            /* a letter: (v | 0x20) - 'a' in 0..25; a digit: v - '0' in
             * 0..9 (unsigned, as min_epu8 compares) */
            __m128i l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
                                     _mm_set1_epi8('a'));
            __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
            __m128i alpha = _mm_cmpeq_epi8(
                _mm_min_epu8(l, _mm_set1_epi8(25)), l);
            __m128i digit = _mm_cmpeq_epi8(
                _mm_min_epu8(d, _mm_set1_epi8(9)), d);
            wm = static_cast<unsigned>(
                _mm_movemask_epi8(_mm_or_si128(alpha, digit)));
            xm = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('&')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
                _mm_cmpeq_epi8(v, _mm_set1_epi8('>')))));
            sm = static_cast<unsigned>(_mm_movemask_epi8(v)) |
                 static_cast<unsigned>(_mm_movemask_epi8(
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\''))));
#else
            for (unsigned j = 0; j < 16; j++) {
                unsigned char c = static_cast<unsigned char>(p[j]);
                wm |= (BYTE_CLASSES.c[c] & ASCII_WORD ? 1u : 0u) << j;
                xm |= (BYTE_CLASSES.c[c] & ESCAPED ? 1u : 0u) << j;
                sm |= (c >= 0x80 || c == '\'' ? 1u : 0u) << j;
            }
#endif
            w |= static_cast<uint64_t>(wm) << k;
            x |= static_cast<uint64_t>(xm) << k;
            special |= static_cast<uint64_t>(sm) << k;
        }
        *word = w;
        *esc = x;
        return special;
    }

    /* The fast path of tokenise, for a text of ASCII without an
     * apostrophe (nearly every clause), where a word is a run of
     * letters and digits: the text is classified 16 bytes at a time
     * into bitmaps, and words are taken from them a word at a time.
     * A word is looked up (matches) only when its first two bytes are
     * those of a query term (pairs_).  False, with nothing decided,
     * for any other text. */
    bool scan_ascii(const char *text, size_t n)
    {
        clear_bitmaps(n);
        bool escaped = false;
        uint64_t carry = 0; /* the last byte before this block is a
                               letter or digit */
        for (size_t i = 0, wi = 0; i < n; i += 64, wi++) {
            uint64_t w, x;
            if (classify64(text, n, i, &w, &x))
                return false;
            escaped = escaped || x;
            starts_[wi] = w & ~(w << 1 | carry);
            ends_[wi] = w & ~(w >> 1);
            if (wi > 0 && (w & 1)) /* the last block's word goes on */
                ends_[wi - 1] &= ~(uint64_t{1} << 63);
            carry = w >> 63;
        }
        escaped_ = escaped;
        size_t ew = 0;
        uint64_t ecur = ends_.empty() ? 0 : ends_[0];
        for (size_t wi = 0; wi < starts_.size(); wi++) {
            for (uint64_t s = starts_[wi]; s; s &= s - 1) {
                size_t b = wi * 64 + static_cast<size_t>(__builtin_ctzll(s));
                while (!ecur)
                    ecur = ends_[++ew];
                size_t e = ew * 64 +
                           static_cast<size_t>(__builtin_ctzll(ecur)) + 1;
                ecur &= ecur - 1;
                if (ascii_candidate(text, b, e) && matches(text, b, e))
                    tokens_.push_back({b, e});
            }
        }
        return true;
    }

    /* Split TEXT (N bytes) into words (a letter run, with an apostrophe
     * between letters kept, as in "manager's") and keep the matched
     * ones; every word in the bitmaps.  ASCII letters and digits,
     * nearly all of a clause, are taken a run at a time. */
    void tokenise(const char *text, size_t n)
    {
        const unsigned char *cls = BYTE_CLASSES.c;
        clear_bitmaps(n); /* scan_ascii may have begun them */
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
            bool ascii = len == 1;
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
                    ascii = ascii && len == 1;
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
                ascii = ascii && ap == 1;
                i += ap;
            }
            add_word(b, i);
            if ((!ascii || ascii_candidate(text, b, i)) &&
                matches(text, b, i))
                tokens_.push_back({b, i});
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

    /* The first bit set in BITS at I or after, below N; N if none. */
    static size_t next_bit(const std::vector<uint64_t> &bits, size_t i,
                           size_t n)
    {
        for (size_t wi = i >> 6; i < n && wi < bits.size();
             wi++, i = wi << 6) {
            uint64_t w = bits[wi] & (~uint64_t{0} << (i & 63));
            if (w) {
                size_t k = wi * 64 + static_cast<size_t>(__builtin_ctzll(w));
                return k < n ? k : n;
            }
        }
        return n;
    }

    /* The last bit set in BITS in [LO, HI); HI if none. */
    static size_t last_bit(const std::vector<uint64_t> &bits, size_t lo,
                           size_t hi)
    {
        for (size_t i = hi; i > lo;) {
            size_t wi = (i - 1) >> 6;
            unsigned top = static_cast<unsigned>((i - 1) & 63);
            uint64_t w = bits[wi] & (~uint64_t{0} >> (63 - top));
            if (w) {
                size_t k = wi * 64 + 63 -
                           static_cast<size_t>(__builtin_clzll(w));
                return k >= lo ? k : hi;
            }
            i = wi * 64;
        }
        return hi;
    }

    /* The window of at most CHARS bytes of the text (N bytes) holding
     * the most matched words (the earliest such), with some text before
     * the first of them, cut at word boundaries (starts_, ends_). */
    void choose_window(size_t n, size_t chars, size_t *ws, size_t *we)
    {
        const std::vector<token> &m = tokens_;
        size_t start = 0, span = 0;
        if (!m.empty()) {
            size_t best = 0, best_n = 0, j = 0;
            for (size_t i = 0; i < m.size(); i++) {
                if (j < i)
                    j = i;
                while (j + 1 < m.size() && m[j + 1].e - m[i].b <= chars)
                    j++;
                if (j - i + 1 > best_n) {
                    best_n = j - i + 1;
                    best = i;
                }
            }
            const token &first = m[best];
            const token &last = m[best + best_n - 1];
            start = first.b;
            span = last.e - first.b;
            /* context before the matches: up to half of what is left */
            size_t lead = span < chars ? (chars - span) / 2 : 0;
            if (lead > start)
                lead = start;
            /* begin at a word: the first one starting at or after it
             * (there is one: the first match) */
            start = next_bit(starts_, start - lead, n);
        }
        size_t end = start + chars;
        if (end >= n) {
            end = n;
        } else {
            /* end after the last word that fits whole; START is a
             * word's first byte or 0, so no word ending in the window
             * began before it */
            size_t last_byte = last_bit(ends_, start, end);
            end = last_byte < end ? last_byte + 1 : end;
        }
        *ws = start;
        *we = end;
    }
};

void
highlighter_free::operator()(highlighter *h) const noexcept
{
    delete h;
}

highlighter_ptr
make_highlighter(sdx_db_t *db, const std::vector<std::string> &terms,
                 const char *text)
{
    return highlighter_ptr(new highlighter(db, terms, text));
}

std::string
highlight(highlighter &h, const char *text, size_t n, size_t chars,
          const char *open, const char *close)
{
    return h.run(text, n, chars, open, close);
}

} /* namespace sdx_x */
