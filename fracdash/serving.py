"""Serving the dashboard: a port checked before anything is served, and a server that
takes its jobs with it when it ends.

Werkzeug answers a taken port with ``sys.exit(1)``, which ``except Exception`` cannot
catch and which kills a script or a notebook's caller; fracdash checks first and raises
:class:`~fracdash.errors.PortInUse`, an ordinary exception naming the fix.

A server's jobs are its child processes: :func:`stop_on_signals` has SIGTERM and SIGINT
stop them (terminated and reaped) before the server itself goes as it would have.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable

from fracdash.errors import PortInUse


def check_port(host: str, port: int, hint: str = "port=") -> None:
    """Raise :class:`PortInUse` unless ``host:port`` can be listened on now.

    Parameters
    ----------
    host, port : str, int
        Where the server would listen.
    hint : str
        How the caller's user picks another port (``"port="`` in Python, ``"--port"``
        on the command line); the message says to pass it.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise PortInUse(f"cannot listen on {host}:{port} ({err}); pass another host") from err
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # The same option werkzeug sets, so a port in TIME_WAIT is not called taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as err:
            raise PortInUse(
                f"port {port} on {host} is in use ({err.strerror}; another server?); "
                f"pass another {hint}{'' if hint.endswith('=') else ' '}{port + 1}, or stop "
                "the other server"
            ) from err


def stop_on_signals(stop: Callable[[], None], signals=(signal.SIGTERM, signal.SIGINT)) -> bool:
    """On each of ``signals``, call ``stop()``, then do what the signal did before (a
    server's own handler, such as gunicorn's; else the default: end the process, or
    KeyboardInterrupt for SIGINT).

    Signal handlers belong to the main thread: elsewhere (a notebook's server thread)
    nothing is installed and False is returned.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in signals:
        previous = signal.getsignal(signum)

        def handler(number, frame, previous=previous):
            stop()
            if callable(previous):
                previous(number, frame)
            elif previous != signal.SIG_IGN:  # the default action, now that jobs are gone
                signal.signal(number, signal.SIG_DFL)
                os.kill(os.getpid(), number)

        signal.signal(signum, handler)
    return True
