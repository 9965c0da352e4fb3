"""specdex: a Python client for the specdex search daemon.

One module, for chatbot backends and scripts, on pyzmq and msgpack (Debian's
python3-zmq and python3-msgpack).  It speaks protocol version 1
(docs/PROTOCOL.md) with the reliability of the ZeroMQ guide's Lazy Pirate
pattern: each attempt waits at most ``timeout`` seconds for its reply; a
silent attempt closes its socket and the next goes to the next endpoint;
after ``attempts`` attempts the call raises :class:`Unavailable`.

Several endpoints are replicas (daemons serving the same index):
``Client([a, b, c])`` sends requests round them in turn.  One that is
silent, or answers ``unavailable`` or ``overloaded``, is skipped for a
back-off (:data:`BACKOFF`: 1 s, doubling up to 16 s) while the request
goes to the next; when the back-off has passed it gets requests again,
and one reply puts it back in service.  Every request is a read, so
sending it again elsewhere is safe (docs/PROTOCOL.md, "Replicas").

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

Replies are the daemon's maps as msgpack decodes them (``dict`` with
``str`` keys); their keys are described in docs/PROTOCOL.md.  Install with
``pip install client/python`` (pyproject.toml: Python 3.9 or later, pyzmq,
msgpack), or put this file on ``sys.path``.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import stat
import threading
import time
from typing import Any, Iterable, Sequence

import msgpack
import zmq

__all__ = ["Client", "SpecdexError", "ErrorReply", "Unavailable",
           "read_key_file", "DEFAULT_ENDPOINT", "PROTOCOL_VERSION"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"
PROTOCOL_VERSION = 1
#: A failed replica is skipped BACKOFF[0] seconds, doubling with each
#: failure in a row up to BACKOFF[1] (``Client.backoff`` per client).
BACKOFF = (1.0, 16.0)

#: A reply: the daemon's msgpack map, decoded.
Reply = dict[str, Any]

# highlight=False: markers that never occur in the corpus' text (control
# characters), asked of the daemon and taken out of the snippets, which
# are then plain text rather than HTML.
_PLAIN_MARKS = ("\x02", "\x03")


class SpecdexError(Exception):
    """Base class of everything this module raises."""


class ErrorReply(SpecdexError):
    """The daemon answered with an error reply.

    ``code`` is the contract's error code (``bad_request``, ``bad_query``,
    ``overloaded``, ...), ``message`` the daemon's explanation.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Unavailable(SpecdexError):
    """No endpoint replied within the attempts (a timeout)."""


_KEY_LINE = re.compile(r'^\s*(public|secret)-key\s*=\s*"([^"]*)"\s*$')


def read_key_file(path: str | os.PathLike[str], secret: bool = False
                  ) -> tuple[bytes, bytes | None]:
    """Read a key file of ``specdex keygen``: (public, secret or None).

    Args:
        path (str | os.PathLike): the ``NAME.key`` or ``NAME.key_secret``
            file.
        secret (bool): the secret key must be there, and the file must
            not be readable by others.

    Returns:
        tuple[bytes, bytes | None]: the public key and the secret key (or
        None), each 40 bytes of Z85.

    Raises:
        ValueError: a line is malformed, a key is missing, or a secret key
            file is readable by others.
        OSError: the file cannot be read.
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

    Args:
        endpoint (str | Sequence[str] | None): a ZeroMQ endpoint or a list
            of them, replicas taken in turn; default ``$SPECDEX_ENDPOINT``
            (comma-separated) or tcp://127.0.0.1:5599.
        timeout (float): seconds one attempt waits for its reply (> 0).
        attempts (int | None): attempts per call (>= 1), each on a fresh
            socket; default two, or one per replica when there are more.
        server_key (str | None): the daemon's ``NAME.key``; with
            ``client_key``, turns on CURVE encryption and authentication.
        client_key (str | None): this client's ``NAME.key_secret``.

    Raises:
        ValueError: no endpoint, a timeout or attempts out of range, only
            one of the two keys, or a key file that is not right.
    """

    def __init__(self, endpoint: str | Sequence[str] | None = None,
                 timeout: float = 2.0, attempts: int | None = None,
                 server_key: str | None = None,
                 client_key: str | None = None) -> None:
        if endpoint is None:
            endpoint = os.environ.get("SPECDEX_ENDPOINT") or DEFAULT_ENDPOINT
            endpoint = endpoint.split(",")
        self.endpoints = [endpoint] if isinstance(endpoint, str) \
            else list(endpoint)
        if not self.endpoints:
            raise ValueError("at least one endpoint is needed")
        if not all(isinstance(e, str) and e for e in self.endpoints):
            raise ValueError("an endpoint must be a non-empty string "
                             f"(got {self.endpoints!r})")
        if attempts is None:
            attempts = max(2, len(self.endpoints))
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
        self.backoff = BACKOFF
        self._ctx = zmq.Context()
        self._local = threading.local()
        self._sockets = []          # every socket made, for close()
        self._lock = threading.Lock()
        n = len(self.endpoints)
        self._next = (os.getpid() ^ int(time.monotonic() * 1000)) % n
        self._retry_at = [0.0] * n  # put aside until (monotonic), 0: in
        self._failures = [0] * n    # failures in a row, for the back-off
        #: replies from each endpoint, over the client's life
        self.answered = [0] * n
        self._ids = itertools.count(1)

    # -- the request loop ------------------------------------------------

    def _pick(self) -> int:
        """The replica the next attempt goes to (see the module's doc)."""
        now = time.monotonic()
        n = len(self.endpoints)
        with self._lock:
            order = [(self._next + k) % n for k in range(n)]
            live = [i for i in order if self._retry_at[i] <= now]
            i = live[0] if live else min(order,
                                         key=lambda j: self._retry_at[j])
            self._next = (i + 1) % n
        return i

    def _put_aside(self, i: int) -> None:
        lo, hi = self.backoff
        with self._lock:
            delay = min(hi, lo * 2 ** min(self._failures[i], 30))
            self._failures[i] += 1
            self._retry_at[i] = time.monotonic() + delay

    def _socket(self, i: int) -> zmq.Socket:
        socks = getattr(self._local, "socks", None)
        if socks is None:
            socks = self._local.socks = {}
        sock = socks.get(i)
        if sock is None:
            sock = self._ctx.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            # a REQ socket no connection takes (its handshakes refused:
            # a wrong CURVE key) blocks in send; the timeout bounds it
            sock.setsockopt(zmq.SNDTIMEO, self.timeout_ms)
            if self._curve:
                sock.curve_serverkey, sock.curve_publickey, \
                    sock.curve_secretkey = self._curve
            sock.connect(self.endpoints[i])
            socks[i] = sock
            with self._lock:
                self._sockets.append(sock)
        return sock

    def _drop_socket(self, i: int) -> None:
        sock = self._local.socks.pop(i)
        with self._lock:
            if sock in self._sockets:
                self._sockets.remove(sock)
        sock.close(linger=0)

    def call(self, op: str, **fields: Any) -> Reply:
        """Send one request and return the reply map (``ok`` is true).

        Args:
            op (str): the operation (``search``, ``ladder``, ...).
            **fields (Any): the request's keys; those whose value is None
                are left out.

        Returns:
            Reply: the reply map.

        Raises:
            ErrorReply: the daemon answered with an error reply.
            Unavailable: no endpoint replied within the attempts.
            SpecdexError: the reply is not a map.
        """
        req = {"v": PROTOCOL_VERSION, "op": op, "id": next(self._ids)}
        req.update({k: v for k, v in fields.items() if v is not None})
        frame = msgpack.packb(req, use_bin_type=True)
        held = None     # a replica's "cannot serve now", if none does
        for _ in range(self.attempts):
            i = self._pick()
            sock = self._socket(i)
            start = time.monotonic()
            try:
                sock.send(frame)
            except zmq.Again:   # not even queued in the timeout: silence
                self._drop_socket(i)
                self._put_aside(i)
                continue
            left = self.timeout_ms - int((time.monotonic() - start) * 1000)
            if not sock.poll(max(left, 0), zmq.POLLIN):
                self._drop_socket(i)
                self._put_aside(i)
                continue
            reply = msgpack.unpackb(sock.recv(), raw=False)
            if not isinstance(reply, dict):
                raise SpecdexError("the daemon's reply is not a map")
            with self._lock:
                self.answered[i] += 1
            err = reply.get("error") or {}
            if not reply.get("ok") and len(self.endpoints) > 1 and \
                    err.get("code") in ("unavailable", "overloaded"):
                # reads are idempotent: another replica may serve it
                self._put_aside(i)
                held = err
                continue
            with self._lock:
                self._failures[i] = 0
                self._retry_at[i] = 0.0
            if not reply.get("ok"):
                raise ErrorReply(err.get("code", "error"),
                                 err.get("message", ""))
            return reply
        if held is not None:
            raise ErrorReply(held.get("code", "error"),
                             held.get("message", ""))
        raise Unavailable(
            f"no reply from {', '.join(self.endpoints)} after "
            f"{self.attempts} attempts of {self.timeout_ms} ms")

    # -- the operations of the contract ---------------------------------

    def ping(self) -> bool:
        """True when the daemon answers.

        Raises:
            Unavailable: no endpoint replied within the attempts.
        """
        return bool(self.call("ping").get("pong"))

    def search(self, q: str, offset: int | None = None,
               limit: int | None = None,
               levels: Sequence[int] | None = None,
               sections: Sequence[str] | None = None,
               rows: Sequence[str] | None = None,
               codes: Sequence[str] | None = None,
               series: str | None = None,
               snippet: bool | None = None,
               highlight: bool | tuple[str, str] | None = None,
               facets: bool | None = None,
               group: bool | None = None,
               syntax: str | None = None) -> Reply:
        """Ranked clauses for ``q``: the reply with ``total`` and ``hits``.

        Args:
            q (str): the query, in Xapian's syntax (1..1024 bytes).
            offset (int | None): hits to skip, 0..10000 (default 0).
            limit (int | None): hits to return, 1..100 (default 10).
            levels (Sequence[int] | None): only these levels, each 1..5.
            sections (Sequence[str] | None): only these section kinds
                (``summary``, ``scope``, ``responsibility``, ``ksa``,
                ``education``, ``condition``, ``environment``).
            rows (Sequence[str] | None): only these row labels, any case
                (``"key resp 06"``).
            codes (Sequence[str] | None): only these job codes.
            series (str | None): only this series, by its title (any
                case) or a job code of any of its levels; a series the
                index does not hold is ``bad_request`` naming it.
            snippet (bool | None): add each hit's ``snippet`` (default
                True).
            highlight (bool | tuple[str, str] | None): how a snippet marks
                the matched words: a pair of markers (each 1..64 bytes) and
                HTML-escaped text; True or None for ``("<mark>",
                "</mark>")``; False for plain text, no markers and no HTML
                escaping.
            facets (bool | None): add ``facets``, the matches per level,
                per section and per series (by its slug).
            group (bool | None): one hit per row whose text is the same at
                several levels, with their ``levels``.
            syntax (str | None): ``"plain"`` to read ``q`` as a question
                in plain words, as :meth:`context` does (the reply then
                has ``understood``, and ``note`` when nothing matched);
                ``"query"`` or None for the query language.

        Returns:
            Reply: ``total``, ``hits`` (clause records with ``rank``,
            ``score``, ``percent``, ``snippet``), ``partial``, and
            ``corrected``, ``facets`` when they apply.

        Raises:
            TypeError: ``highlight`` is none of the above.
            ErrorReply: ``bad_request`` (a value out of range, named in
                the message), ``bad_query``, ``overloaded``, ...
            Unavailable: no endpoint replied within the attempts.
        """
        plain = highlight is False
        if plain:
            marks: tuple[str, str] | None = _PLAIN_MARKS
        elif highlight is None or highlight is True:
            marks = None
        elif (isinstance(highlight, (tuple, list)) and len(highlight) == 2
              and all(isinstance(m, str) for m in highlight)):
            marks = (highlight[0], highlight[1])
        else:
            raise TypeError(
                "highlight takes a pair of markers such as ('<mark>', "
                "'</mark>'), True or None for those, or False for "
                "plain-text snippets (snippet=False for none); got "
                f"{highlight!r}")
        reply = self.call("search", q=q, offset=offset, limit=limit,
                          levels=levels, sections=sections, rows=rows,
                          codes=codes, series=series, snippet=snippet,
                          highlight=list(marks) if marks else None,
                          facets=facets, group=group, syntax=syntax)
        if plain:
            for hit in reply.get("hits", []):
                if isinstance(hit.get("snippet"), str):
                    text = hit["snippet"]
                    for m in _PLAIN_MARKS:
                        text = text.replace(m, "")
                    hit["snippet"] = html.unescape(text)
        return reply

    def ladder(self, q: str, sections: Sequence[str] | None = None,
               rows: Sequence[str] | None = None,
               series: str | None = None) -> Reply:
        """The best clause at each level for ``q``, and its row.

        Args:
            q (str): the query, as for :meth:`search`.
            sections (Sequence[str] | None): only these section kinds.
            rows (Sequence[str] | None): only these row labels.
            series (str | None): only this series, as for :meth:`search`.

        Returns:
            Reply: ``ladder`` (``{level, hit}`` for levels 1..5, ``hit``
            None where nothing relevant), ``row``, ``row_cells``,
            ``partial``.

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("ladder", q=q, sections=sections, rows=rows,
                         series=series)

    def row(self, row: str, series: str | None = None) -> Reply:
        """One row across the levels.

        Args:
            row (str): the row label in any case and spacing
                (``"key resp 06"``).
            series (str | None): only this series, by its title
                (``"Clinical Applications Professional 1-5 HX"``) or a job
                code of any of its levels; an unknown one is
                ``bad_request`` naming it.

        Returns:
            Reply: ``row`` (the label as the corpus writes it, None when no
            series has it) and ``cells`` (``{level, series, id, title,
            text}``, ``text`` None where a level has no such cell).

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("row", row=row, series=series)

    def get(self, ids: Iterable[str]) -> list[dict[str, Any] | None]:
        """Clauses by id, None where an id is unknown, in order.

        Args:
            ids (Iterable[str]): 1..100 clause ids (``"5366/key-resp-06"``).

        Returns:
            list[dict | None]: one clause record or None per id.

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("get", ids=list(ids))["clauses"]

    def context(self, q: str, k: int | None = None,
                max_chars: int | None = None,
                levels: Sequence[int] | None = None,
                sections: Sequence[str] | None = None,
                syntax: str | None = None,
                min_score: float | None = None) -> Reply:
        """Grounded passages with citations, for a chatbot's prompt.

        Args:
            q (str): the question as the user typed it, in plain words
                (not the query language: no operator, field or odd quote
                can fail it).
            k (int | None): passages at most, 1..20 (default 5).
            max_chars (int | None): characters of all passages' text,
                200..20000 (default 4000).
            levels (Sequence[int] | None): only these levels, each 1..5.
            sections (Sequence[str] | None): only these section kinds.
            syntax (str | None): ``"query"`` to read ``q`` in the query
                language of :meth:`search`; ``"plain"`` or None for plain
                words.
            min_score (float | None): leave out passages scoring under
                this share (0..1) of the best one (default 0.4; 0 keeps
                all ``k``).

        Returns:
            Reply: ``passages`` (``{id, cite, levels, text, score}``),
            ``chars``, ``partial``; with plain words ``understood``
            (``{levels, sections, series, rows}``: what the question named
            and the passages were restricted to or drawn from); when no
            passage came back, ``note`` saying why and, when a word was
            misspelt, ``corrected`` (the question put right).

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("context", q=q, k=k, max_chars=max_chars,
                         levels=levels, sections=sections, syntax=syntax,
                         min_score=min_score)

    def suggest(self, q: str) -> str | None:
        """A spelling-corrected query, or None when nothing needs it.

        Args:
            q (str): the query.

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("suggest", q=q).get("suggestion")

    def fit(self, text: str, series: str | None = None,
            exclude: Sequence[str] | None = None) -> Reply:
        """Which level of a series fits a duty or position description.

        Args:
            text (str): the description, 1..8192 bytes of UTF-8.
            series (str | None): only this series, by its title.
            exclude (Sequence[str] | None): clause ids left out of the
                match (1..64), e.g. the clauses the text was copied from.

        Returns:
            Reply: ``series`` (None when nothing matched, with ``note``),
            ``levels`` best first (``{level, title, job_code, score,
            share, support: [{id, row, text, score}]}``),
            ``other_series`` (``{series, level, share}``), ``partial``.

        Raises:
            ErrorReply: the daemon refused the request (``bad_request``
                for a text over 8 KiB or of blanks only).
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("fit", text=text, series=series,
                         exclude=None if exclude is None else list(exclude))

    def diff(self, row: str, series: str | None = None) -> Reply:
        """The words a row adds and removes from each level to the next.

        Args:
            row (str): the row label in any case and spacing.
            series (str | None): only this series, by its title.

        Returns:
            Reply: ``row`` and ``steps`` (``{series, from, to, from_id,
            to_id, added, removed, runs: [{op, text}]}``, ``op`` one of
            ``"same"``, ``"del"``, ``"add"``).

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("diff", row=row, series=series)

    def first(self, q: str, sections: Sequence[str] | None = None,
              rows: Sequence[str] | None = None) -> Reply:
        """At which level ``q`` first appears, row by row.

        Args:
            q (str): the query, as for :meth:`search`.
            sections (Sequence[str] | None): only these section kinds.
            rows (Sequence[str] | None): only these row labels.

        Returns:
            Reply: ``rows`` (``{series, row, first, with, without,
            no_cell, every_level_above, id, first_id, score}``), ``more``,
            ``partial``, and ``corrected`` when nothing matched.

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("first", q=q, sections=sections, rows=rows)

    def verify(self, text: str, clause: str | None = None) -> Reply:
        """Whether a quoted span is verbatim in a clause, and where.

        Call it before showing a citation: white space, case and curly
        quotes do not count, a word changed does.

        Args:
            text (str): the quoted span, 1..8192 bytes.
            clause (str | None): the id of the clause it is cited from.

        Returns:
            Reply: ``verbatim`` (bool), ``matches`` (``{id, title, row,
            start, end}``, character offsets into the clause's text),
            ``more``, ``cited`` (``{id, found, verbatim}``, with
            ``clause``), ``closest`` (when not verbatim: ``{id, title,
            row, distance, words, similarity, start, end}``, or None).

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("verify", text=text, clause=clause)

    def gaps(self, text: str, level: int, series: str) -> Reply:
        """The rows of a level that no sentence of a draft covers.

        Args:
            text (str): the draft description, 1..8192 bytes.
            level (int): the level it is written for, 1..5.
            series (str): the series, by its title.

        Returns:
            Reply: ``gaps`` (the least touched first) and ``covered``,
            each ``{row, section, id, text, touch, sentence,
            sentence_text}``; ``sentences`` and ``sentences_read``;
            ``partial`` (not every sentence was searched in time: a gap
            may be covered by one not read); ``note`` when the series
            has no such rows at that level.

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("gaps", text=text, level=level, series=series)

    def series(self) -> Reply:
        """Every series of the index, in slug order.

        Returns:
            Reply: ``series`` (``{series, levels, codes, clauses}``: the
            title, its levels ascending, the job code of each level, its
            clauses) and ``more`` (True when the list was cut short).

        Raises:
            ErrorReply: the daemon refused the request.
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("series")

    def stats(self) -> Reply:
        """The daemon's stats reply (docs/PROTOCOL.md, docs/OPERATIONS.md).

        Raises:
            Unavailable: no endpoint replied within the attempts.
        """
        return self.call("stats")

    # -- lifecycle --------------------------------------------------------

    def close(self) -> None:
        """Close every socket and the context.  Safe to call twice."""
        with self._lock:
            for sock in self._sockets:
                sock.close(linger=0)
            self._sockets.clear()
        self._local = threading.local()
        if not self._ctx.closed:
            self._ctx.term()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
