#!/usr/bin/python3
"""test_python: the Python client and the example chatbot, live.

Indexes the corpus into a temp dir, starts the real specdexd on an ipc
socket, and drives client/python/specdex.py and example_chatbot.py; checks
that every public call has type hints and documents each parameter, and
that `pip install client/python` works offline in a venv that sees
Debian's pyzmq and msgpack (skipped, and said, where the interpreter has
no venv or setuptools).
usage: test_python.py BIN_DIR CORPUS_DIR CLIENT_DIR
"""
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

BIN, CORPUS, CLIENT_DIR = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, CLIENT_DIR)
import specdex  # noqa: E402


def setUpModule():
    global TMP, DAEMON, EP
    TMP = tempfile.mkdtemp()
    subprocess.run([os.path.join(BIN, "specdex-index"), "-o",
                    os.path.join(TMP, "index"), CORPUS],
                   check=True, stdout=subprocess.DEVNULL)
    EP = f"ipc://{TMP}/sdx.sock"
    DAEMON = subprocess.Popen([os.path.join(BIN, "specdexd"), "--index",
                               os.path.join(TMP, "index"), "--endpoint",
                               EP, "--threads", "2"],
                              stderr=subprocess.DEVNULL)
    with specdex.Client(EP, timeout=0.2, attempts=1) as c:
        for _ in range(50):
            try:
                if c.ping():
                    return
            except specdex.Unavailable:
                time.sleep(0.1)
    raise RuntimeError("specdexd did not come up")


def tearDownModule():
    DAEMON.send_signal(signal.SIGTERM)
    rc = DAEMON.wait(timeout=5)
    shutil.rmtree(TMP, ignore_errors=True)
    # Exit 0 after SIGTERM; under the sanitizer build a leak makes it fail.
    if rc != 0:
        raise RuntimeError(f"specdexd exited {rc} after SIGTERM")


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.c = specdex.Client(EP, timeout=2.0)

    def tearDown(self):
        self.c.close()

    def test_search_ranks_key_resp_06_first(self):
        r = self.c.search("root cause analysis", limit=5)
        ids = [h["id"] for h in r["hits"]]
        self.assertEqual(ids[:2], ["5365/key-resp-06", "5366/key-resp-06"])
        self.assertGreater(r["total"], 1)
        self.assertIn("<mark>", r["hits"][0]["snippet"])

    def test_filters(self):
        r = self.c.search("vendors", levels=[3], sections=["ksa",
                                                           "responsibility"])
        self.assertTrue(r["hits"])
        for h in r["hits"]:
            self.assertEqual(h["level"], 3)

    def test_highlight(self):
        # False: plain text, no markers, no HTML escaping
        hit = self.c.search("root cause analysis", limit=1,
                            highlight=False)["hits"][0]
        snip = hit["snippet"]
        self.assertIn("root cause analysis", snip)
        self.assertNotIn("<mark>", snip)
        self.assertFalse(any(ord(ch) < 32 for ch in snip), snip)
        self.assertIn(snip.strip("…"), hit["text"])
        # a pair of markers, and True for the default ones
        snip = self.c.search("root cause analysis", limit=1,
                             highlight=("[", "]"))["hits"][0]["snippet"]
        self.assertIn("[root cause analysis]", snip)
        snip = self.c.search("root cause analysis", limit=1,
                             highlight=True)["hits"][0]["snippet"]
        self.assertIn("<mark>root cause analysis</mark>", snip)
        with self.assertRaises(TypeError) as cm:
            self.c.search("x", highlight="yes")
        self.assertIn("False for plain-text snippets", str(cm.exception))

    def test_row_names_label_and_series(self):
        r = self.c.row("KEY resp 06")
        self.assertEqual(r["row"], "Key Resp 06")
        self.assertEqual({c["series"] for c in r["cells"]},
                         {"Clinical Applications Professional 1-5 HX"})

    def test_get_keeps_order_and_nil(self):
        got = self.c.get(["5367/ksa-07", "nope/none", "5365/education"])
        self.assertEqual(got[0]["row"], "KSA 07")
        self.assertIsNone(got[1])
        self.assertEqual(got[2]["level"], 1)

    def test_ladder(self):
        r = self.c.ladder("root cause analysis")
        steps = {s["level"]: s["hit"] for s in r["ladder"]}
        self.assertEqual(sorted(steps), [1, 2, 3, 4, 5])
        self.assertEqual(steps[1]["id"], "5365/key-resp-06")
        self.assertEqual(steps[2]["id"], "5366/key-resp-06")
        self.assertEqual(r["row"], "Key Resp 06")
        self.assertEqual([c["level"] for c in r["row_cells"]], [1, 2, 3, 4, 5])
        self.assertTrue(all(c["text"] for c in r["row_cells"]))

    def test_row_shows_empty_levels(self):
        cells = self.c.row("ksa 07")["cells"]
        self.assertEqual([c["text"] is None for c in cells],
                         [True, True, False, False, False])
        self.assertTrue(cells[2]["text"].startswith("Ability to work with"))

    def test_group_merges_identical_levels(self):
        r = self.c.search("background check", group=True)
        top = r["hits"][0]
        self.assertEqual(top["row"], "Special Condition 2")
        self.assertEqual(top["levels"], [1, 2, 3, 4, 5])

    def test_facets(self):
        r = self.c.search("vendors", facets=True)
        levels = r["facets"]["level"]
        self.assertEqual(sum(levels.values()), r["total"])

    def test_synonym_and_spelling(self):
        r = self.c.search("RCA", limit=2)
        self.assertEqual(r["hits"][0]["id"], "5365/key-resp-06")
        self.assertEqual(self.c.suggest("troubleshootng"), "troubleshooting")
        r = self.c.search("troubleshootng")
        self.assertEqual(r["hits"], [])
        self.assertEqual(r["corrected"], "troubleshooting")

    def test_context_cites_and_fits(self):
        r = self.c.context("background check", k=3, max_chars=500)
        self.assertLessEqual(r["chars"], 500)
        first = r["passages"][0]
        self.assertEqual(first["levels"], [1, 2, 3, 4, 5])
        self.assertIn("Special Condition 2", first["cite"])

    def test_plain_words(self):
        # issue 14: the question as a user types it; what it named
        r = self.c.context("What KSAs does a Clinical Applications "
                           "Professional 3 need?")
        self.assertEqual(r["understood"]["levels"], [3])
        self.assertEqual(r["understood"]["sections"], ["ksa"])
        self.assertEqual(r["understood"]["series"],
                         ["Clinical Applications Professional 1-5 HX"])
        self.assertTrue(r["passages"][0]["id"].startswith("5367/ksa-"))
        r = self.c.context("root cause analysis", k=5, min_score=0)
        self.assertEqual(len(r["passages"]), 5)
        r = self.c.context("what is it?")
        self.assertEqual(r["passages"], [])
        self.assertIn("note", r)
        r = self.c.search("who does root cause analysis AND?",
                          syntax="plain", limit=1)
        self.assertEqual(r["hits"][0]["id"], "5365/key-resp-06")
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.context("   ")
        self.assertEqual(cm.exception.code, "bad_request")
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.context("a AND AND b", syntax="query")
        self.assertEqual(cm.exception.code, "bad_query")

    def test_error_reply_is_typed(self):
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.search("x", limit=1000)
        self.assertEqual(cm.exception.code, "bad_request")
        self.assertIn("limit", cm.exception.message)
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.call("frobnicate")
        self.assertEqual(cm.exception.code, "unknown_op")

    def test_refused_search_counts_under_search(self):
        # docs/OPERATIONS.md: a request refused for one of its keys
        # counts under the op it named, not under "none".
        before = self.c.stats()["by_op"]
        with self.assertRaises(specdex.ErrorReply):
            self.c.search("x", limit=0)
        after = self.c.stats()["by_op"]
        self.assertEqual(after["search"]["errors"],
                         before["search"]["errors"] + 1)
        self.assertEqual(after["none"], before["none"])

    def test_unavailable_is_typed(self):
        with specdex.Client(f"ipc://{TMP}/nobody.sock", timeout=0.2,
                            attempts=2) as dead:
            with self.assertRaises(specdex.Unavailable):
                dead.ping()

    def test_failover_to_second_endpoint(self):
        with specdex.Client([f"ipc://{TMP}/nobody.sock", EP], timeout=0.3,
                            attempts=2) as c:
            self.assertTrue(c.ping())

    def test_threads_share_one_client(self):
        errors = []

        def worker():
            try:
                for _ in range(20):
                    r = self.c.search("troubleshooting", limit=1)
                    assert r["hits"], r
            except Exception as e:  # report, don't hide
                errors.append(e)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_concurrent_ladders_and_rows(self):
        # Ladders and rows run filter-only searches (an empty query):
        # several workers at once once crashed the daemon through a
        # shared Xapian::Query::MatchAll.
        errors = []

        def worker():
            c = specdex.Client(EP, timeout=5.0)
            try:
                for j in range(150):
                    try:
                        c.ladder(["root cause analysis", "vendors"][j % 2])
                        c.row("key resp 0%d" % (1 + j % 9))
                    except specdex.ErrorReply as e:
                        if e.code != "overloaded":
                            raise
            except Exception as e:  # report, don't hide
                errors.append(e)
            finally:
                c.close()

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertIsNone(DAEMON.poll(), "the daemon died")

    def test_stats(self):
        s = self.c.stats()
        self.assertEqual(s["docs"], 105)

    # -- the grid ops (issue 17) -----------------------------------------

    def test_fit(self):
        text = self.c.get(["6373/ksa-02"])[0]["text"]
        r = self.c.fit(text, exclude=["6373/ksa-02"])
        self.assertEqual(r["series"], "Clinical Applications Professional "
                         "1-5 HX")
        scores = [lv["score"] for lv in r["levels"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        ids = [s["id"] for lv in r["levels"] for s in lv["support"]]
        self.assertNotIn("6373/ksa-02", ids)
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.fit("x" * 8193)
        self.assertEqual(cm.exception.code, "bad_request")
        self.assertIn("text: length 8193 is out of range 1..8192",
                      cm.exception.message)
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.fit("   ")
        self.assertEqual(cm.exception.code, "bad_request")

    def test_diff(self):
        r = self.c.diff("ksa 02")
        cells = {c["level"]: c["text"] for c in self.c.row("ksa 02")["cells"]}
        for step in r["steps"]:
            a = " ".join(x["text"] for x in step["runs"] if x["op"] != "add")
            b = " ".join(x["text"] for x in step["runs"] if x["op"] != "del")
            self.assertEqual(a.split(), cells[step["from"]].split())
            self.assertEqual(b.split(), cells[step["to"]].split())
        self.assertEqual(r["steps"][0]["runs"][:2],
                         [{"op": "del", "text": "Basic"},
                          {"op": "add", "text": "Demonstrated"}])
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.diff("!!")
        self.assertEqual(cm.exception.code, "bad_request")

    def test_first(self):
        r = self.c.first('"root cause analysis"')
        row = r["rows"][0]
        self.assertEqual((row["row"], row["first"], row["with"]),
                         ("Key Resp 06", 1, [1, 2]))
        self.assertFalse(row["every_level_above"])
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.first("vendors AND")
        self.assertEqual(cm.exception.code, "bad_query")

    def test_verify(self):
        text = self.c.get(["5366/ksa-02"])[0]["text"]
        words = text.split()
        # curly quotes, capitals and a non-breaking space do not count
        span = "\u00a0".join(words[2:5]).upper()
        r = self.c.verify(span, clause="5366/ksa-02")
        self.assertTrue(r["verbatim"] and r["cited"]["verbatim"])
        m = r["matches"][0]
        self.assertEqual(m["id"], "5366/ksa-02")
        self.assertEqual(text[m["start"]:m["end"]].split(), words[2:5])
        changed = " ".join(words[2:4] + ["zebra"] + words[5:9])
        r = self.c.verify(changed)
        self.assertFalse(r["verbatim"])
        self.assertEqual(r["closest"]["id"], "5366/ksa-02")
        self.assertEqual(r["closest"]["distance"], 1)
        with self.assertRaises(specdex.ErrorReply) as cm:
            self.c.verify("x", clause="")
        self.assertEqual(cm.exception.code, "bad_request")

    def test_gaps(self):
        draft = self.c.get(["5366/key-resp-06"])[0]["text"]
        r = self.c.gaps(draft, 2, "Clinical Applications Professional 1-5 HX")
        self.assertIn("5366/key-resp-06", [g["id"] for g in r["covered"]])
        self.assertTrue(r["gaps"])
        self.assertTrue(all(g["id"].startswith("5366/") for g in r["gaps"]))
        for level in (0, 6):
            with self.assertRaises(specdex.ErrorReply) as cm:
                self.c.gaps(draft, level, "Clinical Applications "
                            "Professional 1-5 HX")
            self.assertEqual(cm.exception.code, "bad_request")


class ApiDocTest(unittest.TestCase):
    """Every public call has type hints and documents each parameter."""

    def test_hints_and_documented_parameters(self):
        calls = [getattr(specdex, n) for n in specdex.__all__
                 if inspect.isfunction(getattr(specdex, n))]
        calls += [f for n, f in vars(specdex.Client).items()
                  if inspect.isfunction(f) and
                  (not n.startswith("_") or n == "__init__")]
        self.assertGreater(len(calls), 10)
        for f in calls:
            name = f.__qualname__
            doc = (specdex.Client.__doc__ if f.__name__ == "__init__"
                   else f.__doc__) or ""
            sig = inspect.signature(f)
            if f.__name__ != "__init__":
                self.assertIsNot(sig.return_annotation, sig.empty,
                                 f"{name}: no return type")
            for p in sig.parameters.values():
                if p.name == "self":
                    continue
                self.assertIsNot(p.annotation, p.empty,
                                 f"{name}: {p.name} has no type hint")
                star = "**" if p.kind is p.VAR_KEYWORD else ""
                self.assertRegex(doc, rf"\n\s+{re.escape(star + p.name)} \(",
                                 f"{name}: {p.name} not documented with "
                                 "its type")


def _venv_ok():
    """Why a venv with pip and setuptools cannot be made here, or ''."""
    r = subprocess.run([sys.executable, "-c",
                        "import ensurepip, setuptools, venv"],
                       capture_output=True, text=True)
    return r.stderr.strip().splitlines()[-1] if r.returncode else ""


class PipInstallTest(unittest.TestCase):
    """pip install client/python, offline, in a venv that sees Debian's
    pyzmq and msgpack; then the module and the chatbot run from it."""

    def test_pip_install_in_venv(self):
        why = _venv_ok()
        if why:
            self.skipTest(f"no venv with setuptools here: {why}")
        src = os.path.join(TMP, "pysrc")
        # a copy: a build writes build/ and *.egg-info beside the sources
        shutil.copytree(CLIENT_DIR, src,
                        ignore=shutil.ignore_patterns("__pycache__",
                                                      "build",
                                                      "*.egg-info"))
        venv = os.path.join(TMP, "venv")
        subprocess.run([sys.executable, "-m", "venv",
                        "--system-site-packages", venv], check=True)
        py = os.path.join(venv, "bin", "python")
        r = subprocess.run([os.path.join(venv, "bin", "pip"), "install",
                            "--no-index", "--no-build-isolation", src],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run([os.path.join(venv, "bin", "pip"), "show",
                            "specdex"], capture_output=True, text=True)
        self.assertIn("Requires: msgpack, pyzmq", r.stdout)
        away = os.path.join(TMP, "elsewhere")
        os.mkdir(away)
        r = subprocess.run([py, "-c", "import specdex, sys; "
                            "print(specdex.__file__); "
                            f"print(specdex.Client({EP!r}).ping())"],
                           cwd=away, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        where, pong = r.stdout.split()
        self.assertTrue(where.startswith(venv), where)
        self.assertEqual(pong, "True")
        # the chatbot alone, its specdex the installed one
        shutil.copy(os.path.join(CLIENT_DIR, "example_chatbot.py"), away)
        r = subprocess.run([py, "example_chatbot.py", "--help"], cwd=away,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)


class ChatbotTest(unittest.TestCase):
    def test_states_its_interpreter(self):
        path = os.path.join(CLIENT_DIR, "example_chatbot.py")
        with open(path, encoding="utf-8") as f:
            first = f.readline()
            doc = f.read(2000)
        self.assertEqual(first, "#!/usr/bin/python3\n")
        self.assertIn("Python 3.9 or later with pyzmq and msgpack", doc)
        self.assertTrue(os.access(path, os.X_OK))
        r = subprocess.run([path, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_ask_returns_passages_with_citations(self):
        sys.path.insert(0, CLIENT_DIR)
        import example_chatbot
        from http.server import ThreadingHTTPServer
        client = specdex.Client(EP)
        server = ThreadingHTTPServer(("127.0.0.1", 0),
                                     example_chatbot.make_handler(client))
        t = threading.Thread(target=server.serve_forever, daemon=True)
        t.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/ask"
            body = json.dumps({"question": "root cause analysis"}).encode()
            with urllib.request.urlopen(urllib.request.Request(
                    url, data=body, method="POST")) as resp:
                answer = json.load(resp)
            self.assertTrue(answer["passages"])
            self.assertIn("Key Resp 06", answer["passages"][0]["cite"])
            self.assertIn("[1]", answer["prompt"])
            # a model's draft quoting passage 1 right and then wrongly:
            # only the first quotation is verified
            words = answer["passages"][0]["text"].split()
            right = " ".join(words[:5])
            wrong = " ".join(words[:3] + ["zebra"] + words[4:6])
            draft = (f"It says \u201c{right}\u201d [1], and also "
                     f"\"{wrong}\" [1].")
            body = json.dumps({"question": "root cause analysis",
                               "answer": draft}).encode()
            with urllib.request.urlopen(urllib.request.Request(
                    url, data=body, method="POST")) as resp:
                checked = json.load(resp)["citations"]
            self.assertEqual([c["verified"] for c in checked], [True, False])
            self.assertEqual(checked[1]["closest"]["distance"], 1)
            req = urllib.request.Request(url, data=b"{}", method="POST")
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req)
            self.assertEqual(cm.exception.code, 400)
            cm.exception.close()
        finally:
            server.shutdown()
            client.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
