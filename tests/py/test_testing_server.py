"""mgio.testing.Server over HTTP, driven by real clients (requests, http.client, aiohttp,
raw sockets): answers, matching criteria, the log, the check's verdict and message,
one-shot and ordered expectations, delays that hold up nothing else, streams, closed
connections and custom handlers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import re
import socket
import subprocess
import sys

import aiohttp
import mgio
import pytest
import requests
from conftest import HOSTS, recv_until_closed
from mgio.testing import CLOSE, Reply, Request, Server, Stream


def problems_of(server: Server) -> str:
    """The check's message (AssertionError), or "" when the check passes."""
    try:
        server.check()
    except AssertionError as e:
        return str(e)
    return ""


# ---- answers -------------------------------------------------------------------------


def test_respond_data_json_status_headers():
    with Server() as server:
        server.expect("/text").respond("héllo", status=201, headers={"X-A": "1"})
        server.expect("/bytes").respond(b"\x00\x01", content_type="application/x-raw")
        server.expect("/json", method="POST").respond_json({"ok": [1, 2]}, status=202)
        server.expect("/reply").respond_reply(Reply(b"r", 418, [("X-B", "2")]))
        r = requests.get(server.url_for("/text"))
        assert (r.status_code, r.text, r.headers["X-A"]) == (201, "héllo", "1")
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        r = requests.get(server.url_for("bytes"))
        assert (r.content, r.headers["Content-Type"]) == (b"\x00\x01", "application/x-raw")
        r = requests.post(server.url_for("/json"))
        assert (r.status_code, r.json(), r.headers["Content-Type"]) == (
            202, {"ok": [1, 2]}, "application/json")
        r = requests.get(server.url_for("/reply"))
        assert (r.status_code, r.content, r.headers["X-B"]) == (418, b"r", "2")


def test_default_answer_is_200_empty():
    with Server() as server:
        server.expect("/")
        r = requests.get(server.url)
        assert (r.status_code, r.content) == (200, b"")


def test_respond_with_a_function_of_the_request():
    def answer(req: Request) -> Reply | str:
        if req.query.get("n"):
            return Reply.json({"n": int(req.query["n"][0]) * 2})
        return f"{req.method} {req.text}"

    with Server() as server:
        server.expect("/f").respond_with(answer)
        assert requests.get(server.url_for("/f?n=21")).json() == {"n": 42}
        assert requests.put(server.url_for("/f"), data="body").text == "PUT body"


def test_the_log_records_method_path_query_headers_body():
    with Server() as server:
        server.allow()
        requests.post(server.url_for("/a/b?x=1&y=2&x=3"), data=b"payload",
                      headers={"X-Test": "yes"})
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("DELETE", "/c")
        assert conn.getresponse().status == 200
        conn.close()
        first, second = server.requests
        assert (first.method, first.path, first.query_string) == ("POST", "/a/b", "x=1&y=2&x=3")
        assert first.query == {"x": ["1", "3"], "y": ["2"]}
        assert first.headers["x-test"] == "yes" and first.body == b"payload"
        assert str(second) == "DELETE /c" and second.body == b""
        assert all(entry.matched for entry in server.log)


# ---- matching --------------------------------------------------------------------------

MATCHING = [
    # (criteria, a request that matches, one that does not): (method, target, headers, body)
    ({"method": "post"}, ("POST", "/", {}, b""), ("GET", "/", {}, b"")),
    ({"path": "/exact"}, ("GET", "/exact", {}, b""), ("GET", "/exact/", {}, b"")),
    ({"path": re.compile(r"/items/\d+")}, ("GET", "/items/12", {}, b""),
     ("GET", "/items/12x", {}, b"")),
    ({"path": lambda p: p.endswith(".png")}, ("GET", "/a.png", {}, b""),
     ("GET", "/a.jpg", {}, b"")),
    ({"path": "/q?b=2&a=1"}, ("GET", "/q?a=1&b=2", {}, b""), ("GET", "/q?a=1", {}, b"")),
    ({"query": {"a": "1", "b": ["2", "3"]}}, ("GET", "/?b=2&a=1&b=3", {}, b""),
     ("GET", "/?a=1&b=2", {}, b"")),
    ({"query": "raw=%20"}, ("GET", "/?raw=%20", {}, b""), ("GET", "/?raw=+", {}, b"")),
    ({"query": lambda q: "token" in q}, ("GET", "/?token=", {}, b""), ("GET", "/", {}, b"")),
    ({"headers": {"x-key": "v"}}, ("GET", "/", {"X-Key": "v", "X-Other": "o"}, b""),
     ("GET", "/", {"X-Key": "w"}, b"")),
    ({"headers": {"Authorization": re.compile("Bearer .+")}},
     ("GET", "/", {"Authorization": "Bearer t"}, b""),
     ("GET", "/", {"Authorization": "Basic t"}, b"")),
    ({"body": b"\x00raw"}, ("POST", "/", {}, b"\x00raw"), ("POST", "/", {}, b"raw")),
    ({"body": "texté"}, ("POST", "/", {}, "texté".encode()), ("POST", "/", {}, b"text")),
    ({"body": lambda b: len(b) > 3}, ("POST", "/", {}, b"long"), ("POST", "/", {}, b"s")),
    ({"json": {"a": [1, 2]}}, ("POST", "/", {}, b'{ "a" : [1,2] }'),
     ("POST", "/", {}, b'{"a": [2, 1]}')),
    ({"json": {"a": 1}}, ("POST", "/", {}, b'{"a": 1}'), ("POST", "/", {}, b"not json")),
]


def send(server: Server, method: str, target: str, headers: dict[str, str], body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, target, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("criteria", "good", "bad"), MATCHING)
def test_matching_criteria(criteria, good, bad):
    with Server(check_on_exit=False) as server:
        server.expect(**criteria).respond("matched")
        assert send(server, *good) == (200, b"matched")
        status, body = send(server, *bad)
        assert status == 500 and b"no expectation matched" in body
        assert [entry.matched for entry in server.log] == [True, False]


def test_both_query_in_path_and_query_is_an_error():
    with pytest.raises(ValueError):
        Server().expect("/a?b=1", query={"b": "1"})


# ---- the check -------------------------------------------------------------------------


def test_an_unexpected_request_is_answered_500_and_fails_the_check():
    server = Server().start()
    server.expect("/expected", method="GET").respond("fine")
    assert requests.get(server.url_for("/expected")).text == "fine"
    r = requests.post(server.url_for("/other?x=1"), data=b"abc")
    assert r.status_code == 500
    assert "unexpected request (answered 500): POST /other?x=1" in r.text
    assert "GET /expected (any number of times; got 1): method, path differ" in r.text
    server.stop()
    message = problems_of(server)
    assert message.startswith(f"mgio.testing server {server.url}: 1 problem(s)")
    assert "body: b'abc'" in message
    assert "Expected:\n  1. GET /expected" in message
    assert "Received:\n  1. GET /expected -> 200, matched GET /expected\n" in message
    assert "  2. POST /other?x=1 -> 500, UNMATCHED" in message


def test_unmatched_status_is_configurable():
    with Server(unmatched_status=404, check_on_exit=False) as server:
        assert requests.get(server.url_for("/none")).status_code == 404
        assert "no expectation was set" in problems_of(server)


def test_an_unmet_expectation_fails_on_leaving_the_block():
    with pytest.raises(AssertionError) as info, Server() as server:
        server.expect("/never", method="PUT", json={"a": 1})
        server.expect_once("/once")
        server.allow("/optional")
        requests.get(server.url_for("/once"))
    message = str(info.value)
    assert "2 problem(s)" not in message  # /once was met; /optional is not required
    assert "- expected but not met: PUT /never json={'a': 1} (any number of times; got 0)" \
        in message


def test_the_check_is_skipped_when_the_block_raised_or_opted_out():
    with pytest.raises(KeyError), Server() as server:
        server.expect("/never")
        raise KeyError("the test's own failure stays the error")
    with Server(check_on_exit=False) as server:
        server.expect("/never")


def test_times_and_once():
    with Server(check_on_exit=False) as server:
        server.expect("/twice", times=2).respond("ok")
        server.expect_once("/x").respond("first")
        server.expect("/x").respond("later")  # permanent: after the one-shot is used up
        assert [requests.get(server.url_for("/x")).text for _ in range(3)] == [
            "first", "later", "later"]
        assert requests.get(server.url_for("/twice")).status_code == 200
        assert "expected but not met: * /twice (2 times; got 1 of 2)" in problems_of(server)
        assert requests.get(server.url_for("/twice")).status_code == 200
        r = requests.get(server.url_for("/twice"))
        assert r.status_code == 500 and "all its requests arrived" in r.text


def test_ordered_expectations_in_order_pass():
    with Server() as server:
        for step in ("/login", "/work", "/logout"):
            server.expect_ordered(step, method="POST").respond(step)
        server.allow("/health")
        with requests.Session() as s:
            assert s.post(server.url_for("/login")).text == "/login"
            assert s.get(server.url_for("/health")).status_code == 200
            assert s.post(server.url_for("/work")).text == "/work"
            assert s.post(server.url_for("/logout")).text == "/logout"


def test_an_ordered_request_out_of_turn_fails():
    with Server(check_on_exit=False) as server:
        server.expect_ordered("/first")
        server.expect_ordered("/second")
        r = requests.get(server.url_for("/second"))
        assert r.status_code == 500
        assert "out of order: it matches * /second, but the next ordered request " \
            "expected is * /first" in r.text
        assert requests.get(server.url_for("/first")).status_code == 200
        assert requests.get(server.url_for("/second")).status_code == 200
        message = problems_of(server)
        assert "1 problem(s)" in message and "out of order" in message


def test_a_responder_that_raises_answers_500_and_fails():
    def broken(req: Request) -> str:
        raise ZeroDivisionError("broken responder")

    with Server(check_on_exit=False) as server:
        server.expect("/broken").respond_with(broken)
        server.expect("/wrong").respond_with(lambda req: 42)  # type: ignore[arg-type,return-value]
        r = requests.get(server.url_for("/broken"))
        assert r.status_code == 500 and "ZeroDivisionError: broken responder" in r.text
        assert requests.get(server.url_for("/wrong")).status_code == 500
        message = problems_of(server)
        assert "the responder of * /broken raised for GET /broken" in message
        assert "a responder returned int" in message


def test_clear_forgets_everything():
    with Server() as server:
        server.expect("/gone")
        requests.get(server.url_for("/unexpected"))
        server.clear()
        assert server.log == [] and server.expectations == [] and server.problems == []


# ---- delays, concurrency, pipelining -----------------------------------------------------


def test_a_delayed_answer_holds_up_no_other_request():
    with Server() as server:
        server.expect("/slow").respond("slow", delay=1.5)  # ample for 20 quick ones
        server.expect("/fast").respond("fast")
        finished: list[str] = []

        def get(path: str) -> str:
            text = requests.get(server.url_for(path), timeout=10).text
            finished.append(text)
            return text

        with concurrent.futures.ThreadPoolExecutor(21) as pool:
            slow = pool.submit(get, "/slow")
            server.wait_for_requests(1)  # the slow one is in before the others start
            fast = [pool.submit(get, "/fast") for _ in range(20)]
            assert [f.result() for f in fast] == ["fast"] * 20
            assert slow.result() == "slow"
        assert finished[-1] == "slow"  # all 20 were answered while it waited
        assert len(server.requests) == 21


def test_pipelined_answers_keep_the_request_order_behind_a_delay():
    with Server() as server:
        server.expect("/slow").respond("slow", delay=0.2)
        server.expect("/fast").respond("fast")
        with socket.create_connection(("127.0.0.1", server.port), 5) as sock:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
                         b"GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = recv_until_closed(sock)
        assert data.index(b"\r\n\r\nslow") < data.index(b"\r\n\r\nfast")


def test_concurrent_aiohttp_requests_in_asyncio_run():
    async def main(server: Server) -> list[dict[str, int]]:
        async with aiohttp.ClientSession() as session:
            async def get(i: int) -> dict[str, int]:
                async with session.get(server.url_for(f"/n/{i}")) as r:
                    return await r.json()

            results = await asyncio.gather(*(get(i) for i in range(20)))
            await server.wait_for_requests_async(20)
            return list(results)

    with Server() as server:
        server.expect(re.compile(r"/n/\d+")).respond_with(
            lambda req: Reply.json({"n": int(req.path[3:])}), delay=0.05)
        assert asyncio.run(main(server)) == [{"n": i} for i in range(20)]


# ---- streams and closed connections -------------------------------------------------------


def test_a_stream_is_sent_chunked_one_chunk_per_item():
    def numbers():
        yield from (f"line {i}\n" for i in range(5))

    with Server() as server:
        server.expect("/stream").respond_stream(numbers, content_type="text/plain",
                                                interval=0.01)
        for _ in range(2):  # a generator function serves every request afresh
            with requests.get(server.url_for("/stream"), stream=True) as r:
                assert r.headers["Transfer-Encoding"] == "chunked"
                assert r.headers["Content-Type"] == "text/plain"
                chunks = list(r.raw.read_chunked(decode_content=False))
            assert chunks == [f"line {i}\n".encode() for i in range(5)]


def test_a_large_stream_waits_for_a_slow_reader():
    size = 8 << 20
    with Server() as server:
        server.expect("/big").respond_with(
            lambda req: Stream(b"z" * 65536 for _ in range(size // 65536)))
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/big")
        response = conn.getresponse()
        total = 0
        while chunk := response.read(1 << 16):
            total += len(chunk)
        conn.close()
        assert total == size


def test_a_stream_that_raises_cuts_the_response_and_fails():
    def broken():
        yield b"start"
        raise RuntimeError("stream broke")

    with Server(check_on_exit=False) as server:
        server.expect("/broken").respond_stream(broken)
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(server.url_for("/broken"))
        assert "iterator raised RuntimeError('stream broke')" in problems_of(server)


def test_close_connection_instead_of_answering():
    with Server() as server:
        server.expect("/drop").close_connection()
        server.expect("/drop-later").close_connection(delay=0.05)
        server.expect("/fn").respond_with(lambda req: CLOSE)
        for path in ("/drop", "/drop-later", "/fn"):
            with pytest.raises(requests.ConnectionError):
                requests.get(server.url_for(path))
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/drop")
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
        conn.close()


# ---- custom handlers, several servers -------------------------------------------------


class Hello(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        if msg.uri == "/raise":
            raise ValueError("handler bug")
        conn.reply(200, f"hello {msg.uri}")


def test_a_custom_handler_serves_and_its_exceptions_fail_the_check():
    with Server(handler=Hello(), check_on_exit=False) as server:
        assert requests.get(server.url_for("/x")).text == "hello /x"
        assert requests.get(server.url_for("/raise")).status_code == 500
        server.wait_for_requests(0)
        with pytest.raises(RuntimeError):
            server.expect("/no-expectations-here")
    assert "ValueError: handler bug" in problems_of(server)


def test_servers_are_independent():
    with Server() as one, Server() as two:
        one.expect("/").respond("one")
        two.expect("/").respond("two")
        assert one.port != two.port
        assert [requests.get(s.url).text for s in (one, two)] == ["one", "two"]
        assert len(one.requests) == len(two.requests) == 1


# ---- waiting and searching the log ------------------------------------------------------


def test_wait_until_met_and_requests_matching():
    with Server() as server:
        server.expect("/job", method="POST", headers={"X-Id": lambda v: v.isdigit()},
                      times=3)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            for i in range(3):  # background clients, as the code under test would be
                pool.submit(requests.post, server.url_for(f"/job?n={i}"),
                            headers={"X-Id": str(i)})
            server.wait_until_met()
        assert len(server.requests_matching("/job", query={"n": "1"})) == 1
        assert len(server.requests_matching(method="POST")) == 3
        assert server.requests_matching(method="GET") == []
        assert [entry.status for entry in server.log] == [200] * 3


def test_wait_until_met_times_out_with_what_is_missing():
    with Server(check_on_exit=False) as server:
        server.expect("/never")
        with pytest.raises(AssertionError, match="every expectation met did not happen"):
            server.wait_until_met(timeout=0.05)


@pytest.mark.parametrize("host", HOSTS)
def test_loopback_hosts(host):
    with Server(host) as server:
        server.expect("/").respond("here")
        assert f"//{'[::1]' if host == '::1' else host}:{server.port}" in server.url
        assert requests.get(server.url_for("/")).text == "here"


def test_mgio_testing_needs_no_pytest():
    code = ("import sys; sys.modules['pytest'] = None\n"  # any 'import pytest' now fails
            "import mgio.testing\n"
            "with mgio.testing.Server() as server:\n"
            "    server.expect('/').respond('ok')\n"
            "    print(mgio.request('GET', server.url).body.decode())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
