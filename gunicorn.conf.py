"""gunicorn settings for a LiveShop web process; gunicorn reads this file from the folder it is
started in: `gunicorn -b 127.0.0.1:5000 'app:create_app()'` (README, Scale-out).

One worker per process: Socket.IO's long-polling needs every request of a client on the process
that holds its session, and gunicorn does not balance by client (run more processes behind a
balancer with sticky sessions, and SOCKETIO_MESSAGE_QUEUE). The gevent worker makes each
connection a greenlet, so one process holds thousands of Socket.IO viewers and still answers
pages (docs/scale.md, "Realtime capacity"); commerce/webprocess.py says what that requires.
"""

import os

from commerce.webprocess import drain_on_sigterm, gc_threshold, raise_open_files_limit, settle_heap

worker_class = "gevent"
workers = 1
# Open connections per process: viewers' sockets, pages, media and blocked playlist reloads.
worker_connections = 10000
# The app is imported in the worker after gevent patched it: psycopg imported unpatched would
# block the whole process on each query (commerce/webprocess.py refuses to start then).
preload_app = False
# SIGTERM: stop accepting, let requests in flight finish for this long; viewers are cut at once
# (they reconnect elsewhere) so a deploy does not wait for them.
graceful_timeout = 30
timeout = 60
# Several web processes on one host would all claim the same control socket path.
control_socket_disable = True


def on_starting(_server: object) -> None:
    raise_open_files_limit()  # inherited by the worker: one descriptor per viewer


def post_worker_init(worker: object) -> None:
    drain_on_sigterm(worker)
    # After the app is loaded (the worker loads it before this hook): see settle_heap.
    settle_heap(
        gc_threshold(os.environ.get("WEB_GC_THRESHOLD")), os.environ.get("WEB_GC_PAUSES_FILE")
    )
