"""`python -m benchmarks`: the benchmark suite (benchmarks/run.py; its options: --help).

The benchmark scripts import their shared modules (benchcommon, servers, wrkload) by
plain name, as `python benchmarks/bench_x.py` allows, so this folder goes on sys.path
first; benchmarks/ stays a plain folder of scripts, not an importable package.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
runpy.run_path(str(HERE / "run.py"), run_name="__main__")
