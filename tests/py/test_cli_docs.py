"""Every ``mgio`` command shown in the documentation (docs/cli.md and the README) is a
valid command line: it parses with the real argument parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from mgio.__main__ import parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [p for p in (ROOT / "docs" / "cli.md", ROOT / "README.md") if p.exists()]


def documented_commands() -> list[str]:
    """The mgio command lines of the ```sh blocks (the last stage of a pipeline)."""
    commands = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(), re.S):
            for line in block.splitlines():
                stage = line.rsplit("|", 1)[-1].strip()
                stage = re.sub(r"^(pip install \S+ && )?(python -m mgio|mgio) ", "mgio ", stage)
                if stage.startswith("mgio "):
                    commands.append(stage)
    return commands


def test_the_docs_show_every_command():
    shown = {shlex.split(c, comments=True)[1] for c in documented_commands()}
    assert shown >= {"serve", "get", "ws"}


@pytest.mark.parametrize("command", documented_commands())
def test_documented_command_parses(command):
    args = parser().parse_args(shlex.split(command, comments=True)[1:])
    assert args.command in ("serve", "get", "ws", "demo")
