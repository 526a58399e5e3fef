"""mgio.aio and the pytest plugin from pytest-asyncio tests (its strict mode: tests marked
asyncio run on an event loop pytest-asyncio owns)."""

from __future__ import annotations

import asyncio

import mgio.aio
import pytest
from mgio.aio import Request


@pytest.mark.asyncio
async def test_serve_and_fetch_on_pytest_asyncio_loop() -> None:
    async def handler(req: Request) -> str:
        await asyncio.sleep(0)
        return f"{req.method} {req.path}"

    async with mgio.aio.serve(handler) as server:
        answers = await asyncio.gather(
            *(mgio.aio.request("GET", f"{server.url}/{i}") for i in range(10))
        )
    assert [a.text for a in answers] == [f"GET /{i}" for i in range(10)]


@pytest.mark.asyncio
async def test_plugin_fixture_in_an_async_test(mgio_server) -> None:
    mgio_server.expect("/async").respond_json({"ok": True})
    resp = await mgio.aio.request("GET", mgio_server.url_for("/async"))
    assert resp.json() == {"ok": True}


@pytest.mark.asyncio
async def test_websocket_beside_other_tasks() -> None:
    async def echo(ws: mgio.aio.WebSocket) -> None:
        async for msg in ws:
            await ws.send(msg)

    ticks = 0

    async def ticker() -> None:  # other asyncio work keeps running meanwhile
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    other = asyncio.create_task(ticker())
    try:
        async with mgio.aio.serve_ws(echo) as server, mgio.aio.connect_ws(server.url) as ws:
            for i in range(20):
                await ws.send(f"m{i}")
                assert (await ws.recv()).text == f"m{i}"
    finally:
        other.cancel()
    assert ticks > 0
