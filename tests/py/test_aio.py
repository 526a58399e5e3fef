"""mgio.aio.Driver: a manager served by a running asyncio loop, beside other asyncio code."""

from __future__ import annotations

import asyncio

import mgio
import mgio.aio
import pytest
from conftest import port_of, url


def echo(conn: mgio.Connection, ev: int, data: object) -> None:
    if ev == mgio.EV_RECV:
        conn.send(bytes(conn.recv_buf))
        conn.recv_buf.clear()


def run(coro: object, timeout: float = 10.0) -> object:
    """asyncio.run with a bound, so a stuck driver fails instead of hanging the suite."""
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def test_server_and_clients_in_one_loop():
    """An mgio server answers an asyncio streams client and an mgio client, in one loop."""

    async def main() -> tuple[bytes, bytes]:
        got = asyncio.get_running_loop().create_future()

        def client(conn: mgio.Connection, ev: int, data: object) -> None:
            if ev == mgio.EV_CONNECT:
                conn.send(b"from mgio")
            elif ev == mgio.EV_RECV and len(conn.recv_buf) >= 9 and not got.done():
                got.set_result(bytes(conn.recv_buf))
                conn.close()

        with mgio.Manager() as mgr:
            port = port_of(mgr.bind("tcp://127.0.0.1:0", echo))
            async with mgio.aio.Driver(mgr) as driver:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"from asyncio")
                await writer.drain()
                streams_reply = await reader.readexactly(12)
                writer.close()
                await writer.wait_closed()
                mgr.connect(url("tcp", "127.0.0.1", port), client)
                mgio_reply = await got
                driver.raise_if_failed()
        return streams_reply, mgio_reply

    assert run(main()) == (b"from asyncio", b"from mgio")


def test_send_from_a_coroutine_is_delivered():
    """Output queued outside any handler still leaves: the driver is woken for it."""

    async def main() -> bytes:
        with mgio.Manager() as mgr:
            port = port_of(mgr.bind("tcp://127.0.0.1:0", None))
            async with mgio.aio.Driver(mgr):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                while len(mgr.connections) < 2:  # wait for the accept
                    await asyncio.sleep(0.01)
                accepted = mgr.connections[0]
                accepted.send(b"pushed")
                data = await reader.readexactly(6)
                writer.close()
                return data

    assert run(main()) == b"pushed"


def test_timers_fire_through_the_loop():
    async def main() -> list[float]:
        fired: list[float] = []
        with mgio.Manager() as mgr:

            def on_timer(conn: mgio.Connection, ev: int, data: object) -> None:
                if ev == mgio.EV_TIMER:
                    fired.append(mgio.time() - float(data))  # type: ignore[arg-type]
                    if len(fired) < 3:
                        conn.set_timer(mgio.time() + 0.02)

            async with mgio.aio.Driver(mgr):
                timer = mgr.add_timer(on_timer)
                timer.set_timer(mgio.time() + 0.02)
                for _ in range(200):
                    if len(fired) == 3:
                        break
                    await asyncio.sleep(0.01)
        return fired

    lateness = run(main())
    assert len(lateness) == 3
    assert all(0 <= late < 0.5 for late in lateness)


def test_handler_exception_stops_the_driver_and_is_raised():
    class Boom(Exception):
        pass

    def explode(conn: mgio.Connection, ev: int, data: object) -> None:
        if ev == mgio.EV_RECV:
            raise Boom("from a handler")

    async def main() -> None:
        with mgio.Manager() as mgr:
            port = port_of(mgr.bind("tcp://127.0.0.1:0", explode))
            driver = mgio.aio.drive(mgr)
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"x")
            await writer.drain()
            try:
                await driver.wait()
            finally:
                writer.close()

    with pytest.raises(Boom, match="from a handler"):
        run(main())


def test_stop_detaches_and_the_manager_keeps_its_connections():
    async def main() -> tuple[bool, int]:
        with mgio.Manager() as mgr:
            mgr.bind("tcp://127.0.0.1:0", echo)
            driver = mgio.aio.drive(mgr)
            await asyncio.sleep(0.02)
            driver.stop()
            await driver.wait()  # returns at once once stopped
            return driver.running, len(mgr.connections)

    assert run(main()) == (False, 1)


def test_a_driver_starts_once():
    async def main() -> None:
        with mgio.Manager() as mgr:
            driver = mgio.aio.drive(mgr)
            with pytest.raises(RuntimeError):
                driver.start()
            driver.stop()

    run(main())
