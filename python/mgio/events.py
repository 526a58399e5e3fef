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
    USER_1 = 1 << 20
    USER_2 = 1 << 21
    USER_3 = 1 << 22
    USER_4 = 1 << 23
    USER_5 = 1 << 24
    USER_6 = 1 << 25


EV_POLL = Event.POLL
EV_ACCEPT = Event.ACCEPT
EV_CONNECT = Event.CONNECT
EV_RECV = Event.RECV
EV_SEND = Event.SEND
EV_CLOSE = Event.CLOSE
EV_TIMER = Event.TIMER
