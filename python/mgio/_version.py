"""The package version; the C core reports the same one (a test checks they agree)."""

__version__ = "0.1.0"
