#!/usr/bin/env python3
"""make-seed-page.py: the seed job standard as a saved web page.

Reads the seed's clauses as `specdex-index --dump` writes them (JSON
Lines, stdin) and writes on stdout the page the flattened text was copied
from, as a browser would save it: site chrome before the title, an <h1>
series title, an <h2> "Job Summary", the summary paragraph, then the
table (a <thead> of level titles, a <tbody> of rows, each cell's text in
a <p>, wrapped over several lines, with ’ “ ” — as named entities and
&nbsp; in an empty cell), then a footer.

    build/bin/specdex-index --dump corpus/clinical-applications-professional-hx.txt \\
      | tests/data/html/make-seed-page.py > tests/data/html/good/clinical-applications-professional-hx.html

test_html_page reads the page back and compares every cell with the
text reader's clauses of the same seed.
"""
import html
import json
import re
import sys
import textwrap

ENTITIES = {"\u2019": "&rsquo;", "\u2018": "&lsquo;", "\u201c": "&ldquo;",
            "\u201d": "&rdquo;", "\u2014": "&mdash;", "\u2013": "&ndash;"}


def encode(text):
    out = html.escape(text, quote=False)
    for ch, ent in ENTITIES.items():
        out = out.replace(ch, ent)
    return out


def wrapped(text, indent):
    lines = textwrap.wrap(encode(text), 72, break_on_hyphens=False)
    return ("\n" + indent).join(lines)


def main():
    clauses = [json.loads(line) for line in sys.stdin if line.strip()]
    summary = clauses[0]
    levels = sorted({c["level"] for c in clauses if c["level"] > 0})
    titles, codes, flsa = {}, {}, {}
    rows = []  # (label, {level: text})
    for c in clauses[1:]:
        titles[c["level"]] = c["title"]
        codes[c["level"]] = c["job_code"]
        flsa[c["level"]] = c["flsa"]
        if not rows or rows[-1][2] != c["row"]:
            # repeated rows are numbered in clauses, not on the page
            label = re.sub(r"^(Special Condition|Education|Environment) \d+$",
                           r"\1", c["row"])
            rows.append((label, {}, c["row"]))
        rows[-1][1][c["level"]] = c["text"]

    out = []
    w = out.append
    w("<!DOCTYPE html>")
    w('<html lang="en">')
    w("<head>")
    w('<meta charset="utf-8">')
    w("<title>%s | UCnet</title>" % encode(summary["series"]))
    w("<style>td p { margin: 0 }</style>")
    w("<script>window.dataLayer = [{ page: 'job standard' }];</script>")
    w("</head>")
    w("<body>")
    w('<header class="site">')
    w('  <a class="logo" href="https://www.universityofcalifornia.edu/">'
      "University of California</a>")
    w('  <nav><ul><li><a href="/">UCnet</a></li></ul></nav>')
    w('  <form role="search"><label for="q">What are you looking for?'
      '</label> <input id="q" name="q"></form>')
    w("</header>")
    w("<!-- main content -->")
    w('<main id="content">')
    w("<h1>%s</h1>" % encode(summary["series"]))
    w("<h2>Job Summary</h2>")
    w("<p>%s</p>" % wrapped(summary["text"], ""))
    w('<table class="job-standard">')
    w("  <thead>")
    w("    <tr>")
    w("      <th>Job Title</th>")
    for lv in levels:
        w("      <th>%s</th>" % encode(titles[lv]))
    w("    </tr>")
    w("  </thead>")
    w("  <tbody>")
    meta = [("Job Code", codes), ("Bargaining Unit", {lv: "HX" for lv in levels}),
            ("FLSA", flsa)]
    for label, values in meta:
        w("    <tr>")
        w("      <td>%s</td>" % label)
        for lv in levels:
            w("      <td>%s</td>" % encode(values[lv]))
        w("    </tr>")
    for label, cells, _ in rows:
        w("    <tr>")
        w("      <td><strong>%s</strong></td>" % encode(label))
        for lv in levels:
            if lv in cells:
                w("      <td>\n        <p>%s</p>\n      </td>"
                  % wrapped(cells[lv], "        "))
            else:
                w("      <td>&nbsp;</td>")
        w("    </tr>")
    w("  </tbody>")
    w("</table>")
    w("</main>")
    w('<footer><p>&copy; UC Regents</p></footer>')
    w("</body>")
    w("</html>")
    sys.stdout.write("\n".join(out) + "\n")


main()
