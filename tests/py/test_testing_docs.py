"""Every example of docs/testing.md runs: the blocks with test functions as test files
through pytester (they pass, except the one followed by a failure message, which must
fail at teardown with that message), the others as scripts."""

from __future__ import annotations

import re
from pathlib import Path

# pytester drops the modules an in-process run imports: keep one copy of the clients.
import aiohttp  # noqa: F401
import mgio.testing  # noqa: F401
import pytest
import requests  # noqa: F401
import websockets.sync.client  # noqa: F401

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```(python|text)\n(.*?)```", DOC.read_text(), re.S)


def examples(kind: str) -> list[object]:
    """pytest params (code, the failure message shown after it or None) of the Python
    blocks that are test files (kind "tests") or scripts (kind "scripts")."""
    found = []
    for i, (lang, code) in enumerate(BLOCKS):
        if lang != "python" or ("def test_" in code) != (kind == "tests"):
            continue
        following = BLOCKS[i + 1] if i + 1 < len(BLOCKS) else ("", "")
        name = re.search(r"def (test_\w+)", code)
        found.append(pytest.param(code, following[1] if following[0] == "text" else None,
                                  id=name.group(1) if name else f"script{i}"))
    return found


def as_patterns(message: str) -> list[str]:
    """The lines of a documented message as fnmatch patterns (PORT, VERSION: anything)."""
    return [re.sub("PORT|VERSION", "*", line) for line in message.splitlines()]


@pytest.mark.parametrize(("code", "failure"), examples("tests"))
def test_doc_test_examples(pytester: pytest.Pytester, code: str, failure: str | None):
    pytester.makepyfile(test_doc=code)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    tests = code.count("\ndef test_") + code.startswith("def test_")
    if failure is None:
        result.assert_outcomes(passed=tests)
    else:
        result.assert_outcomes(passed=tests, errors=tests)
        result.stdout.fnmatch_lines(as_patterns(failure), consecutive=True)


@pytest.mark.parametrize(("code", "failure"), examples("scripts"))
def test_doc_script_examples(code: str, failure: str | None, capsys: pytest.CaptureFixture[str]):
    exec(compile(code, str(DOC), "exec"), {})
    assert "pong" in capsys.readouterr().out


def test_the_doc_has_its_examples():
    assert len(examples("tests")) == 8 and len(examples("scripts")) == 1
