"""A WebSocket chat room: every text message is relayed to everyone connected.

    python examples/python/ws_chat.py [ADDRESS]      (default 127.0.0.1:8000)

Connect with ``python -m websockets ws://127.0.0.1:8000/`` from two terminals (or
``mgio ws``). Ctrl-C stops it.
"""

import sys

import mgio


class Room(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        conn.send_error(426, "this is a WebSocket endpoint")

    def on_ws_open(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        self.broadcast(conn, f"{self.name(conn)} joined")

    def on_ws_message(self, conn: mgio.Connection, msg: mgio.WebSocketMessage) -> None:
        if msg.is_text:
            self.broadcast(conn, f"{self.name(conn)}: {msg.text}")

    @staticmethod
    def name(conn: mgio.Connection) -> str:
        peer = conn.remote_address
        return f"{peer[0]}:{peer[1]}" if peer else "?"

    @staticmethod
    def broadcast(sender: mgio.Connection, text: str) -> None:
        for peer in sender.manager.connections:
            if peer.is_websocket:
                peer.send_ws(text)



if __name__ == "__main__":
    mgio.serve_forever(Room(), *sys.argv[1:2], http=True)
