"""Every Python example of docs/asyncio.md runs as written and prints what it says."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from types import FrameType

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncio.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)

EXPECTED = [
    "200 hello, mgio 1\n",
    "tick 0\ntick 1\ntick 2\necho?\n",
    "{'method': 'POST', 'size': 3}\n{'method': 'PUT', 'size': 4000}\ntoo many: 0\n",
]


def test_every_example_is_checked() -> None:
    assert len(BLOCKS) == len(EXPECTED)


@pytest.mark.parametrize(("code", "expected"), list(zip(BLOCKS, EXPECTED, strict=False)))
def test_example_runs(code: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    def too_slow(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("a docs/asyncio.md example ran for 10 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        exec(compile(code, str(DOC), "exec"), {"__name__": "__main__"})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert capsys.readouterr().out == expected
