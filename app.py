"""The fracdash dashboard: ``python app.py [--host H] [--port P] [--store DIR] [--debug]``.

Also the WSGI target (``gunicorn app:server -w 2``, see docs/deploy.md): importing this
module builds the app on the default store (``$FRACDASH_STORE`` or ``~/.cache/fracdash``),
debug off, with ``/healthz``. It never imports TensorFlow; only computing a missing
scenario does, inside a background job.
"""

from __future__ import annotations

import argparse
import os

# Before anything can import TensorFlow (a background job may): quiet C++ start-up logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fracdash.web import create_app  # noqa: E402
from fracdash.web.app import serve  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fracdash dashboard.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (reloader, tools)")
    parser.add_argument(
        "--store", "--cache-dir", dest="store",
        help="fracdash store (default: $FRACDASH_STORE or ~/.cache/fracdash); --cache-dir "
        "is its older name",
    )  # fmt: skip
    parser.add_argument("--run", default="easy", help="scenario or stored run opened first")
    parser.add_argument(
        "--samples", type=int, help="test samples per scenario run (default: all 10,000)"
    )
    args = parser.parse_args(argv)
    dashboard = create_app(args.store, default_run=args.run, samples=args.samples)
    print(f"fracdash: http://{args.host}:{args.port}/", flush=True)
    serve(dashboard, host=args.host, port=args.port, debug=args.debug)  # jobs end with it


if __name__ == "__main__":
    main()
else:
    app = create_app()
    server = app.server
    # Hosted (gunicorn app:server): never debug, whatever FLASK_DEBUG says; Dash's dev
    # tools are only turned on by ``app.run(debug=True)``, i.e. ``python app.py --debug``.
    server.debug = False
    # A gunicorn worker's jobs end with it (SIGTERM, SIGINT; then gunicorn's own handler).
    from fracdash.serving import stop_on_signals
    from fracdash.web.jobs import stop_all

    stop_on_signals(stop_all)
