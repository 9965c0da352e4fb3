#!/usr/bin/python3
"""test_shards: one index against the same corpus in three shards.

The seed corpus (with its synonyms) and the family standards are built
twice: as one index, and with ``specdex-index --shards 3`` (shard-1..3
and the meta shard).  Two shards are served by xapian-tcpsrv on
loopback; one daemon serves the one index, another the meta shard,
shard-1 from disk and the two remote shards.  Every judged query
(tests/relevance/judged.tsv, questions.tsv) and a few hundred generated
ones must get the same ranked ids and percents from both, and spelling
suggestions (kept in the meta shard, since Xapian's remote backend serves
no spelling) must agree too.

Then one xapian-tcpsrv is killed: a search fails ``unavailable`` naming
that shard, the daemon still answers ping and stats, and once the shard
is started again on its port the searches succeed again, ranked as
before.  Remote shards with no meta shard, and shards of two builds, are
refused with a message saying why.

usage: test_shards.py BIN_DIR SEED_CORPUS TEST_DATA RELEVANCE_DIR
"""
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

BIN, SEED, DATA, RELEVANCE = sys.argv[1:5]
TMP = None
CTX = zmq.Context()
PROCS = []          # every process started, killed at the end
GENERATED = 300     # generated queries


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(ep, timeout_ms=10000, **req):
    """One request on a fresh REQ socket; the reply map, or None."""
    s = CTX.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(ep)
    req.setdefault("v", 1)
    s.send(msgpack.packb(req, use_bin_type=True))
    try:
        if s.poll(timeout_ms):
            return msgpack.unpackb(s.recv(), raw=False)
        return None
    finally:
        s.close()


def start(*argv, log):
    # a session of its own: xapian-tcpsrv forks a child per connection,
    # and a shard "going away" is all of them
    p = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL,
                         stderr=open(log, "w"), start_new_session=True)
    PROCS.append(p)
    return p


def tcpsrv(path, port):
    return start("xapian-tcpsrv", "--interface", "127.0.0.1", "--port",
                 str(port), path, log=f"{TMP}/tcpsrv-{port}.log")


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def daemon(name, *indexes):
    ep = f"ipc://{TMP}/{name}.sock"
    args = [f"{BIN}/specdexd", "--endpoint", ep, "--threads", "1"]
    for i in indexes:
        args += ["--index", i]
    start(*args, log=f"{TMP}/{name}.log")
    for _ in range(100):
        r = call(ep, 200, op="ping")
        if r is not None:
            return ep
    raise AssertionError(f"{name} did not answer; log:\n" +
                         open(f"{TMP}/{name}.log").read())


def ranked(ep, **req):
    """(error code or None, [(id, percent)...]) of a search."""
    r = call(ep, op="search", **req)
    assert r is not None, f"no reply to {req}"
    if not r.get("ok"):
        return r["error"]["code"], []
    return None, [(h["id"], h["percent"]) for h in r["hits"]]


def setUpModule():
    global TMP, ONE, SHARDS, PORTS, SRV, REV
    TMP = tempfile.mkdtemp(prefix="sdx-shards-")
    corpus = f"{TMP}/corpus"
    os.mkdir(corpus)
    for f in glob.glob(f"{SEED}/*.txt") + glob.glob(f"{DATA}/family/*.txt"):
        shutil.copy(f, corpus)   # synonyms.txt among them
    for out, extra in (("one", []), ("sharded", ["--shards", "3"])):
        subprocess.run([f"{BIN}/specdex-index", "-o", f"{TMP}/{out}", *extra,
                        corpus], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    sh = f"{TMP}/sharded"
    PORTS = [free_port(), free_port()]
    SRV = {}
    for k, port in zip((2, 3), PORTS):
        path = os.path.realpath(f"{sh}/shard-{k}/current")
        SRV[port] = (path, tcpsrv(path, port))
        assert wait_port(port), f"xapian-tcpsrv on {port} did not start"
    ONE = daemon("one", f"{TMP}/one")
    SHARDS = daemon("sharded", f"{sh}/meta", f"{sh}/shard-1",
                    f"tcp://127.0.0.1:{PORTS[0]}",
                    f"tcp://127.0.0.1:{PORTS[1]}")


def tearDownModule():
    for p in PROCS:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    if not os.environ.get("SDX_KEEP_TMP"):
        shutil.rmtree(TMP, ignore_errors=True)


def judged():
    """(op, request fields) of every judged case."""
    cases = []
    for line in open(f"{RELEVANCE}/judged.tsv", encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        op, q, filters = line.rstrip("\n").split("\t")[:3]
        req = {"q": q}
        for f in ([] if filters == "-" else filters.split()):
            key, _, value = f.partition("=")
            if key == "levels":
                req["levels"] = [int(v) for v in value.split(",")]
            elif key in ("sections", "rows", "codes"):
                req[key] = value.split(",")
        cases.append((op, req))
    for line in open(f"{RELEVANCE}/questions.tsv", encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cases.append(("search", {"q": line.split("\t")[0],
                                 "syntax": "plain"}))
    return cases


def generated():
    """GENERATED searches from the corpus' own words: one to three
    words, a phrase, a wildcard, a level or section filter, grouping."""
    rnd = random.Random(18)
    words = sorted({w.strip(".,;:()").lower()
                    for f in glob.glob(f"{TMP}/corpus/*.txt")
                    for w in open(f, encoding="utf-8").read().split()
                    if w.isascii() and w.strip(".,;:()").isalpha() and
                    len(w) > 3})
    out = []
    for i in range(GENERATED):
        q = " ".join(rnd.sample(words, rnd.randint(1, 3)))
        req = {"q": q, "limit": 20}
        kind = i % 6
        if kind == 1:
            req["q"] = f'"{q}"'
        elif kind == 2:
            req["q"] = q.split()[0][:4] + "*"
        elif kind == 3:
            req["levels"] = [rnd.randint(1, 5)]
        elif kind == 4:
            req["group"] = True
        elif kind == 5:
            req["sections"] = [rnd.choice(["responsibility", "ksa"])]
        out.append(req)
    return out


class SameAnswers(unittest.TestCase):

    def test_judged_queries_rank_the_same(self):
        n = 0
        for op, req in judged():
            if op != "search":
                continue
            with self.subTest(q=req["q"]):
                one = ranked(ONE, limit=20, **req)
                self.assertEqual(ranked(SHARDS, limit=20, **req), one)
                n += 1
        self.assertGreater(n, 20)

    def test_generated_queries_rank_the_same(self):
        hits = wild = 0
        for req in generated():
            with self.subTest(req=req):
                one = ranked(ONE, **req)
                if req["q"].endswith("*"):
                    # Xapian weighs a wildcard shard by shard: refused
                    # over shards rather than ranked otherwise
                    self.assertIsNone(one[0])
                    self.assertEqual(ranked(SHARDS, **req),
                                     ("bad_query", []))
                    wild += 1
                    continue
                self.assertEqual(ranked(SHARDS, **req), one)
                hits += len(one[1])
        self.assertGreater(hits, GENERATED)   # most queries find something
        self.assertEqual(wild, GENERATED // 6)

    def test_wildcard_refusal_says_why(self):
        r = call(SHARDS, op="search", q="vend*")
        self.assertEqual(r["error"]["code"], "bad_query")
        self.assertIn("spell the words out", r["error"]["message"])
        self.assertTrue(call(ONE, op="search", q="vend*")["hits"])

    def test_ladders_and_contexts_are_the_same(self):
        for op, req in judged():
            if op not in ("ladder", "context"):
                continue
            with self.subTest(op=op, q=req["q"]):
                a, b = call(ONE, op=op, **req), call(SHARDS, op=op, **req)
                a.pop("took_us", None)
                b.pop("took_us", None)
                self.assertEqual(b, a)

    def test_spelling_and_synonyms_from_the_meta_shard(self):
        for q in ("anaylsis trubleshoot", "vendr", "root cuase analyis"):
            a, b = (call(ep, op="suggest", q=q) for ep in (ONE, SHARDS))
            self.assertTrue(a["ok"])
            self.assertIsNotNone(a.get("suggestion"))
            self.assertEqual(b.get("suggestion"), a.get("suggestion"))
        # a synonym of corpus/synonyms.txt reaches the same clauses
        self.assertEqual(ranked(SHARDS, q="RCA"), ranked(ONE, q="RCA"))
        self.assertTrue(ranked(ONE, q="RCA")[1])

    def test_stats_name_every_shard(self):
        s = call(SHARDS, op="stats")
        self.assertTrue(s["ok"])
        self.assertEqual(s["docs"], call(ONE, op="stats")["docs"])
        self.assertEqual(s["index"]["revision"], 1)
        for port in PORTS:
            self.assertIn(f"tcp://127.0.0.1:{port}", s["index"]["path"])


class Refused(unittest.TestCase):

    def test_remote_shards_without_the_meta_shard(self):
        sh = f"{TMP}/sharded"
        ep = daemon("nometa", f"{sh}/shard-1", f"tcp://127.0.0.1:{PORTS[0]}",
                    f"tcp://127.0.0.1:{PORTS[1]}")
        r = call(ep, op="search", q="vendors")
        self.assertEqual(r["error"]["code"], "unavailable")
        self.assertIn("meta shard", r["error"]["message"])

    def test_shards_of_two_builds(self):
        other = f"{TMP}/other"
        subprocess.run([f"{BIN}/specdex-index", "-o", other, "--shards", "3",
                        f"{TMP}/corpus"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([f"{BIN}/specdex-index", "-o", other, "--shards", "3",
                        f"{TMP}/corpus"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sh = f"{TMP}/sharded"   # revision 1 beside revision 2
        ep = daemon("mixed", f"{other}/meta", f"{other}/shard-1",
                    f"{sh}/shard-2", f"{other}/shard-3")
        r = call(ep, op="search", q="vendors")
        self.assertEqual(r["error"]["code"], "unavailable")
        self.assertIn("different builds", r["error"]["message"])

    def test_too_many_shards_is_a_usage_error(self):
        args = [f"{BIN}/specdexd", "--endpoint", f"ipc://{TMP}/many.sock"]
        for _ in range(17):
            args += ["--index", f"{TMP}/one"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("at most 16 shards", r.stderr)

    def test_one_index_given_as_shards_is_refused(self):
        # built without --shards: no order slot, ties would rank otherwise
        ep = daemon("plain", f"{TMP}/one", f"{TMP}/sharded/shard-1")
        r = call(ep, op="search", q="vendors")
        self.assertEqual(r["error"]["code"], "unavailable")


class ShardGoesAway(unittest.TestCase):

    def test_unavailable_names_the_shard_then_reconnects(self):
        port = PORTS[1]
        before = ranked(SHARDS, q="vendors leadership")
        self.assertIsNone(before[0])
        path, proc = SRV[port]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # (not the query above: its answer is in the result cache, and
        # still right for the revision)
        r = call(SHARDS, op="search", q="vendors escalation")
        self.assertEqual(r["error"]["code"], "unavailable")
        self.assertIn(f"tcp://127.0.0.1:{port}", r["error"]["message"])
        self.assertNotIn(f"tcp://127.0.0.1:{PORTS[0]}", r["error"]["message"])
        self.assertEqual(call(SHARDS, op="ping")["pong"], True)
        # later requests fail at once, still naming it (the worker has
        # let the broken handle go and cannot open a new one yet)
        time.sleep(0.3)
        r = call(SHARDS, op="search", q="vendors support")
        self.assertEqual(r["error"]["code"], "unavailable")
        self.assertIn(f"tcp://127.0.0.1:{port}", r["error"]["message"])
        self.assertTrue(call(SHARDS, op="stats")["ok"])
        # back on its port: the daemon opens a new handle within its
        # refresh period and answers as before
        SRV[port] = (path, tcpsrv(path, port))
        self.assertTrue(wait_port(port))
        for _ in range(100):
            if ranked(SHARDS, q="vendors escalation")[0] is None:
                break
            time.sleep(0.1)
        self.assertEqual(ranked(SHARDS, q="vendors escalation"),
                         ranked(ONE, q="vendors escalation"))
        self.assertEqual(ranked(SHARDS, q="vendors leadership"), before)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
