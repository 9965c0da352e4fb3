#!/usr/bin/python3
"""example_chatbot: the retrieval half of a chatbot backend, on specdex.

    /usr/bin/python3 example_chatbot.py [--listen 127.0.0.1:8080] [--endpoint EP]

The interpreter: Python 3.9 or later with pyzmq and msgpack.  On Debian 12
that is /usr/bin/python3 with python3-zmq and python3-msgpack (the
interpreter the tests run it with, and the one the first line names);
elsewhere, a venv where ``pip install client/python`` ran, started as
``VENV/bin/python example_chatbot.py``.  A bare ``python3`` that is some
other interpreter (pyenv, conda) finds neither module.

    curl -s localhost:8080/ask -d '{"question": "Who does root cause analysis?"}'

``POST /ask {"question": "...", "k": 5, "max_chars": 4000}`` answers
``{"question", "passages": [{id, cite, levels, text, score}], "chars",
"prompt"}``: the passages specdex found for the question, each with a
citation a person can check, and a prompt that grounds a language model in
them.  Put an LLM behind ``prompt`` and this is a chatbot that cites its
sources.

Before a citation is shown, its quotation is checked: send the model's
draft back as ``POST /ask {"question": ..., "answer": "... \u201cquoted
words\u201d [2] ..."}`` and each quoted span with the passage number after
it is sent to specdex's ``verify`` with that passage's clause id.  The
reply's ``citations`` say, per quotation, whether it is verbatim in the
clause cited (``verified``), else where it really is or the closest clause
and how far; a front end shows only the verified ones as quotations.
Standard library only, apart from the specdex client.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if sys.version_info < (3, 9):
    sys.exit(f"example_chatbot: needs Python 3.9 or later, not "
             f"{sys.version.split()[0]} ({sys.executable})")
# specdex.py beside this file, when it is not installed
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import specdex  # noqa: E402
except ImportError as e:  # zmq or msgpack missing in this interpreter
    sys.exit(f"example_chatbot: {e} in {sys.executable}; run it with "
             "/usr/bin/python3 (python3-zmq, python3-msgpack) or a venv "
             "where 'pip install client/python' ran")

MAX_BODY = 64 * 1024  # bytes of request body accepted


def build_prompt(question: str, passages: list[dict]) -> str:
    """A grounded prompt: the numbered passages, then the question.

    Args:
        question (str): the user's question, as asked.
        passages (list[dict]): the ``passages`` of a context reply.
    """
    lines = ["Answer from these job-standard clauses only, citing them "
             "by number. Say so if they do not answer the question.", ""]
    for n, p in enumerate(passages, 1):
        lines.append(f"[{n}] {p['cite']}: {p['text']}")
    lines += ["", f"Question: {question}"]
    return "\n".join(lines)


# A quotation in a model's answer, straight or curly quotes, and the
# passage number cited right after it: "..." [2]
QUOTE = re.compile(r'["\u201c]([^"\u201c\u201d]{3,})["\u201d]\s*\[(\d+)\]')


def check_citations(client: specdex.Client, answer: str,
                    passages: list[dict]) -> list[dict]:
    """Each quotation of ANSWER checked with verify against its passage.

    Args:
        client (specdex.Client): the daemon's client.
        answer (str): the model's draft, quoting passages as
            ``"words" [n]``.
        passages (list[dict]): the passages the prompt numbered.

    Returns:
        list[dict]: per quotation ``{quote, passage, id, verified}``, and
        ``found_in`` (clause ids where it is verbatim) or ``closest``
        (``{id, distance, words}``) when it is not in the clause cited.
    """
    out = []
    for m in QUOTE.finditer(answer):
        quote, n = m.group(1), int(m.group(2))
        cited = passages[n - 1]["id"] if 0 < n <= len(passages) else None
        v = client.verify(quote, clause=cited)
        c = {"quote": quote, "passage": n, "id": cited,
             "verified": bool(cited) and v.get("cited", {}).get("verbatim",
                                                                False)}
        if not c["verified"]:
            c["found_in"] = [x["id"] for x in v.get("matches", [])]
            if v.get("closest"):
                c["closest"] = {k: v["closest"][k]
                                for k in ("id", "distance", "words")}
        out.append(c)
    return out


def make_handler(client: specdex.Client) -> type[BaseHTTPRequestHandler]:
    """The request handler class of the HTTP server, on CLIENT.

    Args:
        client (specdex.Client): shared by the server's threads.
    """
    class AskHandler(BaseHTTPRequestHandler):
        server_version = "specdex-chatbot/1"

        def _send(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 (the stdlib's name)
            if self.path != "/ask":
                return self._send(404, {"error": "POST /ask only"})
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                return self._send(413, {"error": "body too large"})
            try:
                req = json.loads(self.rfile.read(length) or b"null")
                question = req["question"]
                if not isinstance(question, str) or not question.strip():
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return self._send(400, {"error": 'send {"question": "..."}'})
            try:
                ctx = client.context(question, k=req.get("k"),
                                     max_chars=req.get("max_chars"))
            except specdex.ErrorReply as e:
                return self._send(400, {"error": e.code,
                                        "message": e.message})
            except specdex.Unavailable as e:
                return self._send(503, {"error": "unavailable",
                                        "message": str(e)})
            passages = ctx.get("passages", [])
            body = {"question": question, "passages": passages,
                    "chars": ctx.get("chars", 0),
                    "prompt": build_prompt(question, passages)}
            answer = req.get("answer")
            if isinstance(answer, str) and answer.strip():
                # a citation is shown only once verify has seen it
                try:
                    body["citations"] = check_citations(client, answer,
                                                        passages)
                except specdex.ErrorReply as e:
                    return self._send(400, {"error": e.code,
                                            "message": e.message})
            self._send(200, body)

        def log_message(self, fmt, *args):
            # Questions may hold personal data: log nothing by default.
            pass

    return AskHandler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8080",
                    help="host:port to serve on (default 127.0.0.1:8080)")
    ap.add_argument("--endpoint", default=None,
                    help="specdexd endpoint (default $SPECDEX_ENDPOINT)")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    with specdex.Client(args.endpoint) as client:
        server = ThreadingHTTPServer((host or "127.0.0.1", int(port)),
                                     make_handler(client))
        print(f"example_chatbot: POST http://{args.listen}/ask",
              file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        server.server_close()


if __name__ == "__main__":
    main()
