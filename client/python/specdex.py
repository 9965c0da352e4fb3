"""specdex: a Python client for the specdex search daemon.

One module, for chatbot backends and scripts, on pyzmq and msgpack (Debian's
python3-zmq and python3-msgpack).  It speaks protocol version 1
(docs/PROTOCOL.md) with the reliability of the ZeroMQ guide's Lazy Pirate
pattern: each attempt waits at most ``timeout`` seconds for its reply; a
silent attempt closes its socket and the next goes to the next endpoint;
after ``attempts`` attempts the call raises :class:`Unavailable`.

    >>> from specdex import Client
    >>> with Client("tcp://127.0.0.1:5599") as sdx:
    ...     for hit in sdx.search("root cause analysis", limit=3)["hits"]:
    ...         print(hit["id"], hit["title"])

A client is safe to share between threads: each thread gets its own
socket (ZeroMQ sockets must not be shared), all on one context.

For a daemon that requires CURVE (``specdexd --curve-secret``), pass the
daemon's public key file and this client's secret key file, as written by
``specdex keygen``::

    Client("tcp://10.0.0.5:5599", server_key="server.key",
           client_key="chatbot.key_secret")
"""

import itertools
import os
import re
import stat
import threading

import msgpack
import zmq

__all__ = ["Client", "SpecdexError", "ErrorReply", "Unavailable",
           "read_key_file", "DEFAULT_ENDPOINT", "PROTOCOL_VERSION"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"
PROTOCOL_VERSION = 1


class SpecdexError(Exception):
    """Base class of everything this module raises."""


class ErrorReply(SpecdexError):
    """The daemon answered with an error reply.

    ``code`` is the contract's error code (``bad_request``, ``bad_query``,
    ``overloaded``, ...), ``message`` the daemon's explanation.
    """

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Unavailable(SpecdexError):
    """No endpoint replied within the attempts (a timeout)."""


_KEY_LINE = re.compile(r'^\s*(public|secret)-key\s*=\s*"([^"]*)"\s*$')


def read_key_file(path, secret=False):
    """Read a key file of ``specdex keygen``: (public, secret or None).

    Keys come back as Z85 bytes.  With ``secret=True`` the secret key must
    be there and the file must not be readable by others.
    """
    keys = {}
    with open(path, encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            m = _KEY_LINE.match(line)
            if not m or line.startswith("#"):
                continue
            if len(m.group(2)) != 40:
                raise ValueError(f"{path}:{n}: a key must be 40 Z85 "
                                 "characters")
            keys[m.group(1)] = m.group(2).encode("ascii")
        mode = os.fstat(f.fileno()).st_mode
    if "public" not in keys:
        raise ValueError(f"{path}: no public-key line")
    if secret:
        if "secret" not in keys:
            raise ValueError(f"{path}: no secret-key line (is this the "
                             ".key_secret file?)")
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(f"{path}: a secret key must not be readable "
                             "by others (chmod 600 it)")
    return keys["public"], keys.get("secret")


class Client:
    """A connection to one or more specdexd endpoints.

    ``endpoint`` is a ZeroMQ endpoint or a list of them, tried in turn
    (failover); default ``$SPECDEX_ENDPOINT`` or tcp://127.0.0.1:5599.
    ``timeout`` is seconds per attempt, ``attempts`` attempts per call.
    ``server_key`` (the daemon's NAME.key) and ``client_key`` (this
    client's NAME.key_secret) turn on CURVE encryption and authentication.
    """

    def __init__(self, endpoint=None, timeout=2.0, attempts=2,
                 server_key=None, client_key=None):
        if endpoint is None:
            endpoint = os.environ.get("SPECDEX_ENDPOINT") or DEFAULT_ENDPOINT
        self.endpoints = [endpoint] if isinstance(endpoint, str) \
            else list(endpoint)
        if not self.endpoints:
            raise ValueError("at least one endpoint is needed")
        if timeout <= 0 or attempts < 1:
            raise ValueError("timeout must be > 0 and attempts >= 1")
        if (server_key is None) != (client_key is None):
            raise ValueError("CURVE needs both server_key and client_key")
        self._curve = None
        if server_key is not None:
            server_public, _ = read_key_file(server_key)
            public, secret = read_key_file(client_key, secret=True)
            self._curve = (server_public, public, secret)
        self.timeout_ms = int(timeout * 1000)
        self.attempts = attempts
        self._ctx = zmq.Context()
        self._local = threading.local()
        self._sockets = []          # every socket made, for close()
        self._lock = threading.Lock()
        self._next = itertools.count()
        self._ids = itertools.count(1)

    # -- the request loop ------------------------------------------------

    def _socket(self):
        sock = getattr(self._local, "sock", None)
        if sock is None:
            ep = self.endpoints[next(self._next) % len(self.endpoints)]
            sock = self._ctx.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            if self._curve:
                sock.curve_serverkey, sock.curve_publickey, \
                    sock.curve_secretkey = self._curve
            sock.connect(ep)
            self._local.sock = sock
            with self._lock:
                self._sockets.append(sock)
        return sock

    def _drop_socket(self):
        sock = self._local.sock
        self._local.sock = None
        with self._lock:
            if sock in self._sockets:
                self._sockets.remove(sock)
        sock.close(linger=0)

    def call(self, op, **fields):
        """Send one request and return the reply map (ok is true).

        Fields whose value is None are left out.  Raises ErrorReply for an
        error reply and Unavailable when no endpoint replies in time.
        """
        req = {"v": PROTOCOL_VERSION, "op": op, "id": next(self._ids)}
        req.update({k: v for k, v in fields.items() if v is not None})
        frame = msgpack.packb(req, use_bin_type=True)
        for _ in range(self.attempts):
            sock = self._socket()
            sock.send(frame)
            if sock.poll(self.timeout_ms, zmq.POLLIN):
                reply = msgpack.unpackb(sock.recv(), raw=False)
                if not isinstance(reply, dict):
                    raise SpecdexError("the daemon's reply is not a map")
                if not reply.get("ok"):
                    err = reply.get("error") or {}
                    raise ErrorReply(err.get("code", "error"),
                                     err.get("message", ""))
                return reply
            self._drop_socket()
        raise Unavailable(
            f"no reply from {', '.join(self.endpoints)} after "
            f"{self.attempts} attempts of {self.timeout_ms} ms")

    # -- the operations of the contract ---------------------------------

    def ping(self):
        """True when the daemon answers."""
        return bool(self.call("ping").get("pong"))

    def search(self, q, offset=None, limit=None, levels=None, sections=None,
               rows=None, codes=None, snippet=None, highlight=None,
               facets=None, group=None, syntax=None):
        """Ranked clauses for ``q``: the reply with ``total`` and ``hits``.

        ``q`` is the query language unless ``syntax="plain"``: then it is
        a question in plain words, and the reply also has ``understood``
        (and ``note`` when nothing matched), as for ``context``.
        """
        return self.call("search", q=q, offset=offset, limit=limit,
                         levels=levels, sections=sections, rows=rows,
                         codes=codes, snippet=snippet, highlight=highlight,
                         facets=facets, group=group, syntax=syntax)

    def ladder(self, q, sections=None, rows=None):
        """The best clause at each level for ``q``, and its row."""
        return self.call("ladder", q=q, sections=sections, rows=rows)

    def row(self, row, series=None):
        """One row (``"key resp 06"``) across the levels."""
        return self.call("row", row=row, series=series)

    def get(self, ids):
        """Clauses by id, None where an id is unknown, in order."""
        return self.call("get", ids=list(ids))["clauses"]

    def context(self, q, k=None, max_chars=None, levels=None,
                sections=None, syntax=None, min_score=None):
        """Grounded passages with citations, for a chatbot's prompt.

        ``q`` is the user's question as typed (plain words; pass
        ``syntax="query"`` for the query language).  ``min_score`` (0..1,
        default 0.4 on the daemon) leaves out passages scoring under that
        share of the best one.  The reply has ``passages``,
        ``understood`` ({levels, sections, series, rows}: what the
        question named and the passages were restricted to) and, when
        there are no passages, ``note`` saying why and perhaps
        ``corrected`` (the question with its misspellings put right).
        """
        return self.call("context", q=q, k=k, max_chars=max_chars,
                         levels=levels, sections=sections, syntax=syntax,
                         min_score=min_score)

    def suggest(self, q):
        """A spelling-corrected query, or None."""
        return self.call("suggest", q=q).get("suggestion")

    def stats(self):
        """The daemon's stats reply."""
        return self.call("stats")

    # -- lifecycle --------------------------------------------------------

    def close(self):
        """Close every socket and the context.  Safe to call twice."""
        with self._lock:
            for sock in self._sockets:
                sock.close(linger=0)
            self._sockets.clear()
        self._local = threading.local()
        if not self._ctx.closed:
            self._ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
