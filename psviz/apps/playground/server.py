"""`psviz playground`: serve the Playground on 127.0.0.1 with Panel, print its URL, and on Ctrl-C end every tab's
training thread and the trainer process before the process exits.

Every script and style the page loads (Bokeh's, Panel's and the plotly.js Panel bundles) is served by this process
from the installed packages, so the page works with no network at all.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading
import webbrowser

ADDRESS = "127.0.0.1"
DEFAULT_PORT = 5006
PATH = "playground"


def url(port: int, query: str = "") -> str:
    return f"http://{ADDRESS}:{port}/{PATH}" + (f"?{query}" if query else "")


def warm_up(trainer=None) -> None:
    """Build and draw one pair of runs before the first tab asks (in ``trainer``'s process, when given), so its page
    does not wait for imports."""
    from .batch import synthetic_figure
    from .session import Pair
    from .state import Settings
    from .views import curves_figure, landscape_figure

    pair = (Pair if trainer is None else trainer.pair)(Settings())
    snapshot = pair.snapshot()
    pair.close()
    for draw in (landscape_figure, synthetic_figure, curves_figure):
        draw(snapshot)


def serve(port: int = DEFAULT_PORT, *, open_browser: bool = True, threads: int = 1, query: str = "") -> int:
    """Serve until Ctrl-C (or SIGTERM); returns the exit status. The URL printed (and opened) carries ``query`` (a
    lesson's ``lesson=1``, say). The runs train in a process of their own (`worker.Trainer`) with ``threads`` torch
    threads (one suits the toy's small MLP and leaves the other core to the server and the browser)."""
    import panel as pn

    from . import app
    from .session import close_all
    from .worker import Trainer

    check_port(port)  # before the trainer process starts: a port in use is one line at once
    if threading.current_thread() is threading.main_thread():  # SIGTERM stops it as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"{app.TITLE}: starting…", flush=True)
    app.TRAINER = trainer = Trainer(threads)
    try:
        warm_up(trainer)
        server = pn.serve({PATH: app.create}, port=port, address=ADDRESS,
                          websocket_origin=[f"{ADDRESS}:{port}", f"localhost:{port}"], show=False, start=False,
                          title=app.TITLE)
    except BaseException:
        trainer.close()
        raise
    quiet_closed_sockets(server.io_loop.asyncio_loop)
    server.start()
    print(f"{app.TITLE}: {url(port, query)}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        webbrowser.open(url(port, query))
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        ended, left = close_all()
        stopped = trainer.close()
        server.stop()
        print(f"{app.TITLE}: stopped; {ended} training thread(s) ended"
              + (f", {left} did not end within 10 s" if left else "")
              + ("" if stopped else "; the trainer process did not end"), flush=True)
    return 0


def check_port(port: int) -> None:
    """ValueError naming the port when something already listens on it (another Playground, say)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closing socket is no hold
        try:
            probe.bind((ADDRESS, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise ValueError(f"port {port} on {ADDRESS} is in use (another Playground or another server); "
                             f"choose a free one with --port") from None


def quiet_closed_sockets(loop) -> None:
    """Drop asyncio's "Task exception was never retrieved" report for a write to a tab's websocket that had closed
    (a tab closed mid-update, or the server stopping): Bokeh does not await those writes, and the report is a
    traceback that says nothing wrong. Every other report goes to the loop's default handler."""
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    def handle(loop, context):
        if not isinstance(context.get("exception"), (WebSocketClosedError, StreamClosedError)):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m psviz.apps.playground.server [port]``: the same as `psviz playground --no-browser`."""
    argv = sys.argv[1:] if argv is None else argv
    return serve(int(argv[0]) if argv else DEFAULT_PORT, open_browser=False)


__all__ = ["ADDRESS", "DEFAULT_PORT", "PATH", "check_port", "main", "quiet_closed_sockets", "serve", "url", "warm_up"]


if __name__ == "__main__":
    sys.exit(main())
