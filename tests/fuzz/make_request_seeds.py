#!/usr/bin/python3
"""Write the seed corpus of fuzz_request (corpus/request/).

One request frame per file, as a client sends it: a valid request of
every op with every key it takes (req-*), and frames the decoder must
refuse, one error class each (bad-*): not msgpack, trailing bytes, not a
map, missing / ill-typed / unknown / duplicate keys, values out of range,
invalid UTF-8, deep nesting, counts larger than the bytes that follow,
and a frame over the size limit.  Needs python3-msgpack (/usr/bin/python3
on Debian).  Rewrites req-*.bin and bad-*.bin; other files (crashes the
fuzzer found, crash-*) are left alone.
"""
import os

import msgpack

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "corpus", "request")


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def req(op, **keys):
    m = {"v": 1, "op": op, "id": 7}
    m.update(keys)
    return pack(m)


FILTERS = dict(levels=[1, 3, 5], sections=["ksa", "responsibility"],
               rows=["key resp 06"], codes=["5366"])

VALID = {
    "ping": req("ping"),
    "ping-no-id": pack({"v": 1, "op": "ping"}),
    "ping-map-id": pack({"v": 1, "op": "ping",
                         "id": {"client": "cli", "n": [1, 2.5, None]}}),
    "search-min": req("search", q="root cause analysis"),
    "search-all": req("search", q='"root cause" AND level:3 OR data*',
                      offset=10, limit=100, snippet=False,
                      highlight=["[", "]"], facets=True, group=True,
                      **FILTERS),
    "search-utf8": req("search", q="Bachelor\u2019s d\u00e9gree \u2603"),
    "ladder": req("ladder", q="troubleshooting", sections=["ksa"],
                  rows=["ksa 07"]),
    "row": req("row", row="Key Resp 06",
               series="Clinical Applications Professional 1-5 HX"),
    "row-min": req("row", row="education"),
    "get": req("get", ids=["5366/key-resp-06",
                           "clinical-applications-professional-hx/"
                           "job-summary"]),
    "context": req("context", q="mentoring junior staff", k=20,
                   max_chars=200, levels=[2], sections=["scope"]),
    "context-query": req("context", q="level:3 AND vendor*",
                         syntax="query", min_score=0.0),
    "context-question": req("context", q="NOT sure who does \"root cause "
                            "analysis at level 2 AND?", syntax="plain",
                            min_score=0.75),
    "search-plain": req("search", q="What KSAs does a level 3 need?",
                        syntax="plain", group=True),
    "suggest": req("suggest", q="troubleshootng"),
    "stats": req("stats"),
    "fit": req("fit", text="Leads the design of clinical systems.\n"
               "Mentors staff.", series="Clinical Applications "
               "Professional 1-5 HX", exclude=["5366/key-resp-06"]),
    "diff": req("diff", row="ksa 02",
                series="Clinical Applications Professional 1-5 HX"),
    "first": req("first", q='"root cause analysis"', sections=["ksa"],
                 rows=["key resp 06"]),
    "verify": req("verify", text="It\u2019s \u201cbasic\u201d\u00a0skill",
                  clause="5365/ksa-02"),
    "gaps": req("gaps", text="Trains users. Documents issues.", level=2,
                series="Clinical Applications Professional 1-5 HX"),
}

B = pack  # shorthand
BAD = {
    "empty": b"",
    "not-msgpack": b"\xc1",
    "text": b"hello",
    "trailing": req("ping") + b"\x00",
    "two-maps": req("ping") + req("ping"),
    "array": B([1, "ping"]),
    "int": B(42),
    "truncated": req("search", q="abc")[:-2],
    "no-v": B({"op": "ping"}),
    "no-op": B({"v": 1}),
    "v-str": B({"v": "1", "op": "ping"}),
    "v-2": B({"v": 2, "op": "ping"}),
    "v-neg": B({"v": -1, "op": "ping"}),
    "op-int": B({"v": 1, "op": 3}),
    "op-unknown": B({"v": 1, "op": "serch"}),
    "key-int": B({1: 1, "v": 1, "op": "ping"}),
    "key-unknown": req("search", q="x", level=[1]),
    "key-not-for-op": req("ping", q="x"),
    "dup-key": b"\x83\xa1v\x01\xa2op\xa4ping\xa1v\x01",
    "dup-id": b"\x84\xa1v\x01\xa2op\xa4ping\xa2id\x01\xa2id\x02",
    "q-missing": req("search"),
    "q-empty": req("search", q=""),
    "q-long": req("search", q="a" * 1025),
    "q-bin": req("search", q=b"abc"),
    "q-bad-utf8": b"\x84\xa1v\x01\xa2op\xa6search\xa2id\x01\xa1q"
                  b"\xa3a\xff\xfe",
    "q-surrogate": b"\x84\xa1v\x01\xa2op\xa6search\xa2id\x01\xa1q"
                   b"\xa3\xed\xa0\x80",
    "q-overlong": b"\x84\xa1v\x01\xa2op\xa6search\xa2id\x01\xa1q"
                  b"\xa2\xc0\xaf",
    "offset-big": req("search", q="x", offset=10001),
    "offset-neg": req("search", q="x", offset=-1),
    "offset-float": req("search", q="x", offset=1.5),
    "limit-0": req("search", q="x", limit=0),
    "limit-u64": req("search", q="x", limit=2**64 - 1),
    "levels-6": req("search", q="x", levels=[1, 6]),
    "levels-many": req("search", q="x", levels=[1] * 65),
    "levels-str": req("search", q="x", levels="1"),
    "sections-bad": req("search", q="x", sections=["kas"]),
    "rows-long": req("search", q="x", rows=["r" * 257]),
    "codes-nested": req("search", q="x", codes=[["5366"]]),
    "highlight-one": req("search", q="x", highlight=["<b>"]),
    "highlight-empty": req("search", q="x", highlight=["", "</b>"]),
    "snippet-int": req("search", q="x", snippet=1),
    "ids-empty": req("get", ids=[]),
    "ids-many": req("get", ids=["a"] * 101),
    "k-21": req("context", q="x", k=21),
    "max-chars-199": req("context", q="x", max_chars=199),
    "syntax-bad": req("search", q="x", syntax="Plain"),
    "syntax-ladder": req("ladder", q="x", syntax="plain"),
    "min-score-big": req("context", q="x", min_score=1.5),
    "text-big": req("fit", text="x" * 8193),
    "text-blank": req("verify", text=" \t\n"),
    "level-zero": req("gaps", text="x", level=0, series="x"),
    "level-str": req("gaps", text="x", level="2", series="x"),
    "gaps-no-series": req("gaps", text="x", level=2),
    "exclude-empty": req("fit", text="x", exclude=[]),
    "min-score-nan": req("context", q="x", min_score=float("nan")),
    "min-score-str": req("context", q="x", min_score="0.5"),
    "q-blank": req("context", q=" \t "),
    "row-missing": req("row"),
    "series-empty": req("row", row="KSA 01", series=""),
    "many-keys": B(dict({"v": 1, "op": "ping"},
                        **{"k%d" % i: i for i in range(40)})),
    "deep": b"\x83\xa1v\x01\xa2op\xa4ping\xa2id" + b"\x91" * 40 + b"\xc0",
    # counts far beyond the bytes that follow
    "map32-huge": b"\xdf\xff\xff\xff\xff\xa1v\x01",
    "array32-huge": b"\x83\xa1v\x01\xa2op\xa4ping\xa2id\xdd\xff\xff\xff\xff",
    "str32-huge": b"\x83\xa1v\x01\xa2op\xa4ping\xa2id\xdb\xff\xff\xff\xff",
    "ext-id": b"\x83\xa1v\x01\xa2op\xa4ping\xa2id\xd4\x01\x02",
    "too-large": req("search", q="x" * 100, rows=["r" * 200] * 330),
}


def main():
    for name in os.listdir(OUT):
        if name.startswith(("req-", "bad-")):
            os.remove(os.path.join(OUT, name))
    for prefix, table in (("req-", VALID), ("bad-", BAD)):
        for name, data in sorted(table.items()):
            with open(os.path.join(OUT, prefix + name + ".bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
