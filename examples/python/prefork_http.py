"""Several worker processes serve one port: each binds it with reuse_port=True
(SO_REUSEPORT) and the kernel spreads the incoming connections between them.

    python examples/python/prefork_http.py [ADDRESS] [WORKERS]
        (default 127.0.0.1:8000, one worker per CPU)

Each answer names the worker that served it. Ctrl-C (or SIGINT to the first process)
stops every worker.
"""

import os
import signal
import sys

import mgio


class Hello(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        conn.reply(200, f"hello from worker {os.getpid()}\n", {"Content-Type": "text/plain"})


def worker(address: str) -> int:
    with mgio.Manager() as mgr:
        try:
            mgr.bind(address, Hello(), http=True, reuse_port=True)
        except OSError as e:
            print(f"worker {os.getpid()}: {e}", file=sys.stderr)
            return 1
        try:
            mgr.run()
        except KeyboardInterrupt:
            pass
    return 0


def main(address: str = "127.0.0.1:8000", workers: str = "") -> int:
    count = int(workers) if workers else os.cpu_count() or 1
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:                    # a worker: its own manager, its own socket
            os.setpgid(0, 0)            # Ctrl-C reaches it once: forwarded by main()
            os._exit(worker(address))
        pids.append(pid)
    print(f"{count} workers on {address}", flush=True)
    codes: dict[int, int] = {}
    try:
        reap(codes, len(pids))
    except KeyboardInterrupt:
        for pid in pids:
            if pid not in codes:
                os.kill(pid, signal.SIGINT)
        reap(codes, len(pids))
        print("stopped")
    return 0 if all(code == 0 for code in codes.values()) else 1


def reap(codes: dict[int, int], count: int) -> None:
    """Wait for workers until `count` have exited, recording their exit codes."""
    while len(codes) < count:
        pid, status = os.wait()
        codes[pid] = os.waitstatus_to_exitcode(status)

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
