"""The benchmark suite: runs every benchmark (each starts its own peers) and writes their
tables into benchmarks/RESULTS.md.

    python -m benchmarks                  # full run (25-35 minutes), updates RESULTS.md
    python -m benchmarks --quick          # CI smoke run (under 3 minutes), writes nothing
    python -m benchmarks --quick --output /tmp/RESULTS.md   # smoke run of the writing too
    python -m benchmarks --only http ws   # some of them (names: --list)

Each benchmark is its script run as `python benchmarks/bench_NAME.py --markdown`
(`--quick` added in quick mode), in a process of its own, one after the other (they pin
servers and clients to the two cores, so they must not overlap). A benchmark whose file
is absent (bench_multipart.py before it lands) is listed as such.

RESULTS.md keeps its hand-written analysis: the runner replaces only what lies between
`<!-- begin generated: NAME -->` and `<!-- end generated: NAME -->` (the script's output
under a line saying which command ran, when, on what machine and for how long), and the
`targets` block, which gathers every verdict line ("... (met; target ...)"), keeping the
lines of benchmarks that did not run this time.
A benchmark without markers yet gets a new section at the end. Quick figures (one short
round) would replace the recorded ones with noise, so --quick writes only to --output.

Exit status: 1 when a benchmark failed (its block then says how), else 0; speed never
fails the run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchcommon import OBJ_CACHE_ENV, machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
ORDER = ("mbuf", "echo", "http", "ws", "parse", "static", "idle", "multipart")
TIMEOUT = 3600  # seconds for one benchmark in a full run
QUICK_TIMEOUT = 120
VERDICT = re.compile(r"\((?:not )?met;")


@dataclass
class Outcome:
    name: str
    command: str
    output: str = ""
    seconds: float = 0.0
    status: str = "ok"  # "ok", "absent", or why it failed

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "absent")


def script(name: str) -> Path:
    return HERE / f"bench_{name}.py"


def run_one(name: str, quick: bool) -> Outcome:
    argv = [sys.executable, str(script(name)), "--markdown", *(["--quick"] if quick else [])]
    shown = f"python benchmarks/bench_{name}.py --markdown" + (" --quick" if quick else "")
    outcome = Outcome(name, shown)
    if not script(name).exists():
        outcome.status = "absent"
        outcome.output = f"not run: benchmarks/bench_{name}.py does not exist yet"
        return outcome
    start = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=QUICK_TIMEOUT if quick else TIMEOUT)
    except subprocess.TimeoutExpired as e:
        outcome.status = f"timed out after {e.timeout:.0f} s"
        outcome.output = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else ""
    else:
        outcome.output = done.stdout.strip()
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            outcome.status = f"failed (exit {done.returncode}): {tail}"
    outcome.seconds = time.monotonic() - start
    return outcome


def block(o: Outcome, when: str) -> str:
    head = (f"Last run: `{o.command}` on {when}, {o.seconds:.0f} s. Machine: {machine()}.")
    if o.status == "absent":
        return o.output
    body = o.output if not o.failed else f"**{o.status}**\n\n{o.output}".rstrip()
    return f"{head}\n\n{body}"


def targets_block(outcomes: list[Outcome], previous: str) -> str:
    """Every verdict line of this run, and the previous block's lines of benchmarks that
    did not run this time (--only), in the suite's order."""
    ran = {o.name for o in outcomes}
    lines = {name: [] for name in ORDER}
    for line in previous.splitlines():
        name = line[2:].split(":", 1)[0] if line.startswith("- ") else ""
        if name in lines and name not in ran:
            lines[name].append(line)
    for o in outcomes:
        lines[o.name] += [f"- {o.name}: {x.removeprefix('- ')}" for x in o.output.splitlines()
                          if VERDICT.search(x)]
        if o.failed or o.status == "absent":
            lines[o.name].append(f"- {o.name}: {o.status}")
    head = ("Verdict lines (generated), each from the last run of its benchmark (date and "
            "command in its section); the table above interprets them:")
    return "\n".join([head, "", *(x for name in ORDER for x in lines[name])])


def current_block(text: str, name: str) -> str:
    begin, end = markers(name)
    found = re.search(re.escape(begin) + r"(.*?)" + re.escape(end), text, re.DOTALL)
    return found.group(1) if found else ""


def markers(name: str) -> tuple[str, str]:
    return f"<!-- begin generated: {name} -->", f"<!-- end generated: {name} -->"


def replace_block(text: str, name: str, content: str, title: str) -> str:
    begin, end = markers(name)
    found = re.search(re.escape(begin) + r".*?" + re.escape(end), text, re.DOTALL)
    new = f"{begin}\n{content}\n{end}"
    if found is None:
        return text.rstrip("\n") + f"\n\n## {title}\n\n{new}\n"
    return text[: found.start()] + new + text[found.end():]


def write(outcomes: list[Outcome], path: Path, when: str) -> None:
    text = path.read_text() if path.exists() else RESULTS.read_text()
    for o in outcomes:
        text = replace_block(text, o.name, block(o, when), f"`benchmarks/bench_{o.name}.py`")
    targets = targets_block(outcomes, current_block(text, "targets"))
    text = replace_block(text, "targets", targets, "Targets")
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI smoke run; writes only --output")
    ap.add_argument("--output", type=Path, help="file to write (full run: RESULTS.md)")
    ap.add_argument("--only", nargs="+", choices=ORDER, metavar="NAME", help="these only")
    ap.add_argument("--list", action="store_true", help="print the benchmarks' names")
    args = ap.parse_args()
    if args.list:
        print(" ".join(ORDER))
        return
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench_objects_") as objects:
        os.environ[OBJ_CACHE_ENV] = objects  # the library is compiled once for the suite
        for name in args.only or ORDER:
            print(f"== bench_{name}", flush=True)
            outcomes.append(run_one(name, args.quick))
            o = outcomes[-1]
            print(o.output)
            print(f"== bench_{name}: {o.status}, {o.seconds:.0f} s\n", flush=True)
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        write(outcomes, output, when)
        print(f"wrote {output}")
    total = sum(o.seconds for o in outcomes)
    failed = [o.name for o in outcomes if o.failed]
    print(f"suite: {len(outcomes)} benchmarks, {total:.0f} s" +
          (f"; failed: {', '.join(failed)}" if failed else ""))
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
