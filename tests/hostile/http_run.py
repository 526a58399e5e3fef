"""Running one HTTP request case against the in-process Site server (site.Server)."""

from __future__ import annotations

import json

from .cases import Case, Expect
from .site import Server
from .wire import Peer, Response, finals, send_modes

FOLLOW = b"GET /follow HTTP/1.1\r\nHost: x\r\n\r\n"


def exchanges(case: Case, extra_splits: tuple[int, ...] = ()) -> list[tuple[str, list[bytes]]]:
    """The writes of each send mode of `case`. When the server is to close, the whole
    mode also carries a pipelined request that must not be answered."""
    modes = send_modes(case.data, extra_splits + case.splits)
    if case.expect.close:
        modes[0] = ("whole+pipelined", [case.data + FOLLOW])
    return modes


def check_echo(r: Response, want: dict[str, object]) -> None:
    if not want:
        return
    got = json.loads(r.body)
    for key, value in want.items():
        assert got[key] == value, f"{key}: {got[key]!r:.200} != {value!r:.200}"


def check_answer(
    srv: Server, peer: Peer, exp: Expect, seen_before: int, head: bool = False
) -> Response:
    """The connection's one final response against `exp` (to a HEAD request: `head`);
    returns it."""
    if exp.close:  # until the close, or an answer that already shows it is wrong

        def settled(p: Peer) -> bool:
            rs = finals(bytes(p.got), head_only=head)
            return p.eof or (bool(rs) and (rs[0].status != exp.status or not rs[0].closes()))

        peer.wait(settled, "the server closes the connection")
    else:
        peer.wait(lambda p: finals(bytes(p.got), head_only=head), "a response")
    rs = finals(bytes(peer.got), head_only=head)
    assert rs, f"no complete response in {bytes(peer.got)[:200]!r}"
    r = rs[0]
    assert r.status == exp.status, f"status {r.status}, want {exp.status}: {r.body[:200]!r}"
    dispatched = len(srv.site.seen) - seen_before
    assert dispatched == int(exp.dispatched), f"the handler saw {dispatched} requests"
    if exp.close:
        assert len(rs) == 1, "nothing after the closing response is answered"
        assert r.closes(), f"no Connection: close in {r.headers}"
    check_echo(r, exp.echo)
    if exp.body is not None:
        assert r.body == exp.body, f"body {r.body[:200]!r}, want {exp.body[:200]!r}"
    return r


def check_follow(srv: Server, peer: Peer) -> None:
    """The connection still works: a second request gets its own answer."""
    assert not peer.eof, "the server closed a connection that should stay open"
    peer.send(FOLLOW)
    peer.wait(lambda p: len(finals(bytes(p.got))) >= 2, "the answer to a second request")
    r = finals(bytes(peer.got))[1]
    assert r.status == 200 and json.loads(r.body)["uri"] == "/follow"


def run_exchange(srv: Server, case: Case, pieces: list[bytes]) -> None:
    seen = len(srv.site.seen)
    with Peer(srv.mgr, srv.port) as peer:
        peer.send_all(pieces)
        head = case.data.startswith(b"HEAD ")
        check_answer(srv, peer, case.expect, seen, head)
        if not case.expect.close:
            check_follow(srv, peer)


def dispatched(srv: Server, data: bytes) -> bool:
    """Sends `data` whole on a new connection; whether the handler got a request before
    the first final response (or the close)."""
    seen = len(srv.site.seen)
    with Peer(srv.mgr, srv.port) as peer:
        peer.send(data)
        peer.wait(lambda p: p.eof or finals(bytes(p.got)), "a response")
    return len(srv.site.seen) > seen


def check_fresh(srv: Server) -> None:
    """A new connection is served normally."""
    with Peer(srv.mgr, srv.port) as peer:
        peer.send(b"GET /fresh HTTP/1.1\r\nHost: x\r\n\r\n")
        peer.wait(lambda p: finals(bytes(p.got)), "the answer on a fresh connection")
        assert finals(bytes(peer.got))[0].status == 200


def run_case(srv: Server, case: Case, extra_splits: tuple[int, ...] = ()) -> None:
    """Every send mode of `case`, then a fresh connection."""
    for mode, pieces in exchanges(case, extra_splits):
        try:
            run_exchange(srv, case, pieces)
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None
    check_fresh(srv)


def run_pipeline(srv: Server, data: bytes, statuses: tuple[int, ...], close: bool) -> None:
    """Every send mode of `data` on one connection: the answers' statuses in order, the
    close after the last one (or a second request answered when the connection stays
    open); then a fresh connection."""
    for mode, pieces in send_modes(data):
        try:
            with Peer(srv.mgr, srv.port) as peer:
                peer.send_all(pieces)
                if close:
                    peer.wait(lambda p: p.eof, "the server closes the connection")
                else:
                    peer.wait(lambda p: len(finals(bytes(p.got))) >= len(statuses), "answers")
                rs = finals(bytes(peer.got))
                assert tuple(r.status for r in rs) == statuses, [r.status for r in rs]
                assert rs[-1].closes() == close
                if not close:
                    assert not peer.eof
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None
    check_fresh(srv)
