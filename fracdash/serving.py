"""Where the dashboard listens: a port checked before anything is served.

Werkzeug answers a taken port with ``sys.exit(1)``, which ``except Exception`` cannot
catch and which kills a script or a notebook's caller; fracdash checks first and raises
:class:`~fracdash.errors.PortInUse`, an ordinary exception naming the fix.
"""

from __future__ import annotations

import socket

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
