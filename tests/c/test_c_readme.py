"""The README's C examples compile against the public header and run."""

from __future__ import annotations

import os
import re
import subprocess

from cbuild import CSRC, ROOT, library_sources


def test_readme_c_examples_build_and_run(tmp_path):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```c\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    outputs = []
    for i, code in enumerate(blocks):
        src = tmp_path / f"example{i}.c"
        src.write_text(code)
        exe = tmp_path / f"example{i}"
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{CSRC / 'include'}",
             str(src), *map(str, library_sources()), "-o", str(exe), "-lz", "-pthread"],
            check=True,
        )
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert "200 /hello\n" in outputs  # the HTTP example's client got its answer
