"""The README's Python example runs as written."""

from __future__ import annotations

import re
import signal
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def run_test_functions(namespace: dict[str, object]) -> None:
    """A block that shows a pytest test (with the plugin's mgio_server fixture) is run
    as that test would be: with a started mgio.testing.Server, checked at the end."""
    import mgio.testing

    for name, func in namespace.items():
        if name.startswith("test_") and callable(func):
            with mgio.testing.Server() as server:
                func(server)


def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    # The example loops until its connection closes: bound it, so a bug fails, not hangs.
    def too_slow(signum, frame):
        raise TimeoutError("a README example ran for 10 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        for code in blocks:
            namespace: dict[str, object] = {}
            exec(compile(code, str(README), "exec"), namespace)
            run_test_functions(namespace)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out = capsys.readouterr().out
    assert "b'hello'" in out  # the echo example
    assert "200 b'hello, mgio'" in out  # the HTTP example
    assert "hello, websocket\n" in out  # the WebSocket example
    assert "ping?\n" in out  # the asyncio WebSocket example
    assert "200 hello, aio\n" in out  # the asyncio HTTP example
