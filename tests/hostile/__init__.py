"""Hostile inputs for mgio, written from the RFCs (9110/9112, 6455, 7578, 7616/7617, 3986).

Each module holds cases as data: lists of ``Case`` (name, RFC reference, the bytes, the
expected outcome). The runners in ``tests/py/test_hostile_*.py`` send every case to an
mgio server running in-process, whole, one byte at a time (short inputs) and split at a
few points, and then check that the server still serves a fresh connection.

``known_bugs.KNOWN_BUGS`` names the cases mgio currently gets wrong (strict xfail).
"""
