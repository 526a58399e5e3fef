"""An HTTP server with two routes: ``/`` greets, ``/sum?a=1&b=2`` answers JSON.

    python examples/python/hello_http.py [ADDRESS]      (default 127.0.0.1:8000)

Then ``curl 'http://127.0.0.1:8000/?name=you'``. Ctrl-C stops it.
"""

import json
import sys

import mgio


class Hello(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        if msg.uri == "/":
            conn.reply(200, f"hello, {msg.var('name', 'world')}\n",
                       {"Content-Type": "text/plain"})
        elif msg.uri == "/sum":
            try:
                total = int(msg.var("a", "0")) + int(msg.var("b", "0"))
            except ValueError:
                conn.send_error(400, "a and b must be integers")
                return
            conn.reply(200, json.dumps({"sum": total}), {"Content-Type": "application/json"})
        else:
            conn.send_error(404)



if __name__ == "__main__":
    mgio.serve_forever(Hello(), *sys.argv[1:2], http=True)
