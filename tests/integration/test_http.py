#!/usr/bin/python3
"""test_http: specdex-http, the HTTP/JSON gateway, on a real daemon.

Indexes the corpus into a temp dir, starts specdexd on an ipc socket and
specdex-http on a loopback port the kernel picks, and checks: every op
through POST /v1/OP answers what the daemon answers the Python client
(the same translation, no code per op); GET /v1/search for links; error
codes as HTTP statuses (429 and 503 with Retry-After, 504 when the
daemon is silent); the limits on body, headers, connections and idle
time; the bearer token; that the access log never holds the query; the
page's files and headers; and the OpenAPI document at /v1/openapi.json
against real replies of every op (Debian's python3-jsonschema, JSON
Schema 2020-12 as OpenAPI 3.1 uses it).
usage: test_http.py BIN_DIR CORPUS_DIR CLIENT_DIR
"""
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import jsonschema
import zmq

BIN, CORPUS, CLIENT_DIR = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, CLIENT_DIR)
import specdex  # noqa: E402


def start_daemon(index, ep, *extra):
    d = subprocess.Popen([os.path.join(BIN, "specdexd"), "--index", index,
                          "--endpoint", ep, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with specdex.Client(ep, timeout=0.2, attempts=1) as c:
        for _ in range(50):
            try:
                if c.ping():
                    return d
            except specdex.Unavailable:
                time.sleep(0.1)
    raise RuntimeError("specdexd did not come up")


def hold_and_relay(front, back, delay, done):
    """A ROUTER on FRONT that passes each request to the daemon at BACK
    DELAY seconds after it came, and its reply back, until DONE."""
    ctx = zmq.Context.instance()
    f, b = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    f.setsockopt(zmq.LINGER, 0)
    b.setsockopt(zmq.LINGER, 0)
    f.bind(front)
    b.connect(back)
    held = []  # (due, frames)
    poller = zmq.Poller()
    poller.register(f, zmq.POLLIN)
    poller.register(b, zmq.POLLIN)
    while not done.is_set():
        wait = 50 if not held else max(0, int((held[0][0] -
                                                time.monotonic()) * 1000))
        for sock, _ in poller.poll(min(wait, 50)):
            if sock is f:
                held.append((time.monotonic() + delay, f.recv_multipart()))
            else:
                f.send_multipart(b.recv_multipart())
        while held and held[0][0] <= time.monotonic():
            b.send_multipart(held.pop(0)[1])
    f.close()
    b.close()


class Gateway:
    """specdex-http on 127.0.0.1:<port the kernel picked>."""

    def __init__(self, *args):
        self.p = subprocess.Popen([os.path.join(BIN, "specdex-http"),
                                   "--listen", "127.0.0.1:0", *args],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = []
        for line in self.p.stderr:
            self.lines.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                break
        else:
            raise RuntimeError("specdex-http did not start: " +
                               "".join(self.lines))
        self.port = int(m.group(1))

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, hdrs, json.loads(data)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rest = self.p.communicate(timeout=10)[1]
        self.lines += rest.splitlines(keepends=True)
        return self.p.returncode


def setUpModule():
    global TMP, DAEMON, EP, GW, API
    TMP = tempfile.mkdtemp()
    subprocess.run([os.path.join(BIN, "specdex-index"), "-o",
                    os.path.join(TMP, "index"), CORPUS],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    EP = f"ipc://{TMP}/sdx.sock"
    DAEMON = start_daemon(os.path.join(TMP, "index"), EP, "--threads", "2")
    GW = Gateway("--endpoint", EP, "--access-log")
    status, _, API = GW.json("GET", "/v1/openapi.json")
    assert status == 200


def tearDownModule():
    rc = GW.stop()
    DAEMON.send_signal(signal.SIGTERM)
    DAEMON.wait(timeout=5)
    shutil.rmtree(TMP, ignore_errors=True)
    if rc != 0:
        raise RuntimeError(f"specdex-http exited {rc} after SIGTERM")


def strip(reply):
    """A reply without what differs from one answer to the next."""
    reply = dict(reply)
    reply.pop("took_us", None)
    return reply


def schema(name):
    """Component NAME of the served OpenAPI document, refs resolvable."""
    return {"$ref": "#/components/schemas/" + name,
            "components": API["components"]}


def validate(value, name):
    jsonschema.Draft202012Validator(schema(name)).validate(value)


# One request of every op, with the keys it takes.
REQUESTS = {
    "ping": {},
    "search": {"q": "root cause analysis", "limit": 3, "levels": [1, 2],
               "sections": ["responsibility"], "facets": True},
    "ladder": {"q": "root cause analysis"},
    "row": {"row": "key resp 06"},
    "get": {"ids": ["5365/key-resp-06", "nope/x"]},
    "context": {"q": "who does root cause analysis at level 1?", "k": 2},
    "suggest": {"q": "troubleshootng"},
    "stats": {},
    "fit": {"text": "Performs root cause analysis of clinical software"},
    "diff": {"row": "key resp 06"},
    "first": {"q": "root cause analysis"},
    "verify": {"text": "Performs root cause analysis",
               "clause": "5366/key-resp-06"},
    "gaps": {"text": "Troubleshoots clinical software. Writes reports.",
             "level": 2,
             "series": "Clinical Applications Professional 1-5 HX"},
    "series": {},
}


class OpsTest(unittest.TestCase):
    def test_every_op_is_the_daemons_reply(self):
        with specdex.Client(EP, timeout=2.0) as c:
            for op, req in REQUESTS.items():
                with self.subTest(op=op):
                    status, hdrs, got = GW.json("POST", "/v1/" + op, req)
                    self.assertEqual(status, 200, got)
                    self.assertTrue(got["ok"])
                    self.assertEqual(hdrs["Content-Type"],
                                     "application/json; charset=utf-8")
                    if op == "stats":
                        continue  # counters move between the two asks
                    want = c.call(op, **req)
                    del want["id"]  # the Python client numbers its asks
                    self.assertEqual(strip(got), strip(want))

    def test_openapi_describes_every_op_and_its_real_reply(self):
        self.assertEqual(API["openapi"], "3.1.0")
        # The ops the daemon itself names.
        _, _, r = GW.json("POST", "/v1/nosuchop", {})
        ops = re.search(r"ops are (.*)$", r["error"]["message"]).group(1)
        ops = sorted(ops.split(", "))
        self.assertEqual(sorted(REQUESTS), ops)
        self.assertEqual(sorted(p for p in API["paths"]),
                         sorted("/v1/" + op for op in ops))
        for op, req in REQUESTS.items():
            with self.subTest(op=op):
                validate(req, op + "Request")
                _, _, reply = GW.json("POST", "/v1/" + op, req)
                validate(reply, op + "Reply")
        # The schemas are not empty shells: a reply missing a key fails.
        _, _, reply = GW.json("POST", "/v1/ladder", REQUESTS["ladder"])
        del reply["row_cells"]
        with self.assertRaises(jsonschema.ValidationError):
            validate(reply, "ladderReply")

    def test_openapi_error_replies(self):
        for method, path, body in (
                ("POST", "/v1/search", {"q": "x", "levels": [9]}),
                ("POST", "/v1/search", {"q": "a AND"}),
                ("POST", "/v1/nosuchop", {}),
                ("GET", "/v1/search?q=x&level=x", None),
                ("POST", "/v1/search", "{not json")):
            with self.subTest(path=path, body=body):
                status, _, reply = GW.json(method, path, body)
                self.assertIn(status, (400, 404))
                validate(reply, "Error")

    def test_get_search_for_links(self):
        status, _, r = GW.json(
            "GET", "/v1/search?q=root+cause%20analysis&level=1&level=2"
                   "&section=responsibility&limit=2")
        self.assertEqual(status, 200, r)
        self.assertEqual([h["id"] for h in r["hits"]],
                         ["5365/key-resp-06", "5366/key-resp-06"])
        with specdex.Client(EP, timeout=2.0) as c:
            want = c.call("search", q="root cause analysis",
                          levels=[1, 2], sections=["responsibility"],
                          limit=2)
            del want["id"]
        self.assertEqual(strip(r), strip(want))
        validate(r, "searchReply")
        for query, message in (
                ("q=x&limit=many", 'limit: "many" is not a whole number'),
                ("q=x&q=y", "q: given twice"),
                ("q=x&colour=red", 'unknown parameter "colour"'),
                ("q=x&group=maybe", 'group: "maybe" is not true'),
                ("q=%ff", "q: not valid UTF-8"),
                ("level=1", 'missing key "q"')):
            with self.subTest(query=query):
                status, _, r = GW.json("GET", "/v1/search?" + query)
                self.assertEqual(status, 400)
                self.assertIn(message, r["error"]["message"])

    def test_statuses(self):
        cases = [
            ("POST", "/v1/search", {"q": "x", "limit": 0}, 400,
             "bad_request", "limit: 0 is out of range"),
            ("POST", "/v1/search", {"q": "a AND"}, 400, "bad_query", "q: "),
            ("POST", "/v1/search", {"q": "x", "v": 2}, 400,
             "unsupported_version", ""),
            ("POST", "/v1/search", {"q": "x", "op": "ladder"}, 400,
             "bad_request", "op: the body names another op"),
            ("POST", "/v1/search", '["q"]', 400, "bad_request",
             "must be a JSON object"),
            ("POST", "/v1/search", '{"q": "a", "q": "b"}', 400,
             "bad_request", "duplicate"),
            ("POST", "/v1/frobnicate", {}, 404, "unknown_op",
             'unknown op "frobnicate"'),
            ("POST", "/v1/Search", {}, 404, "not_found", "no such path"),
            ("GET", "/nothing-here", None, 404, "not_found", "no such page"),
            ("GET", "/v1/ladder?q=x", None, 405, "method_not_allowed",
             "GET serves /v1/search only"),
            ("PUT", "/v1/search", "{}", 405, "method_not_allowed", ""),
            ("POST", "/", "{}", 405, "method_not_allowed", ""),
        ]
        for method, path, body, status, code, message in cases:
            with self.subTest(path=path, body=body):
                got, hdrs, r = GW.json(method, path, body)
                self.assertEqual(got, status, r)
                self.assertEqual(r["error"]["code"], code)
                self.assertIn(message, r["error"]["message"])
                self.assertNotIn("Retry-After", hdrs)
                if status == 405:
                    self.assertEqual(hdrs["Allow"], "GET, POST")

    def test_the_id_comes_back(self):
        _, _, r = GW.json("POST", "/v1/ping", {"id": ["x", 7]})
        self.assertEqual(r["id"], ["x", 7])

    def test_many_at_once_each_gets_its_own_reply(self):
        # 96 requests at once from 24 threads, through 4 daemon calls in
        # flight (the rest wait in the gateway): each reply is the one
        # for its request (its id, and its query's first hit), none lost
        gw = Gateway("--endpoint", EP, "--threads", "4")
        queries = {"root cause analysis": None, "vendor": None,
                   "troubleshooting": None}
        for q in queries:
            _, _, r = GW.json("POST", "/v1/search", {"q": q, "limit": 1})
            queries[q] = r["hits"][0]["id"]
        names = sorted(queries)

        def one(i):
            q = names[i % len(names)]
            status, _, r = gw.json("POST", "/v1/search",
                                   {"q": q, "limit": 1, "id": i})
            return i, q, status, r
        try:
            with concurrent.futures.ThreadPoolExecutor(24) as pool:
                got = list(pool.map(one, range(96)))
        finally:
            self.assertEqual(gw.stop(), 0)
        self.assertEqual(len(got), 96)
        for i, q, status, r in got:
            self.assertEqual(status, 200, r)
            self.assertEqual(r["id"], i)
            self.assertEqual(r["hits"][0]["id"], queries[q])

    def test_stop_answers_what_is_in_flight(self):
        # SIGTERM while requests are with the daemon: each is still
        # answered, then the gateway exits 0 and takes no new
        # connection.  The daemon is reached through a relay that holds
        # each request 0.5 s, so the requests are surely in flight when
        # the signal comes; the replies are the real daemon's.
        front = f"ipc://{TMP}/held.sock"
        done = threading.Event()
        relay = threading.Thread(target=hold_and_relay,
                                 args=(front, EP, 0.5, done))
        relay.start()
        gw = Gateway("--endpoint", front, "--timeout", "5000")
        socks = []
        try:
            # 4: the relay is one connection to the daemon, which takes
            # at most 4 requests in flight from one (docs/PROTOCOL.md)
            for i in range(4):
                body = json.dumps({"q": "root cause analysis", "id": i})
                c = socket.create_connection(("127.0.0.1", gw.port),
                                             timeout=20)
                c.sendall(b"POST /v1/search HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\nContent-Length: %d\r\n"
                          b"\r\n%s" % (len(body), body.encode()))
                socks.append(c)
            time.sleep(0.2)  # read by the gateway, held by the relay
            gw.p.send_signal(signal.SIGTERM)
            for i, c in enumerate(socks):
                data = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
                reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
                self.assertEqual(reply["id"], i)
                self.assertEqual(reply["hits"][0]["id"], "5365/key-resp-06")
            self.assertEqual(gw.p.wait(timeout=10), 0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", gw.port), timeout=2)
        finally:
            for c in socks:
                c.close()
            if gw.p.poll() is None:
                gw.stop()
            done.set()
            relay.join(timeout=10)

    def test_stop_with_a_call_never_answered(self):
        # SIGTERM while the daemon never answers: after the drain the
        # request is answered 503 `unavailable` (not left hanging, and
        # the gateway does not abort: libmicrohttpd may not stop with a
        # suspended connection), and the gateway exits 0
        gw = Gateway("--endpoint", f"ipc://{TMP}/never.sock",
                     "--timeout", "60000")
        try:
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                fut = pool.submit(gw.json, "POST", "/v1/search", {"q": "x"})
                time.sleep(0.3)
                gw.p.send_signal(signal.SIGTERM)
                status, hdrs, r = fut.result(timeout=30)
            self.assertEqual(status, 503)
            self.assertEqual(r["error"]["code"], "unavailable")
            self.assertIn("stopping", r["error"]["message"])
            self.assertEqual(hdrs["Retry-After"], "1")
            self.assertEqual(gw.p.wait(timeout=10), 0)
        finally:
            if gw.p.poll() is None:
                gw.stop()

    def test_page_files(self):
        for path, kind in (("/", "text/html"), ("/app.js", "text/javascript"),
                           ("/style.css", "text/css"),
                           ("/v1/openapi.json", "application/json")):
            with self.subTest(path=path):
                status, hdrs, data = GW.request("GET", path)
                self.assertEqual(status, 200)
                self.assertTrue(hdrs["Content-Type"].startswith(kind))
                self.assertIn("default-src 'none'",
                              hdrs["Content-Security-Policy"])
                self.assertEqual(hdrs["X-Content-Type-Options"], "nosniff")
                self.assertEqual(hdrs["Referrer-Policy"], "no-referrer")
                self.assertGreater(len(data), 100)
        # Nothing on the page loads from elsewhere.
        for path in ("/", "/app.js", "/style.css"):
            _, _, data = GW.request("GET", path)
            self.assertNotRegex(data.decode(), r"(src|href)=\"?(https?:)?//")
            self.assertNotIn("@import", data.decode())

    def test_access_log_never_holds_the_query(self):
        GW.request("GET", "/v1/search?q=zebrasecret")
        GW.request("POST", "/v1/search", {"q": "zebrasecret"})
        GW.request("POST", "/v1/search", {"q": "zebrasecret", "limit": 0})
        rc = GW.stop()
        self.assertEqual(rc, 0)
        log = "".join(GW.lines)
        self.assertIn("GET /v1/search 200", log)
        self.assertIn("POST /v1/search 400", log)
        self.assertNotIn("zebrasecret", log)
        restart()


def restart():
    global GW
    GW = Gateway("--endpoint", EP, "--access-log")


class LimitsTest(unittest.TestCase):
    def test_body_limit(self):
        gw = Gateway("--endpoint", EP, "--max-body", "1000")
        try:
            ok = {"q": "root cause", "rows": ["x" * 100] * 8}
            status, _, r = gw.json("POST", "/v1/search", ok)
            self.assertEqual(status, 200, r)
            big = {"q": "root cause", "rows": ["x" * 100] * 12}
            status, _, r = gw.json("POST", "/v1/search", big)
            self.assertEqual(status, 413)
            self.assertEqual(r["error"]["code"], "too_large")
            self.assertIn("over 1000 bytes", r["error"]["message"])
            # Chunked, so no Content-Length to refuse up front.
            c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
            c.request("POST", "/v1/search",
                      body=iter([json.dumps(big).encode()]),
                      encode_chunked=True,
                      headers={"Transfer-Encoding": "chunked"})
            resp = c.getresponse()
            self.assertEqual(resp.status, 413)
            c.close()
            # The daemon's own frame limit, past a gateway body limit
            # big enough to let it through.
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_daemon_frame_limit_is_413_too(self):
        gw = Gateway("--endpoint", EP, "--max-body", "200000")
        try:
            status, _, r = gw.json("POST", "/v1/get",
                                   {"ids": ["x" * 250] * 100,
                                    "id": "y" * 70000})
            self.assertEqual(status, 413)
            self.assertEqual(r["error"]["code"], "too_large")
        finally:
            gw.stop()

    def test_header_limit(self):
        gw = Gateway("--endpoint", EP, "--max-header", "4096")
        try:
            status, _, _ = gw.request("GET", "/v1/search?q=x",
                                      headers={"X-Big": "y" * 8000})
            self.assertEqual(status, 431)
            status, _, _ = gw.request("GET", "/v1/search?q=" + "y" * 8000)
            self.assertEqual(status, 414)
            status, _, _ = gw.request("GET", "/v1/search?q=x",
                                      headers={"X-Small": "y" * 100})
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_connection_limit(self):
        gw = Gateway("--endpoint", EP, "--max-connections", "3",
                     "--threads", "1")
        held = []
        try:
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", gw.port))
                s.sendall(b"GET /v1/ping HTTP/1.1\r\n")  # and no more
                held.append(s)
            # A 4th waits in the kernel's queue, unanswered, while the
            # three are open (a bound, not a speed: nothing may come)...
            extra = socket.create_connection(("127.0.0.1", gw.port))
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
            extra.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                extra.recv(100)
            # ... and is served once they close.
            for s in held:
                s.close()
            held = []
            extra.settimeout(30)
            self.assertTrue(extra.recv(100).startswith(b"HTTP/1.1 200"))
            extra.close()
        finally:
            for s in held:
                s.close()
            gw.stop()

    def test_idle_connection_is_closed(self):
        gw = Gateway("--endpoint", EP, "--idle-timeout", "1")
        try:
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
            s.sendall(b"POST /v1/search HTTP/1.1\r\nHost: x\r\n")
            self.assertEqual(s.recv(100), b"")  # closed, not answered
            s.close()
        finally:
            gw.stop()

    def test_time_per_request_silent_daemon_is_504(self):
        gw = Gateway("--endpoint", f"ipc://{TMP}/nobody.sock",
                     "--timeout", "100")
        try:
            status, hdrs, r = gw.json("POST", "/v1/search", {"q": "x"})
            self.assertEqual(status, 504)
            self.assertEqual(r["error"]["code"], "timeout")
            self.assertIn("nobody.sock within 2 x 100 ms",
                          r["error"]["message"])
            validate(r, "Error")
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_unavailable_is_503_with_retry_after(self):
        ep = f"ipc://{TMP}/empty.sock"
        d = start_daemon(os.path.join(TMP, "no-index"), ep)
        gw = Gateway("--endpoint", ep)
        try:
            status, hdrs, r = gw.json("POST", "/v1/search", {"q": "x"})
            self.assertEqual(status, 503)
            self.assertEqual(r["error"]["code"], "unavailable")
            self.assertEqual(hdrs["Retry-After"], "1")
        finally:
            gw.stop()
            d.send_signal(signal.SIGTERM)
            d.wait(timeout=5)

    def test_overloaded_is_429_with_retry_after(self):
        ep = f"ipc://{TMP}/busy.sock"
        d = start_daemon(os.path.join(TMP, "index"), ep, "--threads", "1",
                         "--queue", "1", "--cache-mb", "0")
        gw = Gateway("--endpoint", ep, "--threads", "32")
        req = {"q": "a* OR b* OR c* OR d* OR s* OR t*", "facets": True,
               "limit": 100}
        try:
            seen = {}
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                for _ in range(20):
                    for status, hdrs, r in pool.map(
                            lambda _: gw.json("POST", "/v1/search", req),
                            range(32)):
                        seen.setdefault(status, (hdrs, r))
                    if 429 in seen:
                        break
            self.assertIn(429, seen, "never overloaded: %s" % list(seen))
            hdrs, r = seen[429]
            self.assertEqual(r["error"]["code"], "overloaded")
            self.assertEqual(hdrs["Retry-After"], "1")
            self.assertEqual(set(seen), {200, 429})
        finally:
            gw.stop()
            d.send_signal(signal.SIGTERM)
            d.wait(timeout=5)


class TokenTest(unittest.TestCase):
    def test_bearer_token(self):
        path = os.path.join(TMP, "token")
        with open(path, "w") as f:
            f.write("s3cret-token-of-some-length\n")
        gw = Gateway("--endpoint", EP, "--token-file", path)
        try:
            status, hdrs, r = gw.json("POST", "/v1/ping", {})
            self.assertEqual(status, 401)
            self.assertEqual(r["error"]["code"], "unauthorized")
            self.assertIn("Bearer", hdrs["WWW-Authenticate"])
            for bad in ("Bearer s3cret-token-of-some-lengt",
                        "Bearer s3cret-token-of-some-length2",
                        "Basic s3cret-token-of-some-length", ""):
                status, _, _ = gw.json("POST", "/v1/ping", {},
                                       {"Authorization": bad})
                self.assertEqual(status, 401, bad)
            status, _, r = gw.json(
                "GET", "/v1/search?q=root",
                headers={"Authorization":
                         "Bearer s3cret-token-of-some-length"})
            self.assertEqual(status, 200, r)
            # The page itself holds nothing of the index.
            self.assertEqual(gw.request("GET", "/")[0], 200)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_bad_token_files_and_binds(self):
        short = os.path.join(TMP, "short")
        with open(short, "w") as f:
            f.write("abc\n")
        for args, message in (
                (["--token-file", short], "the token must be 16..4096 bytes"),
                (["--token-file", os.path.join(TMP, "absent")],
                 "No such file"),
                (["--listen", "0.0.0.0:0"], "reachable from other machines"),
                (["--listen", "localhost:80"], "a numeric address"),
                (["--listen", "127.0.0.1"], "is not ADDR:PORT"),
                (["--max-body", "0"], "not a number in 2..")):
            with self.subTest(args=args):
                cmd = [os.path.join(BIN, "specdex-http"), "--listen",
                       "127.0.0.1:0", "--endpoint", EP] + args
                r = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=10)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
