"""Receives file uploads (multipart/form-data) into a folder, streaming them to disk.

    python examples/python/upload_server.py FOLDER [ADDRESS]   (default 127.0.0.1:8000)

Then ``curl -F file=@big.iso http://127.0.0.1:8000/`` answers a JSON summary. Memory
stays bounded whatever the file size; names are reduced to safe base names and never
overwrite an existing file. Ctrl-C stops it.
"""

import sys

import mgio

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mgio.serve_forever(mgio.UploadHandler(sys.argv[1]), *sys.argv[2:3], http=True)
