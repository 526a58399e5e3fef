"""mgio: an embeddable, event-driven networking library with a C core.

The C core keeps the Mongoose 6 API; this package is its Python face. Available now:

- :class:`Mbuf`, the growable byte buffer behind every connection, with a writable buffer
  export (``memoryview``, ``socket.recv_into``).
"""

from ._core import Mbuf
from ._version import __version__

__all__ = ["Mbuf", "__version__"]
