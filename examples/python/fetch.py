"""Fetches a URL with mgio's synchronous client and prints the status and the body.

    python examples/python/fetch.py URL [USER:PASSWORD]

With credentials it answers a Basic or Digest challenge.
"""

import sys

import mgio


def main(url: str, credentials: str | None = None) -> int:
    auth = None
    if credentials:
        user, _, password = credentials.partition(":")
        auth = (user, password)
    response = mgio.request("GET", url, auth=auth, timeout=10)
    print(response.status, response.headers.get("Content-Type", ""), file=sys.stderr)
    sys.stdout.buffer.write(response.body)
    return 0 if response.ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:3]))
