"""HTTP authentication helpers: Digest (RFC 7616, in the RFC 2617 MD5 form htdigest files
hold) and Basic (RFC 7617), for servers written in Python and for the mgio clients.

Server side::

    digest = mgio.auth.DigestAuth("my realm", "/etc/app.htdigest")   # or {"joe": "pw"}

    def handler(conn, ev, msg):
        if ev == mgio.EV_HTTP_REQUEST:
            if not digest.require(conn, msg):   # sent the 401 challenge
                return
            conn.reply(200, "hello " + digest.user(msg))

Nonces verify themselves (issue time, serial number and an HMAC-SHA256 under a random
per-checker key); they expire after ``lifetime`` seconds (the 401 then says
``stale=true``); ``nc`` must grow with every use of a nonce (a bounded table keeps the
most recent nonces; a nonce evicted from it is stale); the ``uri`` parameter must equal
the request target; every parameter is bounded and the header is parsed strictly; the
response is compared in constant time.

Client side: :func:`mgio.request` and :func:`mgio.aio.request` take
``auth=(user, password)`` and use :func:`authorization_for` to answer a 401 challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple, Union

__all__ = [
    "DigestAuth",
    "DigestResult",
    "authorization_for",
    "check_basic",
    "htdigest_line",
    "parse_challenges",
    "parse_digest_params",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Bounds on Digest parameters (bytes of the unquoted value), as in the C server.
LIMITS: dict[str, int] = {
    "username": 256,
    "realm": 256,
    "nonce": 128,
    "uri": 16384,
    "response": 64,
    "cnonce": 256,
    "opaque": 256,
    "qop": 32,
    "nc": 8,
    "algorithm": 32,
}
_MAX_HEADER = 20000
_MAX_OTHER = 256
_MAX_PARAMS = 16
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_HEX = frozenset("0123456789abcdef")
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, data: str) -> str:
    return _HASHES[algorithm](data.encode("utf-8", "surrogateescape")).hexdigest()


def htdigest_line(user: str, realm: str, password: str) -> str:
    """One line of an htdigest file, ``user:realm:MD5(user:realm:password)`` (no newline).

    Raises ValueError when ``user`` or ``realm`` holds ':', CR, LF or NUL, or is empty.
    """
    for what, value in (("user", user), ("realm", realm)):
        if not value or any(c in value for c in ":\r\n\0"):
            raise ValueError(f"{what} must be non-empty without ':', CR, LF or NUL")
    if any(c in password for c in "\r\n\0"):
        raise ValueError("password must not hold CR, LF or NUL")
    return f"{user}:{realm}:{_h('MD5', f'{user}:{realm}:{password}')}"


# ---- strict parsing -------------------------------------------------------------------


def _parse_list(text: str, pos: int, limits: Mapping[str, int]) -> dict[str, str] | None:
    """Parses ``name=value`` pairs (token or quoted-string values) separated by commas from
    text[pos:], empty elements ignored; None when malformed, empty, a name repeats, or a
    value is over its limit."""
    params: dict[str, str] = {}
    n = len(text)
    empty = 0
    while True:
        # empty list elements (", ," or a trailing comma) are ignored (RFC 9110 5.6.1.2)
        while pos < n and text[pos] in " \t,":
            empty += text[pos] == ","
            pos += 1
        if empty > _MAX_PARAMS:
            return None
        if pos >= n:
            return params or None
        start = pos
        while pos < n and text[pos] in _TOKEN_CHARS:
            pos += 1
        name = text[start:pos].lower()
        if not name or len(name) > 32:
            return None
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n or text[pos] != "=":
            return None
        pos += 1
        while pos < n and text[pos] in " \t":
            pos += 1
        limit = limits.get(name, _MAX_OTHER)
        if pos < n and text[pos] == '"':
            pos += 1
            out: list[str] = []
            while True:
                if pos >= n:
                    return None  # unterminated
                c = text[pos]
                if c == '"':
                    pos += 1
                    break
                if c == "\\":
                    pos += 1
                    if pos >= n:
                        return None
                    c = text[pos]
                if c in "\r\n\0" or (ord(c) < 32 and c != "\t") or ord(c) == 127:
                    return None
                out.append(c)
                if len(out) > limit:
                    return None
                pos += 1
            value = "".join(out)
        else:
            start = pos
            while pos < n and text[pos] in _TOKEN_CHARS:
                pos += 1
            value = text[start:pos]
            if not value or len(value) > limit:
                return None
        if name in params or len(params) >= _MAX_PARAMS:
            return None
        params[name] = value
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            return params
        if text[pos] != ",":
            return None


def parse_digest_params(value: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: Digest ...`` field value (names lowercased,
    quoted strings unescaped), or None when the scheme is not Digest or anything is
    malformed, repeated or over its bound (:data:`LIMITS`)."""
    if len(value) > _MAX_HEADER:
        return None
    text = value.strip(" \t")
    if len(text) < 7 or text[:6].lower() != "digest" or text[6] not in " \t":
        return None
    return _parse_list(text, 7, LIMITS)


def parse_challenges(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """The challenges in ``WWW-Authenticate`` field values: (scheme lowercased, params).

    Handles the common forms (one challenge per field, or several separated by commas
    where a new scheme starts); malformed challenges are skipped.
    """
    out: list[tuple[str, dict[str, str]]] = []
    for value in values:
        if len(value) > _MAX_HEADER:
            continue
        # Split where a new scheme begins: ", Scheme " (a token followed by space).
        pieces: list[str] = []
        cur = ""
        for part in _split_top(value):
            stripped = part.strip(" \t")
            head = stripped.split(None, 1)[0] if stripped else ""
            if head and "=" not in head and all(c in _TOKEN_CHARS for c in head):
                if cur:
                    pieces.append(cur)
                cur = stripped
            else:
                cur = f"{cur},{part}" if cur else part
        if cur:
            pieces.append(cur)
        for piece in pieces:
            piece = piece.strip(" \t")
            scheme, _, rest = piece.partition(" ")
            scheme = scheme.lower()
            if not scheme:
                continue
            rest = rest.strip(" \t")
            if not rest:
                out.append((scheme, {}))
                continue
            params = _parse_list(rest, 0, {})
            if params is None:
                if scheme == "basic":
                    out.append((scheme, {}))
                continue
            out.append((scheme, params))
    return out


def _split_top(value: str) -> list[str]:
    """Splits at commas that are outside quoted strings."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = escaped = False
    for c in value:
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return parts


# ---- server side ----------------------------------------------------------------------


class DigestResult(NamedTuple):
    """The outcome of :meth:`DigestAuth.verify`: ``ok``; ``user`` (when ok); ``stale``
    (the credentials were right but the nonce had expired, was unknown or nc replayed:
    the challenge should say stale=true)."""

    ok: bool
    user: str | None = None
    stale: bool = False


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth:
    """A Digest checker for a realm, against an htdigest file or a mapping.

    ``users`` is a path of an htdigest file (read at each check, so edits take effect;
    lines of other realms are ignored; a missing file authorizes nobody), or a mapping
    {user: password}, or with ``hashed=True`` {user: HA1} (hex MD5 of
    ``user:realm:password``). ``lifetime`` is the nonce lifetime in seconds, ``table``
    the number of recent nonces whose ``nc`` is tracked. Thread-safe.

    The challenge offers ``algorithm=MD5`` (what htdigest files allow); a client answering
    with SHA-256 is accepted when the plain password is known (a mapping, hashed=False).
    """

    def __init__(
        self,
        realm: str,
        users: PathLike | Mapping[str, str],
        *,
        hashed: bool = False,
        lifetime: float = 300.0,
        table: int = 1024,
    ) -> None:
        if not realm or any(c in realm for c in '\r\n\0"\\:'):
            raise ValueError("realm must be non-empty without CR, LF, NUL, '\"', '\\' or ':'")
        self.realm = realm
        self.users = users
        self.hashed = hashed
        self.lifetime = float(lifetime)
        self._key = secrets.token_bytes(32)
        self._serial = 0
        self._table: OrderedDict[str, int] = OrderedDict()
        self._table_size = max(1, int(table))
        self._lock = threading.Lock()
        self._pid = os.getpid()

    # -- nonces

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, self.realm.encode() + b"\0" + body, hashlib.sha256).digest()[:16]

    def new_nonce(self) -> str:
        """A fresh nonce (64 hex digits: issue time, serial, MAC), entered in the nc table."""
        with self._lock:
            if os.getpid() != self._pid:  # forked: a key of our own
                self._pid = os.getpid()
                self._key = secrets.token_bytes(32)
                self._table.clear()
            self._serial += 1
            body = struct.pack(">dQ", time.monotonic(), self._serial)
            nonce = (body + self._mac(body)).hex()
            self._table[nonce] = 0
            while len(self._table) > self._table_size:
                self._table.popitem(last=False)
        return nonce

    def _nonce_state(self, nonce: str) -> str:
        """ "ok", "stale" or "bad" (forged / malformed)."""
        if len(nonce) != 64 or not set(nonce) <= _HEX:
            return "bad"
        raw = bytes.fromhex(nonce)
        body, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return "bad"
        issued, _ = struct.unpack(">dQ", body)
        age = time.monotonic() - issued
        if age < 0 or age > self.lifetime:
            return "stale"
        return "ok"

    def challenge(self, stale: bool = False) -> tuple[int, dict[str, str]]:
        """(401, {"WWW-Authenticate": ...}) with a fresh nonce; ``stale=True`` adds
        stale=true."""
        value = (
            f'Digest realm={_quote(self.realm)}, qop="auth", nonce="{self.new_nonce()}", '
            "algorithm=MD5"
        )
        if stale:
            value += ", stale=true"
        return 401, {"WWW-Authenticate": value}

    def send_challenge(self, conn: Any, stale: bool = False) -> None:
        """Sends the 401 challenge on ``conn`` (``conn.reply``)."""
        status, headers = self.challenge(stale)
        conn.reply(status, "Unauthorized\n", headers={**headers, "Content-Type": "text/plain"})

    # -- credentials

    def _ha1(self, user: str, algorithm: str) -> str | None:
        users = self.users
        if isinstance(users, Mapping):
            secret = users.get(user)
            if not isinstance(secret, str):
                return None
            if self.hashed:
                return secret.lower() if algorithm == "MD5" else None
            return _h(algorithm, f"{user}:{self.realm}:{secret}")
        if algorithm != "MD5":
            return None
        try:
            with open(users, encoding="utf-8", errors="surrogateescape") as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    u, sep, rest = line.partition(":")
                    if not sep or u != user:
                        continue
                    realm, sep, ha1 = rest.rpartition(":")
                    if sep and realm == self.realm and len(ha1) == 32:
                        return ha1.lower()
        except OSError:
            return None
        return None

    def verify(self, msg: Any) -> DigestResult:
        """Checks the request ``msg`` (an :class:`mgio.HttpMessage`) for valid Digest
        credentials. A second Authorization field, any malformed or over-long parameter,
        a wrong realm, qop other than auth, an unknown algorithm, a ``uri`` that is not
        the request target, or a forged nonce fails; right credentials with an expired or
        evicted nonce, or with an nc not above the last one, give ``stale=True``."""
        values = msg.headers.getall("authorization", [])
        if len(values) != 1:
            return DigestResult(False)
        p = parse_digest_params(values[0])
        if p is None:
            return DigestResult(False)
        for name in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"):
            if name not in p:
                return DigestResult(False)
        algorithm = p.get("algorithm", "MD5").upper()
        if algorithm not in _HASHES or p["qop"] != "auth" or p["realm"] != self.realm:
            return DigestResult(False)
        nc = p["nc"]
        if len(nc) != 8 or not set(nc.lower()) <= _HEX or int(nc, 16) == 0:
            return DigestResult(False)
        target = msg.uri + ("?" + msg.query_string if msg.query_string else "")
        if not hmac.compare_digest(
            p["uri"].encode("utf-8", "surrogateescape"), target.encode("utf-8", "surrogateescape")
        ):
            return DigestResult(False)
        if not p["cnonce"]:
            return DigestResult(False)
        state = self._nonce_state(p["nonce"])
        if state == "bad":
            return DigestResult(False)
        ha1 = self._ha1(p["username"], algorithm)
        # Compute even for unknown users so the timing does not tell them apart.
        known = ha1 is not None
        if ha1 is None:
            ha1 = _h(algorithm, secrets.token_hex(16))
        ha2 = _h(algorithm, f"{msg.method}:{p['uri']}")
        expected = _h(algorithm, f"{ha1}:{p['nonce']}:{nc}:{p['cnonce']}:{p['qop']}:{ha2}")
        good = hmac.compare_digest(
            expected.encode(), p["response"].lower().encode("ascii", "replace")
        )
        if not (good and known):
            return DigestResult(False)
        if state == "stale":
            return DigestResult(False, stale=True)
        count = int(nc, 16)
        with self._lock:
            last = self._table.get(p["nonce"])
            if last is None or count <= last:
                return DigestResult(False, stale=True)
            self._table[p["nonce"]] = count
            self._table.move_to_end(p["nonce"])
        return DigestResult(True, p["username"])

    def check(self, msg: Any) -> bool:
        """True when :meth:`verify` accepts ``msg``."""
        return self.verify(msg).ok

    def require(self, conn: Any, msg: Any) -> bool:
        """Verifies ``msg``; when it fails, sends the 401 challenge (stale=true when only
        the nonce was stale) on ``conn`` and returns False."""
        result = self.verify(msg)
        if not result.ok:
            self.send_challenge(conn, result.stale)
        return result.ok

    def user(self, msg: Any) -> str | None:
        """The username parameter of the Digest Authorization of ``msg`` (unverified:
        call after :meth:`verify` succeeded), or None."""
        value = msg.headers.get("authorization")
        p = parse_digest_params(value) if value else None
        return p.get("username") if p else None


def check_basic(msg: Any, users: Mapping[str, str]) -> str | None:
    """The user when ``msg`` carries Basic credentials (``msg.basic_auth()``) matching
    ``users`` {user: password}, compared in constant time; else None. An empty user
    never matches."""
    creds = msg.basic_auth()
    if not creds:
        return None
    user, password = creds
    if not user:
        return None
    expected = users.get(user)
    ok_user = isinstance(expected, str)
    secret = expected if isinstance(expected, str) else secrets.token_hex(16)
    same = hmac.compare_digest(
        hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest(),
        hashlib.sha256(password.encode("utf-8", "surrogateescape")).digest(),
    )
    return user if (same and ok_user) else None


# ---- client side ----------------------------------------------------------------------


def authorization_for(
    method: str,
    target: str,
    challenges: list[str],
    user: str,
    password: str,
) -> str | None:
    """The Authorization field value answering the ``WWW-Authenticate`` values
    ``challenges`` of a 401 for ``method`` on request target ``target`` (path and query),
    or None when no usable challenge is offered. Prefers Digest (qop=auth or no qop;
    SHA-256 over MD5 when both are offered; nc=00000001, cnonce from :mod:`secrets`),
    else Basic."""
    parsed = parse_challenges(challenges)
    digests = []
    for scheme, params in parsed:
        if scheme != "digest" or "nonce" not in params or "realm" not in params:
            continue
        alg = params.get("algorithm", "MD5").upper()
        if alg not in _HASHES:
            continue
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            continue
        digests.append((1 if alg == "SHA-256" else 0, alg, params, bool(qops)))
    if digests:
        digests.sort(key=lambda d: -d[0])
        _, alg, params, has_qop = digests[0]
        realm, nonce = params["realm"], params["nonce"]
        ha1 = _h(alg, f"{user}:{realm}:{password}")
        ha2 = _h(alg, f"{method}:{target}")
        fields = [
            f"username={_quote(user)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(target)}",
        ]
        if has_qop:
            cnonce = secrets.token_hex(16)
            nc = "00000001"
            response = _h(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        else:
            response = _h(alg, f"{ha1}:{nonce}:{ha2}")
        fields.append(f"response={_quote(response)}")
        fields.append(f"algorithm={alg}")
        if "opaque" in params:
            fields.append(f"opaque={_quote(params['opaque'])}")
        return "Digest " + ", ".join(fields)
    if any(scheme == "basic" for scheme, _ in parsed):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return f"Basic {token}"
    return None
