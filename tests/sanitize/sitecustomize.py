"""Loaded by the Python test run under ASan + UBSan (.ci/run): the sanitizer runtime is
preloaded into the pytest process only. Its children (curl, nginx, and the Pythons the CLI
and example tests start) get neither LD_PRELOAD nor this PYTHONPATH, so they run normally
and import the ordinary build of mgio."""

import os

for name in ("LD_PRELOAD", "PYTHONPATH"):
    os.environ.pop(name, None)
