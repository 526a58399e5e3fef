"""mgio.request(follow_redirects=True): the synchronous client follows redirects as
mgio.aio.fetch does (the shared rules of mgio._redirect), against an mgio server on a
background thread. Redirects stay opt-in and bounded."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import mgio
import pytest
from conftest import ServerThread


class Redirecting(mgio.Handler):
    """/rNNN redirects with status NNN to /echo (or ?to=); /loop to itself; /guarded
    asks for Basic auth; /echo (and /guarded with auth) answers with what it got
    (method, body, Authorization) as JSON."""

    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        if msg.uri.startswith("/r"):
            to = parse_qs(msg.query_string).get("to", ["/echo"])[0]
            conn.reply(int(msg.uri[2:]), b"", {"Location": to})
        elif msg.uri == "/loop":
            conn.reply(302, b"", {"Location": "/loop"})
        elif msg.uri == "/guarded" and msg.header("Authorization") is None:
            conn.reply(401, b"", {"WWW-Authenticate": 'Basic realm="r"'})
        else:
            seen = {"method": msg.method, "body": bytes(msg.body).decode(),
                    "auth": msg.header("Authorization")}
            conn.reply(200, json.dumps(seen), {"Content-Type": "application/json"})


@pytest.fixture
def server():
    with ServerThread(Redirecting()) as srv:
        yield srv


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [(301, "GET", ""), (302, "GET", ""), (303, "GET", ""), (307, "POST", "data"),
     (308, "POST", "data")],
)
def test_redirect_methods_and_bodies(server, status, method, body):
    r = mgio.request("POST", f"{server.url}/r{status}", body=b"data", follow_redirects=True)
    seen = r.json()
    assert (seen["method"], seen["body"]) == (method, body)
    assert r.history == [(status, f"{server.url}/r{status}")]
    assert r.url == f"{server.url}/echo"


def test_json_body_follows_a_307(server):
    r = mgio.request("POST", f"{server.url}/r307", json={"a": 1}, follow_redirects=True)
    assert json.loads(r.json()["body"]) == {"a": 1}


def test_redirects_are_opt_in_and_bounded(server):
    r = mgio.request("GET", server.url + "/r302")
    assert (r.status, r.headers["Location"], r.history) == (302, "/echo", [])
    with pytest.raises(mgio.TooManyRedirects) as info:
        mgio.request("GET", server.url + "/loop", follow_redirects=True)
    assert info.value.count == 5 and info.value.url == server.url + "/loop"
    r = mgio.request("GET", server.url + "/r302", follow_redirects=True, max_redirects=1)
    assert r.status == 200
    with pytest.raises(mgio.TooManyRedirects):
        mgio.request("GET", server.url + "/r302", follow_redirects=True, max_redirects=0)
    with pytest.raises(ValueError):
        mgio.request("GET", server.url + "/r302", follow_redirects=True, max_redirects=-1)


def test_a_location_that_is_not_http_is_returned_as_is(server):
    r = mgio.request("GET", f"{server.url}/r302?to=ftp://127.0.0.1/x", follow_redirects=True)
    assert (r.status, r.history) == (302, [])


def test_authorization_kept_on_the_same_host_and_dropped_on_another(server):
    headers = {"Authorization": "Bearer t"}
    same = mgio.request("GET", server.url + "/r302", headers, follow_redirects=True)
    assert same.json()["auth"] == "Bearer t"
    with ServerThread(Redirecting()) as other:
        r = mgio.request("GET", f"{server.url}/r302?to={other.url}/echo", headers,
                         follow_redirects=True)
        assert r.json()["auth"] is None
        # auth= answers a challenge on the first origin only
        r = mgio.request("GET", f"{server.url}/r302?to={other.url}/guarded",
                         auth=("u", "p"), follow_redirects=True)
        assert r.status == 401
    r = mgio.request("GET", f"{server.url}/r302?to=/guarded", auth=("u", "p"),
                     follow_redirects=True)
    assert r.json()["auth"] == "Basic dTpw"
