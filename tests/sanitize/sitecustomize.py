"""Loaded by the Python test run under ASan + UBSan + LeakSanitizer (.ci/run): the
sanitizer runtime is preloaded into the pytest process only. Its children (curl, nginx,
and the Pythons the CLI and example tests start) get neither LD_PRELOAD nor this
PYTHONPATH, so they run normally and import the ordinary build of mgio; nor
PYTHONMALLOC, which the run sets so that LSan can see into Python's objects."""

import os

for name in ("LD_PRELOAD", "PYTHONPATH", "PYTHONMALLOC"):
    os.environ.pop(name, None)
