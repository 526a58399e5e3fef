"""Address helpers through cffi: mg_sock_addr_to_str for IPv4 and IPv6 with every flag
combination and every buffer length (bytes past `len` are canaries that must survive),
mg_conn_addr_to_str / mg_sock_to_str on real loopback sockets, mg_check_ip_acl against a
Python model built on ipaddress, and mg_socketpair.

The address parser (mg__parse_address) is internal and tested from C (csrc/tests/
test_addr.c). The cdef declares only the family and port of the socket structs, so the
addresses here are written as raw bytes in the Linux layout."""

from __future__ import annotations

import errno
import ipaddress
import os
import random
import resource
import socket
import struct
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux sockaddr layout")

CANARY = 0xA5
IP, PORT, REMOTE = 1, 2, 4

# --- building and rendering addresses -------------------------------------------------


def raw_sockaddr(host: str, port: int, scope: int = 0) -> bytes:
    """struct sockaddr_in / sockaddr_in6 as Linux lays them out."""
    if ":" in host:
        addr = socket.inet_pton(socket.AF_INET6, host)
        return (struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, 0) + addr
                + struct.pack("=I", scope))
    addr = socket.inet_pton(socket.AF_INET, host)
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + addr + bytes(8)


def make_sa(ffi, raw: bytes):
    sa = ffi.new("union socket_address *")
    assert len(raw) <= ffi.sizeof(sa[0])
    ffi.memmove(sa, raw, len(raw))
    return sa


def to_str(ffi, lib, sa, flags: int, length: int) -> tuple[int, bytes]:
    """(return value, the `length` bytes of the buffer); asserts that the 16 bytes after
    them are untouched."""
    buf = ffi.new("char[]", length + 16)
    ffi.memmove(buf, bytes([CANARY]) * (length + 16), length + 16)
    r = lib.mg_sock_addr_to_str(sa, buf, length, flags)
    raw = ffi.buffer(buf)[:]
    assert raw[length:] == bytes([CANARY]) * 16, "wrote past len"
    return r, raw[:length]


def expected_text(host: str, port: int, flags: int, scope: int = 0) -> str:
    shown = socket.inet_ntop(
        socket.AF_INET6 if ":" in host else socket.AF_INET,
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host),
    )
    if scope:
        shown += f"%{scope}"
    if flags & IP and flags & PORT:
        return f"[{shown}]:{port}" if ":" in host else f"{shown}:{port}"
    if flags & IP:
        return shown
    if flags & PORT:
        return str(port)
    return ""


ADDRESSES = [
    ("127.0.0.1", 12345, 0),
    ("0.0.0.0", 0, 0),
    ("255.255.255.255", 65535, 0),
    ("::1", 12345, 0),
    ("::", 1, 0),
    ("2001:db8::123", 8080, 0),
    ("1:2:3:4:5:6:7:8", 65535, 0),
    ("::ffff:192.168.1.1", 443, 0),
    ("fe80::1", 80, 2),
    ("fe80:1:2:3:4:5:6:7", 65535, 4294967295),
]


@pytest.mark.parametrize(("host", "port", "scope"), ADDRESSES)
@pytest.mark.parametrize("flags", range(8))
def test_to_str_every_flag(ffi, lib, host, port, scope, flags):
    sa = make_sa(ffi, raw_sockaddr(host, port, scope))
    want = expected_text(host, port, flags, scope).encode()
    r, buf = to_str(ffi, lib, sa, flags, 80)
    assert r == len(want)
    assert buf[: r + 1] == want + b"\0"


@pytest.mark.parametrize(("host", "port", "scope"), ADDRESSES)
@pytest.mark.parametrize("flags", [IP, PORT, IP | PORT, IP | PORT | REMOTE])
def test_to_str_every_buffer_length(ffi, lib, host, port, scope, flags):
    sa = make_sa(ffi, raw_sockaddr(host, port, scope))
    want = expected_text(host, port, flags, scope).encode()
    for length in range(len(want) + 3):
        r, buf = to_str(ffi, lib, sa, flags, length)
        if length > len(want):
            assert r == len(want) and buf[: r + 1] == want + b"\0"
        else:  # too small: all or nothing
            assert r == 0
            assert buf[:1] == (b"\0" if length else b"")


def test_to_str_reference_examples(ffi, lib):
    sa = make_sa(ffi, raw_sockaddr("127.0.0.1", 12345))
    assert to_str(ffi, lib, sa, 0, 32)[0] == 0
    assert to_str(ffi, lib, sa, IP, 32)[1].split(b"\0")[0] == b"127.0.0.1"
    assert to_str(ffi, lib, sa, PORT, 32)[1].split(b"\0")[0] == b"12345"
    assert to_str(ffi, lib, sa, IP | PORT, 32)[1].split(b"\0")[0] == b"127.0.0.1:12345"
    assert to_str(ffi, lib, sa, IP, 5) == (0, b"\0" + bytes([CANARY]) * 4)
    v6 = make_sa(ffi, raw_sockaddr("2001::123", 12345))
    assert to_str(ffi, lib, v6, IP | PORT, 32)[1].split(b"\0")[0] == b"[2001::123]:12345"
    assert to_str(ffi, lib, v6, IP, 32)[1].split(b"\0")[0] == b"2001::123"


def test_to_str_random_addresses(ffi, lib):
    rng = random.Random(5)
    for _ in range(300):
        if rng.random() < 0.5:
            host = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        else:  # runs of zero groups, so that "::" compression varies
            groups = [rng.choice([0, 0, 1, rng.getrandbits(16)]) for _ in range(8)]
            host = str(ipaddress.IPv6Address(b"".join(struct.pack("!H", g) for g in groups)))
        port = rng.randrange(65536)
        sa = make_sa(ffi, raw_sockaddr(host, port))
        want = expected_text(host, port, IP | PORT).encode()
        assert to_str(ffi, lib, sa, IP | PORT, 80)[1].split(b"\0")[0] == want


def test_to_str_other_families_and_null(ffi, lib):
    sa = make_sa(ffi, struct.pack("=H", socket.AF_UNIX) + b"/tmp/x\0")
    assert to_str(ffi, lib, sa, IP | PORT, 32) == (0, b"\0" + bytes([CANARY]) * 31)
    assert to_str(ffi, lib, ffi.NULL, IP | PORT, 8) == (0, b"\0" + bytes([CANARY]) * 7)
    assert lib.mg_sock_addr_to_str(sa, ffi.NULL, 0, IP) == 0


# --- addresses of real sockets --------------------------------------------------------


def c_text(ffi, fn, *args) -> str:
    buf = ffi.new("char[]", 80)
    fn(*args[:1], buf, 80, *args[1:])
    return ffi.string(buf).decode()


def fmt(addr) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connected_pair(family: int, host: str):
    with socket.socket(family, socket.SOCK_STREAM) as lst:
        lst.bind((host, 0))
        lst.listen(1)
        client = socket.create_connection(lst.getsockname()[:2])
        server, _ = lst.accept()
    return client, server


@pytest.mark.parametrize(("family", "host"), [(socket.AF_INET, "127.0.0.1"),
                                              (socket.AF_INET6, "::1")])
def test_sock_to_str_and_conn_addr_to_str(ffi, lib, family, host):
    try:
        client, server = connected_pair(family, host)
    except OSError:
        pytest.skip(f"no {host} loopback")
    with client, server:
        local, peer = server.getsockname(), server.getpeername()
        f = lib.mg_sock_to_str
        assert c_text(ffi, f, server.fileno(), IP | PORT) == fmt(local)
        assert c_text(ffi, f, server.fileno(), IP | PORT | REMOTE) == fmt(peer)
        assert c_text(ffi, f, client.fileno(), PORT | REMOTE) == str(local[1])
        assert c_text(ffi, f, client.fileno(), IP) == host

        c = ffi.new("struct mg_connection *")
        c.sock = server.fileno()
        ffi.memmove(ffi.addressof(c.sa), raw_sockaddr(peer[0], peer[1]), 28 if ":" in host
                    else 16)
        g = lib.mg_conn_addr_to_str
        assert c_text(ffi, g, c, IP | PORT) == fmt(local)
        assert c_text(ffi, g, c, IP | PORT | REMOTE) == fmt(peer)
        # REMOTE reads c->sa, not the socket: a UDP connection's peer lives there
        ffi.memmove(ffi.addressof(c.sa), raw_sockaddr("10.9.8.7", 53), 16)
        assert c_text(ffi, g, c, IP | PORT | REMOTE) == "10.9.8.7:53"
        c.sock = -1  # INVALID_SOCKET
        assert c_text(ffi, g, c, IP | PORT) == ""
        assert c_text(ffi, g, ffi.NULL, IP | PORT) == ""


def test_sock_to_str_failures(ffi, lib):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        f = lib.mg_sock_to_str
        assert c_text(ffi, f, udp.fileno(), IP | PORT | REMOTE) == ""  # not connected
        assert c_text(ffi, f, udp.fileno(), IP | PORT) == fmt(udp.getsockname())
        assert c_text(ffi, f, udp.fileno(), 0) == ""
    a, b = socket.socketpair()
    with a, b:
        assert c_text(ffi, lib.mg_sock_to_str, a.fileno(), IP | PORT) == ""  # AF_UNIX
    assert c_text(ffi, lib.mg_sock_to_str, -1, IP | PORT) == ""


# --- ACLs -----------------------------------------------------------------------------


def ip_int(s: str) -> int:
    return int(ipaddress.IPv4Address(s))


def acl_model(acl: str, ip: int) -> int:
    """mgio's rule: no ACL allows; otherwise the default is the opposite of the first
    entry's sign, and the last matching entry wins."""
    if not acl:
        return 1
    entries = acl.split(",")
    allowed = 0 if entries[0][0] == "+" else 1
    for e in entries:
        if ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(e[1:], strict=False):
            allowed = 1 if e[0] == "+" else 0
    return allowed


def check_acl(ffi, lib, guarded, acl: bytes, ip: int) -> int:
    # The NUL is the last byte before the guard page: reading past it crashes.
    return lib.mg_check_ip_acl(ffi.cast("char *", guarded(acl + b"\0")), ip)


ACL_CASES = [
    (None, "1.2.3.4", 1),
    ("", "1.2.3.4", 1),
    ("+192.168.0.0/16", "192.168.1.2", 1),
    ("+192.168.0.0/16", "10.0.0.1", 0),
    ("-192.168.0.0/16", "192.168.1.2", 0),
    ("-192.168.0.0/16", "10.0.0.1", 1),
    ("-0.0.0.0/0,+192.168.0.0/16", "192.168.200.1", 1),
    ("-0.0.0.0/0,+192.168.0.0/16", "192.169.0.1", 0),
    ("+0.0.0.0/0,-192.168.1.2", "192.168.1.2", 0),
    ("+0.0.0.0/0,-192.168.1.2", "192.168.1.3", 1),
    ("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", "10.1.2.3", 1),
    ("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", "10.1.3.3", 0),
    ("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", "10.2.3.3", 1),
    ("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", "11.0.0.0", 0),
    ("+1.2.3.4", "1.2.3.4", 1),
    ("+1.2.3.4/32", "1.2.3.5", 0),
    ("+1.2.3.77/24", "1.2.3.4", 1),
    ("-5.6.7.8/0", "1.2.3.4", 0),
    ("+128.0.0.0/1", "255.0.0.1", 1),
    ("+128.0.0.0/1", "127.255.255.255", 0),
]


@pytest.mark.parametrize(("acl", "ip", "want"), ACL_CASES)
def test_acl_cases(ffi, lib, guarded, acl, ip, want):
    assert acl is None or acl_model(acl, ip_int(ip)) == want  # the model agrees
    if acl is None:
        assert lib.mg_check_ip_acl(ffi.NULL, ip_int(ip)) == want
    else:
        assert check_acl(ffi, lib, guarded, acl.encode(), ip_int(ip)) == want


MALFORMED = [
    "192.168.0.0/16", "+", "-", "+/8", "+1.2.3.4/33", "+1.2.3.4/", "+1.2.3.4/-1",
    "+1.2.3.4/100", "+1.2.3/8", "+192.168/16", "+1.2.3.4.5", "+256.0.0.0", "+01.2.3.4",
    "+1.2.3.4,", ",+1.2.3.4", "+1.2.3.4,,-5.6.7.8", "+1.2.3.4 ", " +1.2.3.4",
    "+1.2.3.4, -5.6.7.8", "*1.2.3.4", "+0.0.0.0/0,junk", "+1.2.3.4/8/8", "+::1",
    "+1.2.3.4/3x", "+1.2.3.4\t", "+1.2.3.-4", "++1.2.3.4", "+1.2.3.4/8,-",
]


@pytest.mark.parametrize("acl", MALFORMED)
def test_acl_malformed(ffi, lib, guarded, acl):
    for ip in ("1.2.3.4", "0.0.0.0", "255.255.255.255"):
        assert check_acl(ffi, lib, guarded, acl.encode(), ip_int(ip)) == -1


def test_acl_random_against_model(ffi, lib, guarded):
    rng = random.Random(7)
    for _ in range(2000):
        nets = []
        for _ in range(rng.randint(1, 5)):
            bits = rng.choice([0, 1, 8, 16, 24, 31, 32, rng.randint(0, 32)])
            addr = str(ipaddress.IPv4Address(rng.getrandbits(32) & 0xC0A8FFFF | 0x0A000000))
            entry = rng.choice("+-") + addr + ("" if bits == 32 and rng.random() < 0.5
                                               else f"/{bits}")
            nets.append(entry)
        acl = ",".join(nets)
        base = ipaddress.IPv4Network(nets[rng.randrange(len(nets))][1:], strict=False)
        ip = int(base.network_address) + rng.randrange(base.num_addresses + 16) - 8
        ip &= 0xFFFFFFFF
        assert check_acl(ffi, lib, guarded, acl.encode(), ip) == acl_model(acl, ip), acl


# --- socket pairs ---------------------------------------------------------------------


def open_fds() -> set[int]:
    return {int(x) for x in os.listdir("/proc/self/fd")}


@pytest.mark.parametrize("sock_type", [socket.SOCK_STREAM, socket.SOCK_DGRAM])
def test_socketpair(ffi, lib, sock_type):
    sp = ffi.new("sock_t[2]", [-5, -5])
    assert lib.mg_socketpair(sp, sock_type) == 1
    a, b = socket.socket(fileno=sp[0]), socket.socket(fileno=sp[1])
    with a, b:
        assert a.type == sock_type and b.type == sock_type
        for fd in (sp[0], sp[1]):
            assert not os.get_blocking(fd)
            assert not os.get_inheritable(fd)  # close-on-exec
        for x, y in ((a, b), (b, a)):
            with pytest.raises(BlockingIOError):
                y.recv(16)
            x.send(b"hello")
            x.send(b"world")
            got = y.recv(16)
            if sock_type == socket.SOCK_DGRAM:  # message boundaries are kept
                assert got == b"hello" and y.recv(16) == b"world"
            else:
                assert got in (b"helloworld", b"hello")
                if got == b"hello":
                    assert y.recv(16) == b"world"
            with pytest.raises(BlockingIOError):
                y.recv(16)


def test_socketpair_bad_arguments(ffi, lib):
    before = open_fds()
    sp = ffi.new("sock_t[2]", [-5, -5])
    for bad in (0, 3, 99, -1, socket.SOCK_STREAM | socket.SOCK_NONBLOCK):
        assert lib.mg_socketpair(sp, bad) == 0
        assert list(sp) == [-1, -1]
    assert lib.mg_socketpair(ffi.NULL, socket.SOCK_STREAM) == 0
    assert open_fds() == before


def test_socketpair_out_of_descriptors(ffi, lib):
    """With one free descriptor a pair cannot be made: 0, and nothing left open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    sp = ffi.new("sock_t[2]", [-5, -5])
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(open_fds()) + 8, hard))
        with pytest.raises(OSError) as exc:
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        assert exc.value.errno == errno.EMFILE
        os.close(held.pop())
        assert lib.mg_socketpair(sp, socket.SOCK_DGRAM) == 0
        assert list(sp) == [-1, -1]
        held.append(os.open(os.devnull, os.O_RDONLY))  # the free slot is still free
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
