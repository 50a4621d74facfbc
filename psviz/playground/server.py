"""`psviz playground`: serve the Playground on 127.0.0.1 with Panel, print its URL, and on Ctrl-C end every tab's
training thread before the process exits.

Every script and style the page loads (Bokeh's, Panel's and the plotly.js Panel bundles) is served by this process
from the installed packages, so the page works with no network at all.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import webbrowser

ADDRESS = "127.0.0.1"
DEFAULT_PORT = 5006
PATH = "playground"


def url(port: int, query: str = "") -> str:
    return f"http://{ADDRESS}:{port}/{PATH}" + (f"?{query}" if query else "")


def warm_up() -> None:
    """Build and draw one pair of runs before the first tab asks, so its page does not wait for imports."""
    from .session import Pair
    from .state import Settings
    from .batch import synthetic_figure
    from .views import curves_figure, landscape_figure

    snapshot = Pair(Settings()).snapshot()
    for draw in (landscape_figure, synthetic_figure, curves_figure):
        draw(snapshot)


def serve(port: int = DEFAULT_PORT, *, open_browser: bool = True, threads: int = 1) -> int:
    """Serve until Ctrl-C (or SIGTERM); returns the exit status. ``threads``: torch threads for the training (one
    suits the toy's small MLP and leaves the other core to the server and the browser)."""
    import panel as pn
    import torch

    from .app import TITLE, create
    from .session import close_all

    torch.set_num_threads(threads)
    if threading.current_thread() is threading.main_thread():  # SIGTERM stops it as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"{TITLE}: starting…", flush=True)
    warm_up()
    server = pn.serve({PATH: create}, port=port, address=ADDRESS, websocket_origin=[f"{ADDRESS}:{port}",
                                                                                     f"localhost:{port}"],
                      show=False, start=False, title=TITLE)
    server.start()
    print(f"{TITLE}: {url(port)}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        webbrowser.open(url(port))
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        ended, left = close_all()
        server.stop()
        print(f"{TITLE}: stopped; {ended} training thread(s) ended"
              + (f", {left} did not end within 10 s" if left else ""), flush=True)
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m psviz.playground.server [port]``: the same as `psviz playground --no-browser`."""
    argv = sys.argv[1:] if argv is None else argv
    return serve(int(argv[0]) if argv else DEFAULT_PORT, open_browser=False)


__all__ = ["ADDRESS", "DEFAULT_PORT", "PATH", "main", "serve", "url", "warm_up"]


if __name__ == "__main__":
    sys.exit(main())
