"""The README's C example compiles against the public header and runs."""

from __future__ import annotations

import os
import re
import subprocess

from cbuild import CSRC, ROOT, library_sources


def test_readme_c_example_builds_and_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```c\n(.*?)```", readme, re.S).group(1)
    src = tmp_path / "example.c"
    src.write_text(code)
    exe = tmp_path / "example"
    cc = os.environ.get("CC", "cc")
    subprocess.run(
        [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{CSRC / 'include'}",
         str(src), *map(str, library_sources()), "-o", str(exe)],
        check=True,
    )
    assert subprocess.run([str(exe)]).returncode == 0
