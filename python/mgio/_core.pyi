"""Type stubs for the C extension module mgio._core."""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, SupportsIndex, TypedDict, final, overload

from typing_extensions import Buffer

from .events import WsOp
from .headers import Headers

__version__: str

@final
class Mbuf:
    """A growable byte buffer (the C mbuf of mgio) that exports a writable buffer."""

    def __new__(cls, data: Buffer = ..., capacity: int = 0) -> Mbuf: ...
    @property
    def size(self) -> int:
        """Bytes allocated (the capacity); always >= len(self)."""
    def append(self, data: Buffer, /) -> None:
        """Append the bytes of a bytes-like object."""
    def insert(self, offset: SupportsIndex, data: Buffer, /) -> None:
        """Insert bytes at offset (-len <= offset <= len); IndexError when out of range."""
    def remove(self, count: SupportsIndex, /) -> None:
        """Drop count bytes from the front; ValueError when count > len."""
    def clear(self) -> None:
        """Empty the data and keep the allocation."""
    def resize(self, size: SupportsIndex, /) -> None:
        """Set the allocation to exactly size bytes; ValueError when size < len."""
    def trim(self) -> None:
        """Shrink the allocation to the data length."""
    def free(self) -> None:
        """Release the storage; the Mbuf becomes empty with size 0."""
    def __bytes__(self) -> bytes: ...
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: SupportsIndex, /) -> int: ...
    @overload
    def __getitem__(self, key: slice, /) -> bytes: ...
    @overload
    def __setitem__(self, key: SupportsIndex, value: SupportsIndex, /) -> None: ...
    @overload
    def __setitem__(self, key: slice, value: Buffer, /) -> None: ...
    def __delitem__(self, key: SupportsIndex | slice, /) -> None: ...
    def __iter__(self) -> Iterator[int]: ...
    def __contains__(self, item: SupportsIndex | Buffer, /) -> bool: ...
    def __iadd__(self, data: Buffer, /) -> Mbuf: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __lt__(self, other: Buffer, /) -> bool: ...
    def __le__(self, other: Buffer, /) -> bool: ...
    def __gt__(self, other: Buffer, /) -> bool: ...
    def __ge__(self, other: Buffer, /) -> bool: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
    def __release_buffer__(self, view: memoryview, /) -> None: ...
    __hash__: None  # type: ignore[assignment]

EventHandler = Callable[[Connection, int, Any], object]
HeaderFields = Mapping[str, str | bytes | int] | Iterable[tuple[str | bytes, str | bytes | int]]

@final
class HttpMessage:
    """An HTTP request or response given to a handler (EV_HTTP_REQUEST, EV_HTTP_REPLY,
    EV_HTTP_CHUNK). Attributes are made on first access; a message kept after the
    handler returns is copied out of the connection's buffer then, and stays valid."""

    @property
    def method(self) -> str:
        """The request method; "" for a response."""
    @property
    def uri(self) -> str:
        """The request target up to '?', as sent (UTF-8, surrogate escapes)."""
    @property
    def query_string(self) -> str:
        """The target after the first '?'; "" when none."""
    @property
    def proto(self) -> str:
        """"HTTP/1.1" or "HTTP/1.0"."""
    @property
    def status(self) -> int:
        """The status code of a response; 0 for a request."""
    @property
    def status_text(self) -> str:
        """The reason phrase of a response."""
    @property
    def headers(self) -> Headers:
        """The header fields (case-insensitive, ordered, duplicates kept)."""
    @property
    def body(self) -> bytes:
        """The body (de-chunked); in EV_HTTP_CHUNK the bytes so far not deleted."""
    @property
    def flags(self) -> int:
        """MG_HTTP_F_* bits (mgio.HttpFlag)."""
    @property
    def keep_alive(self) -> bool:
        """True when the connection persists after this message."""
    @property
    def chunked(self) -> bool:
        """True when the body uses the chunked transfer coding."""
    @property
    def content_length(self) -> int:
        """The announced body length; -1 when unknown."""
    @overload
    def header(self, name: str) -> str | None:
        """The first value of field `name` (any case), or `default` (None)."""
    @overload
    def header(self, name: str, default: str) -> str: ...
    @overload
    def header(self, name: str, default: Any) -> Any: ...
    def var(self, name: str, default: Any = None) -> Any:
        """Form variable `name` from the query string or a form body, decoded."""
    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) of a Basic Authorization field; None when absent or invalid."""

@final
class WebSocketMessage:
    """A WebSocket message or control frame given to a handler (EV_WEBSOCKET_FRAME,
    EV_WEBSOCKET_CONTROL_FRAME). len(msg) is the payload length. Attributes are made on
    first access; a message kept after the handler returns is copied out of the
    connection's buffer then, and stays valid. conn.send_ws(msg) echoes it in place."""

    @property
    def data(self) -> bytes:
        """The payload (for text: its UTF-8 bytes)."""
    @property
    def text(self) -> str:
        """The payload decoded as UTF-8 (always works for a text message)."""
    @property
    def opcode(self) -> WsOp | int:
        """TEXT or BINARY (CONTINUE for a later fragment with WEBSOCKET_NO_DEFRAG), or
        CLOSE, PING, PONG."""
    @property
    def fin(self) -> bool:
        """True for a whole message or a last fragment."""
    @property
    def is_text(self) -> bool: ...
    @property
    def is_binary(self) -> bool: ...
    @property
    def is_control(self) -> bool: ...
    @property
    def close_code(self) -> int | None:
        """A Close frame's code (1005 when it had none); None for other frames."""
    @property
    def close_reason(self) -> str | None:
        """A Close frame's reason; None for other frames."""
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...

@final
class MultipartPart:
    """One event of a streaming multipart request (EV_HTTP_PART_BEGIN, EV_HTTP_PART_DATA,
    EV_HTTP_PART_END, EV_HTTP_MULTIPART_REQUEST_END). len(part) is len(part.data). A part
    kept after the handler returns is copied then (data), and stays readable."""

    @property
    def var_name(self) -> str:
        """The Content-Disposition name ("" when absent, and at REQUEST_END)."""
    @property
    def file_name(self) -> str:
        """The Content-Disposition filename as sent ("" when absent); unsafe as a path."""
    @property
    def data(self) -> bytes:
        """EV_HTTP_PART_DATA: the bytes of this event; b"" for the other events."""
    @property
    def status(self) -> int:
        """0, or negative on PART_END / REQUEST_END when the stream failed."""
    user_data: Any
    """Any object, kept over the whole multipart request; None at first. Settable only
    during the handler call that got this part."""
    def consume(self, n: int, /) -> None:
        """During on_http_part_data only: take the first n bytes of data; the rest is
        offered again with what follows (or at once when the body is complete; an offer
        taken nothing of is then dropped)."""
    def __len__(self) -> int: ...

class Limits(TypedDict):
    """Connection.limits: the HTTP and WebSocket limits of an HTTP connection."""

    request_line: int
    header_section: int
    max_headers: int
    field_line: int
    body: int
    ws_max_message: int
    ws_max_fragments: int
    ws_ping_interval: float
    ws_close_timeout: float
    ws_ping_timeout: float
    ws_deflate: bool
    multipart_max_header: int
    multipart_max_parts: int
    header_timeout: float
    body_timeout: float
    send_timeout: float
    keep_alive_timeout: float
    max_requests: int
    ws_handshake_timeout: float

@final
class Connection:
    """A connection of a Manager: a listener, an outbound or accepted connection, or a
    timer. Made by Manager.bind / connect / add_timer or by an accepted client."""

    handler: EventHandler | None
    user_data: Any
    @property
    def flags(self) -> int:
        """The MG_F_* flags (mgio.Flag)."""
    @flags.setter
    def flags(self, value: int) -> None: ...
    @property
    def recv_buf(self) -> Mbuf:
        """Received bytes not yet consumed: a live Mbuf view (exports are snapshots)."""
    @property
    def send_buf(self) -> Mbuf:
        """Bytes queued for sending: a live Mbuf view."""
    @property
    def closed(self) -> bool: ...
    @property
    def remote_address(self) -> tuple[str, int] | None: ...
    @property
    def local_address(self) -> tuple[str, int] | None: ...
    @property
    def recv_limit(self) -> int:
        """Reading pauses while recv_buf holds this many bytes."""
    @recv_limit.setter
    def recv_limit(self, value: int) -> None: ...
    @property
    def manager(self) -> Manager: ...
    def send(self, data: Buffer, /) -> None:
        """Queue bytes; ConnectionError once closed."""
    def close(self, *, immediately: bool = False) -> None:
        """Close after the queued output is sent, or at once."""
    @property
    def is_websocket(self) -> bool:
        """True while the connection is an open WebSocket (closing handshake included)."""
    @property
    def limits(self) -> Limits:
        """The HTTP and WebSocket limits (a copy; change them with set_limits)."""
    def set_limits(
        self,
        *,
        request_line: int = ...,
        header_section: int = ...,
        max_headers: int = ...,
        field_line: int = ...,
        body: int = ...,
        ws_max_message: int = ...,
        ws_max_fragments: int = ...,
        ws_ping_interval: float = ...,
        ws_close_timeout: float = ...,
        ws_ping_timeout: float | None = ...,
        ws_deflate: bool = ...,
        multipart_max_header: int = ...,
        multipart_max_parts: int = ...,
        header_timeout: float | None = ...,
        body_timeout: float | None = ...,
        send_timeout: float | None = ...,
        keep_alive_timeout: float | None = ...,
        max_requests: int = ...,
        ws_handshake_timeout: float | None = ...,
    ) -> None:
        """Change the limits of an HTTP connection or listener; keywords left out keep
        their value (timeouts in seconds, 0 or None off; see docs/limits.md). A
        listener passes them to the connections it accepts afterwards. ValueError when
        it does not speak HTTP."""
    def send_ws(
        self, data: Buffer | str | WebSocketMessage, op: int | None = None, *, fin: bool = True
    ) -> None:
        """Queue a WebSocket frame: str as text, bytes-like as binary, a message with its
        opcode, unless `op` says otherwise; fin=False starts a fragmented message."""
    def ws_select_protocol(self, name: str | None, /) -> None:
        """In on_ws_handshake_request: the subprotocol the 101 names (one the client
        offered; None names none)."""
    def ws_close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake with `code` and `reason` (<= 123 UTF-8 bytes)."""
    def set_timer(self, when: float, /) -> float:
        """Arm EV_TIMER at absolute time `when` (0 disarms); returns the previous value."""
    def reply(
        self, status: int = 200, body: Buffer | str = b"", headers: HeaderFields | None = None
    ) -> None:
        """Queue a complete response with Content-Length (no body after HEAD)."""
    def send_head(
        self, status: int, length: int = -1, headers: HeaderFields | None = None
    ) -> None:
        """Queue a response head; length -1 means a chunked body (send_chunk)."""
    def send_chunk(self, data: Buffer | str, /) -> None:
        """Queue one chunk of a chunked body; an empty one ends it."""
    def send_error(self, code: int, reason: Buffer | str | None = None) -> None:
        """Queue a text/plain error response and close after it."""
    def redirect(
        self, location: str | bytes, status: int = 302, headers: HeaderFields | None = None
    ) -> None:
        """Queue a redirect to `location`."""
    def delete_chunk(self) -> None:
        """In EV_HTTP_CHUNK: drop the body bytes just shown (streaming)."""
    def register_endpoint(self, pattern: str, handler: EventHandler) -> None:
        """On an HTTP listener: route requests whose URI matches the glob `pattern`."""
    def serve_file(
        self,
        msg: HttpMessage,
        path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        mime: str | None = None,
        headers: HeaderFields | None = None,
    ) -> None:
        """Answer `msg` with the file at `path` (conditional, Range, HEAD, streamed)."""
    def serve_dir(
        self,
        msg: HttpMessage,
        root: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        /,
        *,
        index_files: str | None = None,
        enable_directory_listing: bool | str | None = None,
        hidden_file_pattern: str | None = None,
        custom_mime_types: str | None = None,
        ip_acl: str | None = None,
        url_rewrites: str | None = None,
        per_directory_auth_file: str | None = None,
        auth_domain: str | None = None,
        global_auth_file: str | os.PathLike[str] | None = None,
        headers: HeaderFields | None = None,
        **options: Any,
    ) -> None:
        """Answer `msg` from the folder `root` (mg_serve_http options as keywords)."""

@final
class Manager:
    """An event manager: owns connections and turns their I/O into handler calls."""

    poll_events: bool
    def __new__(cls, *, poll_events: bool = False) -> Manager: ...
    @property
    def connections(self) -> list[Connection]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def max_connections(self) -> int: ...
    @max_connections.setter
    def max_connections(self, value: int) -> None: ...
    def bind(
        self,
        address: str,
        handler: EventHandler | None = None,
        http: bool = False,
        *,
        reuse_port: bool = False,
    ) -> Connection:
        """Listen on address; with http=True the accepted connections speak HTTP/1.1 and
        accept WebSocket upgrades. reuse_port=True sets SO_REUSEPORT (TCP), so that
        several processes listen on one port and the kernel spreads connections."""
    def connect(
        self, address: str, handler: EventHandler | None = None, http: bool = False
    ) -> Connection:
        """Connect without blocking; with http=True replies are parsed."""
    def connect_http(
        self,
        url: str,
        handler: EventHandler | None = None,
        method: str = "GET",
        headers: HeaderFields | None = None,
        body: Buffer | str | None = None,
    ) -> Connection:
        """Connect to an http:// URL and send one request."""
    def connect_ws(
        self,
        url: str,
        handler: EventHandler | None = None,
        protocol: str | Iterable[str] | None = None,
        headers: HeaderFields | None = None,
        *,
        deflate: bool = True,
    ) -> Connection:
        """Connect to a ws:// URL and send the WebSocket upgrade request."""
    def add_timer(self, handler: EventHandler | None, /) -> Connection: ...
    def poll(self, timeout_ms: int = 0) -> int: ...
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def wakeup(self) -> None: ...
    def broadcast(self, func: Callable[..., object], /, *args: Any) -> None: ...
    def fileno(self) -> int: ...
    def next_timer(self) -> float: ...
    def close(self) -> None: ...
    def __enter__(self) -> Manager: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    @staticmethod
    def time() -> float: ...
