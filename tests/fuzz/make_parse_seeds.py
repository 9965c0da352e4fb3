#!/usr/bin/python3
"""Write the hand-made mutations of the parser's seed corpus.

The seed corpus of fuzz_parse (corpus/parse/) holds copies of the job
standard we ship (corpus/), of tests/data/good and tests/data/broken,
and the small mutations of tests/data/good/records-analyst.txt made
here, each aimed at one corner of the parser: line endings, cut UTF-8,
wide level ranges, U+00A0 runs, glued and strong boundaries, limits.
libFuzzer starts from these rather than from nothing.

Run from anywhere: tests/fuzz/make_parse_seeds.py (rewrites mut-*.txt).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "parse")
GOOD = os.path.join(HERE, "..", "data", "good", "records-analyst.txt")
NBSP = "\u00a0"


def main():
    with open(GOOD, encoding="utf-8") as f:
        good = f.read()
    lines = good.split("\n")
    muts = {}

    muts["crlf"] = good.replace("\n", "\r\n")
    muts["no-final-newline"] = good.rstrip("\n")
    muts["bom"] = "\ufeff" + good
    # cut in the middle of the U+2019 of "Bachelor's"
    raw = good.encode("utf-8")
    cut = raw.index("\u2019".encode("utf-8")) + 1
    muts["cut-utf8"] = raw[:cut]
    muts["only-header"] = "\n".join(lines[:9]) + "\n"
    muts["tabs"] = good.replace("Key Resp 01", "Key Resp 01\t")
    # leading empty cells: every level but the last empty
    muts["all-nbsp"] = good.replace(
        "Key Resp 02" + NBSP,
        "Key Resp 02" + NBSP + " " + NBSP + " ")
    # strong boundaries everywhere: sentence end, U+00A0, capital
    muts["strong"] = good.replace(". ", "." + NBSP)
    # glued candidates only, lower-upper: "rulesAudits"
    muts["glued"] = good.replace(".", "")
    # a level range of 1-9, the most the parser takes
    muts["range-1-9"] = good.replace("1-3", "1-9")
    muts["range-9-1"] = good.replace("1-3", "9-1")
    muts["range-0-3"] = good.replace("1-3", "0-3")
    muts["range-huge"] = good.replace("1-3", "1-99999999999999999999")
    muts["key-resp-huge"] = good.replace(
        "Key Resp 03", "Key Resp 99999999999999999999")
    muts["key-resp-long-label"] = good.replace(
        "Key Resp 03", "Key Resp " + "0" * 200 + "3")
    muts["code-8-digits"] = good.replace(
        "100110021003", "100000012000000230000003")
    muts["code-9-digits"] = good.replace(
        "100110021003", "100000001200000002300000003")
    # many repeatable rows
    cond = [l for l in lines if l.startswith("Special Condition")][0]
    muts["many-conditions"] = good.replace(
        cond, "\n".join([cond] * 40))
    # a long row: one cell's text repeated
    muts["long-row"] = good.replace(
        "Sorts and routes mail for the unit.",
        "Sorts and routes mail for the unit " * 300 + ".")
    # many candidates in one row
    muts["many-candidates"] = good.replace(
        "Audits the records of several units.",
        "aB" * 600 + "Audits the records of several units.")
    muts["control-byte"] = good.replace("Files incoming", "Files\x01incoming")
    muts["empty-lines-only"] = "\n" * 50
    muts["nbsp-only"] = NBSP * 100

    for name, text in sorted(muts.items()):
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with open(os.path.join(OUT, "mut-" + name + ".txt"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
