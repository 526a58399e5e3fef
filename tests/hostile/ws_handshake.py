"""The WebSocket opening handshake from a client (RFC 6455 4.1, 4.2.1, 4.2.2, 4.4).

A request that names neither the websocket upgrade nor a Sec-WebSocket-Key is an ordinary
request: the echo answers it. One that does (mgio takes either as the client's intent,
csrc/http/websocket.c mg__ws_is_upgrade) but is not a valid handshake is refused, as RFC
6455 4.2.1 says: 400, or 426 for a version mgio does not speak.
"""

from __future__ import annotations

from .cases import Case, Expect, ok, req

GOOD_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 4.2.2's sample nonce


def upgrade(
    *extra: str,
    key: str | None = GOOD_KEY,
    version: str | None = "13",
    upgrade_to: str = "websocket",
    connection: str = "Upgrade",
    method: str = "GET",
    http: str = "HTTP/1.1",
) -> bytes:
    lines = [f"Upgrade: {upgrade_to}", f"Connection: {connection}"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    return req("/ws", *lines, *extra, method=method, version=http)


REFUSED = Expect(400, close=True, dispatched=False)
VERSION = Expect(426, close=True, dispatched=False)

CASES = [
    Case(
        "key-15-bytes",
        "RFC 6455 4.2.1 (16 random bytes, base64)",
        upgrade(key="MTIzNDU2Nzg5MDEyMzQ1"),
        REFUSED,
    ),
    Case("key-17-bytes", "RFC 6455 4.2.1", upgrade(key="MTIzNDU2Nzg5MDEyMzQ1Njc="), REFUSED),
    Case("key-not-base64", "RFC 6455 4.2.1", upgrade(key="!!!!!!!!!!!!!!!!!!!!!!=="), REFUSED),
    Case("key-padding-inside", "RFC 4648 4", upgrade(key="dGhlIHNhbXBsZ=Bub25jZQ="), REFUSED),
    Case(
        "key-twice",
        "RFC 6455 11.3.1 (once only)",
        upgrade(f"Sec-WebSocket-Key: {GOOD_KEY}"),
        REFUSED,
    ),
    Case("key-missing", "RFC 6455 4.2.1", upgrade(key=None), REFUSED),
    Case("version-missing", "RFC 6455 4.2.1", upgrade(version=None), REFUSED),
    Case("version-8", "RFC 6455 4.4 (426 + the versions spoken)", upgrade(version="8"), VERSION),
    Case("version-14", "RFC 6455 4.4", upgrade(version="14"), VERSION),
    Case(
        "version-013", "RFC 6455 11.3.5 (1*DIGIT, no leading zero)", upgrade(version="013"), VERSION
    ),
    Case("version-not-digits", "RFC 6455 4.2.1", upgrade(version="thirteen"), VERSION),
    Case("upgrade-on-post", "RFC 6455 4.2.1 (GET)", upgrade(method="POST"), REFUSED),
    Case(
        "upgrade-on-http10",
        "RFC 6455 4.2.1 (HTTP/1.1 or higher)",
        upgrade(http="HTTP/1.0"),
        REFUSED,
    ),
    Case(
        "upgrade-to-other-protocol",
        "RFC 9110 7.8 (not websocket: no upgrade)",
        upgrade(upgrade_to="h2c", key=None, version=None),
        ok(uri="/ws"),
    ),
    Case(
        "connection-without-upgrade-option",
        "RFC 6455 4.2.1, RFC 9110 7.8",
        upgrade(connection="keep-alive"),
        REFUSED,
    ),
    Case(
        "no-upgrade-field",
        "RFC 6455 4.2.1",
        req("/ws", "Connection: Upgrade", f"Sec-WebSocket-Key: {GOOD_KEY}"),
        REFUSED,
    ),
    Case(
        "key-with-body",
        "RFC 6455 4.2.1 (a GET upgrade has no body)",
        upgrade("Content-Length: 2") + b"ab",
        REFUSED,
    ),
    Case(
        "version-twice",
        "RFC 6455 4.1, 11.3.5 (one field; combined '13, 8' is not 13)",
        upgrade("Sec-WebSocket-Version: 8"),
        VERSION,
    ),
    Case(
        "version-list", "RFC 6455 4.2.1 (the value MUST be 13)", upgrade(version="13, 8"), VERSION
    ),
    Case(
        "upgrade-with-chunked-body",
        "RFC 6455 4.2.1 (a GET upgrade has no body)",
        upgrade("Transfer-Encoding: chunked") + b"0\r\n\r\n",
        REFUSED,
    ),
    Case(
        "upgrade-token-with-version",
        "RFC 9110 7.8 (protocol/version is another protocol)",
        upgrade(upgrade_to="websocket/13"),
        REFUSED,
    ),
    Case("upgrade-on-head", "RFC 6455 4.2.1 (GET)", upgrade(method="HEAD"), REFUSED),
]

# Valid handshakes in forms the RFCs allow: each must get its 101 and then echo.
ACCEPTED = [
    Case("version-with-ows", "RFC 9110 5.5 (OWS trimmed)", upgrade(version="13 "), ok()),
    Case("key-with-ows", "RFC 9110 5.5", upgrade(key=f"  {GOOD_KEY} "), ok()),
    Case(
        "upgrade-list-with-websocket",
        "RFC 9110 7.8 (a list of protocols)",
        upgrade(upgrade_to="h2c, websocket"),
        ok(),
    ),
    Case(
        "connection-list-with-upgrade",
        "RFC 9110 7.6.1 (a list of options)",
        upgrade(connection="keep-alive, Upgrade"),
        ok(),
    ),
    Case(
        "upgrade-value-any-case",
        "RFC 6455 4.2.1 (case-insensitive)",
        upgrade(upgrade_to="WebSocket", connection="UPGRADE"),
        ok(),
    ),
    Case("content-length-zero", "RFC 9110 8.6", upgrade("Content-Length: 0"), ok()),
    Case(
        "absolute-form-target",
        "RFC 9112 3.2.2",
        upgrade().replace(b"GET /ws ", b"GET http://x/ws "),
        ok(),
    ),
    Case("after-a-keep-alive-request", "RFC 9112 9.3", req("/") + upgrade(), ok()),
]
