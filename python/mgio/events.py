"""Event numbers and connection flags, with the values of the C API (mgio.h)."""

from __future__ import annotations

import enum


class Event(enum.IntEnum):
    """What a handler is told; the C MG_EV_* numbers."""

    POLL = 0  #: every connection, every poll (only with Manager(poll_events=True))
    ACCEPT = 1  #: a new client; data is its (host, port)
    CONNECT = 2  #: an outbound connect finished; data is 0 or an errno (-1: no address)
    RECV = 3  #: data is the number of bytes just added to conn.recv_buf
    SEND = 4  #: data is the number of bytes just sent from conn.send_buf
    CLOSE = 5  #: the last event of every connection; data is None
    TIMER = 6  #: the timer set with conn.set_timer() expired; data is its time
    HTTP_REQUEST = 100  #: a complete request (server); data is an HttpMessage
    HTTP_REPLY = 101  #: a complete response (client); data is an HttpMessage
    HTTP_CHUNK = 102  #: body bytes so far (both sides); data is an HttpMessage
    #: a valid WebSocket upgrade request (server); data is an HttpMessage. Refuse it
    #: with conn.send_error() or conn.close(); otherwise 101 follows
    WEBSOCKET_HANDSHAKE_REQUEST = 111
    #: the handshake ended; data is an HttpMessage: the request (server), or the
    #: response (client: status 101 when open, else the refusal and a close)
    WEBSOCKET_HANDSHAKE_DONE = 112
    WEBSOCKET_FRAME = 113  #: a whole data message; data is a WebSocketMessage
    #: a control frame (Close, Ping, Pong); data is a WebSocketMessage
    WEBSOCKET_CONTROL_FRAME = 114
    HTTP_MULTIPART_REQUEST = 121  #: the head of a multipart/form-data request
    HTTP_PART_BEGIN = 122  #: a part of a multipart body starts
    HTTP_PART_DATA = 123  #: bytes of the current part
    HTTP_PART_END = 124  #: the current part ended
    HTTP_MULTIPART_REQUEST_END = 125  #: the multipart body ended


# The bit of each event in a handler's ``_mgio_events`` mask. Event numbers go past 31,
# so they are mapped to bit positions; the C layer (csrc/pyext) uses the same table.
# Any event not listed here uses bit 31.
_EVENT_BITS: dict[int, int] = {
    **{ev: ev for ev in range(7)},
    100: 7,
    101: 8,
    102: 9,
    105: 10,
    106: 11,
    111: 12,
    112: 13,
    113: 14,
    114: 15,
    121: 16,
    122: 17,
    123: 18,
    124: 19,
    125: 20,
}
_OTHER_EVENT_BIT = 31


def event_bit(ev: int) -> int:
    """The mask bit (``1 << position``) that stands for event ``ev`` in a handler's
    ``_mgio_events``: a plain function handler may set that attribute to the OR of the
    bits of the events it takes, and the manager skips the others without a Python call.
    """
    return 1 << _EVENT_BITS.get(ev, _OTHER_EVENT_BIT)


class Flag(enum.IntFlag):
    """Connection flags; the C MG_F_* bits. Handlers may change USER_*, SEND_AND_CLOSE,
    CLOSE_IMMEDIATELY and the protocol user flags."""

    LISTENING = 1 << 0
    UDP = 1 << 1
    RESOLVING = 1 << 2
    CONNECTING = 1 << 3
    IS_WEBSOCKET = 1 << 8
    SEND_AND_CLOSE = 1 << 10
    CLOSE_IMMEDIATELY = 1 << 11
    WEBSOCKET_NO_DEFRAG = 1 << 12
    DELETE_CHUNK = 1 << 13
    #: multipart bodies arrive whole as EV_HTTP_REQUEST (set by mgio when no handler of
    #: the connection takes a multipart event)
    NO_MULTIPART_STREAMING = 1 << 16
    USER_1 = 1 << 20
    USER_2 = 1 << 21
    USER_3 = 1 << 22
    USER_4 = 1 << 23
    USER_5 = 1 << 24
    USER_6 = 1 << 25


class WsOp(enum.IntEnum):
    """WebSocket opcodes (the C WEBSOCKET_OP_*): ``WebSocketMessage.opcode`` and the
    ``op`` of ``Connection.send_ws``."""

    CONTINUE = 0  #: a later fragment of a message (sent with send_ws(..., fin=...))
    TEXT = 1  #: a text message (UTF-8)
    BINARY = 2  #: a binary message
    CLOSE = 8  #: the closing handshake (a code and a reason)
    PING = 9  #: answered with a PONG carrying the same payload (mgio does it)
    PONG = 10  #: the answer to a PING, or a unidirectional heartbeat


class HttpFlag(enum.IntFlag):
    """Bits of ``HttpMessage.flags`` (the C MG_HTTP_F_*)."""

    CHUNKED = 1 << 0  #: the body uses the chunked transfer coding
    KEEP_ALIVE = 1 << 1  #: the connection persists after this message
    UPGRADE = 1 << 2  #: Connection: upgrade with an Upgrade field
    EXPECT_CONTINUE = 1 << 3  #: an HTTP/1.1 request with Expect: 100-continue
    EXPECT_OTHER = 1 << 4  #: a request with another expectation (answered with 417)
    CLOSE_DELIMITED = 1 << 5  #: a response whose body ends when the connection closes
    NO_BODY = 1 << 6  #: a 1xx, 204 or 304 response: never a body


EV_POLL = Event.POLL
EV_ACCEPT = Event.ACCEPT
EV_CONNECT = Event.CONNECT
EV_RECV = Event.RECV
EV_SEND = Event.SEND
EV_CLOSE = Event.CLOSE
EV_TIMER = Event.TIMER
EV_HTTP_REQUEST = Event.HTTP_REQUEST
EV_HTTP_REPLY = Event.HTTP_REPLY
EV_HTTP_CHUNK = Event.HTTP_CHUNK
EV_WEBSOCKET_HANDSHAKE_REQUEST = Event.WEBSOCKET_HANDSHAKE_REQUEST
EV_WEBSOCKET_HANDSHAKE_DONE = Event.WEBSOCKET_HANDSHAKE_DONE
EV_WEBSOCKET_FRAME = Event.WEBSOCKET_FRAME
EV_WEBSOCKET_CONTROL_FRAME = Event.WEBSOCKET_CONTROL_FRAME
EV_HTTP_MULTIPART_REQUEST = Event.HTTP_MULTIPART_REQUEST
EV_HTTP_PART_BEGIN = Event.HTTP_PART_BEGIN
EV_HTTP_PART_DATA = Event.HTTP_PART_DATA
EV_HTTP_PART_END = Event.HTTP_PART_END
EV_HTTP_MULTIPART_REQUEST_END = Event.HTTP_MULTIPART_REQUEST_END
