"""mgio: an embeddable, event-driven networking library with a C core.

The C core keeps the Mongoose 6 API; this package is its Python face:

- :class:`Manager` owns non-blocking connections and turns their I/O into handler calls;
  :class:`Connection` is one of them; :class:`Handler` is a base class for handlers.
- HTTP: ``Manager.bind(addr, handler, http=True)`` serves HTTP/1.1 (the handler gets
  :data:`EV_HTTP_REQUEST` with an :class:`HttpMessage` and answers with
  ``conn.reply()``); ``Manager.connect_http()`` sends a request; :func:`request` is a
  small synchronous client returning a :class:`Response`; :class:`Headers` is the
  case-insensitive multi-mapping of header fields.
- :class:`Mbuf`, the growable byte buffer behind every connection, with a writable buffer
  export (``memoryview``, ``socket.recv_into``).
- WebSocket: ``Manager.bind(addr, handler, http=True)`` also accepts WebSocket upgrades
  (:data:`EV_WEBSOCKET_HANDSHAKE_DONE`, then :data:`EV_WEBSOCKET_FRAME` with a
  :class:`WebSocketMessage`; answer with ``conn.send_ws()``); ``Manager.connect_ws()``
  opens a client; ``Connection.set_limits()`` sets the message size, fragment count,
  ping interval and permessage-deflate; :class:`WsOp` names the opcodes.
- Multipart uploads stream to ``on_http_part_*`` handler methods with a
  :class:`MultipartPart`; :class:`UploadHandler` saves the files to a folder.
- :func:`serve_forever` binds a handler and polls until Ctrl-C, for small scripts.
- :mod:`mgio.aio` drives a manager from an asyncio event loop, with ``connect_ws()`` and
  ``serve_ws()`` for WebSocket in coroutines.
"""

from . import auth
from ._core import Connection, HttpMessage, Manager, Mbuf, MultipartPart, WebSocketMessage
from ._redirect import TooManyRedirects
from ._version import __version__
from .auth import DigestAuth, htdigest_line
from .client import Response, request
from .events import (
    EV_ACCEPT,
    EV_CLOSE,
    EV_CONNECT,
    EV_HTTP_CHUNK,
    EV_HTTP_MULTIPART_REQUEST,
    EV_HTTP_MULTIPART_REQUEST_END,
    EV_HTTP_PART_BEGIN,
    EV_HTTP_PART_DATA,
    EV_HTTP_PART_END,
    EV_HTTP_REPLY,
    EV_HTTP_REQUEST,
    EV_POLL,
    EV_RECV,
    EV_SEND,
    EV_TIMER,
    EV_WEBSOCKET_CONTROL_FRAME,
    EV_WEBSOCKET_FRAME,
    EV_WEBSOCKET_HANDSHAKE_DONE,
    EV_WEBSOCKET_HANDSHAKE_REQUEST,
    Event,
    Flag,
    HttpFlag,
    WsOp,
    event_bit,
)
from .handler import Handler
from .headers import Headers
from .running import serve_forever
from .uploads import UploadHandler, safe_filename
from .websocket import WebSocketClosed, WebSocketError, WebSocketHandshakeError

time = Manager.time

__all__ = [
    "EV_ACCEPT",
    "EV_CLOSE",
    "EV_CONNECT",
    "EV_HTTP_CHUNK",
    "EV_HTTP_MULTIPART_REQUEST",
    "EV_HTTP_MULTIPART_REQUEST_END",
    "EV_HTTP_PART_BEGIN",
    "EV_HTTP_PART_DATA",
    "EV_HTTP_PART_END",
    "EV_HTTP_REPLY",
    "EV_HTTP_REQUEST",
    "EV_POLL",
    "EV_RECV",
    "EV_SEND",
    "EV_TIMER",
    "EV_WEBSOCKET_CONTROL_FRAME",
    "EV_WEBSOCKET_FRAME",
    "EV_WEBSOCKET_HANDSHAKE_DONE",
    "EV_WEBSOCKET_HANDSHAKE_REQUEST",
    "Connection",
    "DigestAuth",
    "Event",
    "Flag",
    "Handler",
    "Headers",
    "HttpFlag",
    "HttpMessage",
    "Manager",
    "Mbuf",
    "MultipartPart",
    "Response",
    "TooManyRedirects",
    "UploadHandler",
    "WebSocketClosed",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketMessage",
    "WsOp",
    "__version__",
    "auth",
    "event_bit",
    "htdigest_line",
    "request",
    "safe_filename",
    "serve_forever",
    "time",
]
