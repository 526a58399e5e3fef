"""The strict reference of the differential test: h11 as a server-side parser, fed a case
whole, in-process (no socket). Its verdict is ACCEPT (a whole request, body included),
REJECT (h11.RemoteProtocolError) or INCOMPLETE (h11 wants more bytes)."""

from __future__ import annotations

import h11

ACCEPT, REJECT, INCOMPLETE = "accept", "reject", "incomplete"

# The same cap as mgio's header section, for heads that never end.
MAX_INCOMPLETE = 32 * 1024


def h11_verdict(data: bytes) -> str:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_INCOMPLETE)
    conn.receive_data(data)
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.EndOfMessage):
                return ACCEPT
            if event is h11.NEED_DATA:
                return INCOMPLETE
    except h11.RemoteProtocolError:
        return REJECT
