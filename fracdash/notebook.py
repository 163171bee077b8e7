"""``fracdash.show``: the dashboard on your own model and data, from Python.

In Jupyter the page appears in the cell's output (Dash's Jupyter mode); elsewhere it is
served on a port. The run is analyzed and stored first, exactly as ``fracdash analyze``
does, so the dashboard (``fracdash serve`` or ``make run``) lists it afterwards too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fracdash.errors import PortInUse
from fracdash.serving import check_port
from fracdash.store import Store, default_store_dir, store_argument

#: Dash's own display modes inside Jupyter, plus "server" (serve on a port).
MODES = ("inline", "external", "jupyterlab", "tab", "server")


@dataclass
class Shown:
    """What :func:`show` started: the run's name, its URL and its analysis."""

    run: str
    url: str
    analysis: object
    _server: object = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop a server started with ``mode="server", block=False``."""
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._server = None


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (where Dash can display inline)."""
    from dash._jupyter import jupyter_dash

    return bool(jupyter_dash.active)


def show(
    model,
    x,
    y,
    class_names=None,
    *,
    name: str | None = None,
    samples: int | None = None,
    first: bool = False,
    scale: float | None = None,
    logits: bool = False,
    replace: bool = False,
    metric: str = "euclidean",
    store=None,
    host: str = "127.0.0.1",
    port: int = 8050,
    mode: str | None = None,
    block: bool = True,
    height: int = 900,
    cache_dir=None,
) -> Shown:
    """Analyze ``model`` on ``(x, y)`` and show the dashboard on that run.

    Parameters
    ----------
    model : keras.Model, onnx.ModelProto, torch.nn.Module or path
        A trained classifier with one output, a distribution over k classes: a Keras
        model, an ONNX model (``.onnx`` path, bytes or ``onnx.ModelProto``) or a PyTorch
        module (exported to ONNX by tracing it on ``x[:1]``).
    x, y : array_like
        Test inputs as the model takes them (passed as they are: see ``scale``) and
        their classes in ``0..k-1`` (or class names, when ``class_names`` holds them).
    class_names : list of str, optional
        k names (``"0".."k-1"`` by default).
    name : str, optional
        Run name shown in the dashboard (default: the model's name, an ONNX file's stem,
        a PyTorch module's class name).
    samples : int, optional
        Use this many samples: a seeded stratified sample (``first=True``: the first ones).
    first : bool
        With ``samples``: take the first samples instead of a stratified sample.
    scale : float, optional
        Multiply x by this before the model (``1/255`` for a model trained on [0, 1]).
    logits : bool
        The model ends in logits (no softmax); its argmax is the prediction.
    replace : bool
        Overwrite a stored run of the same name (refused otherwise).
    store : path-like or Store, optional
        The fracdash store, as its folder or an open :class:`~fracdash.store.Store`
        (``$FRACDASH_STORE`` or ``~/.cache/fracdash`` by default).
    host, port : str, int
        Where the server listens (loopback by default).
    mode : {"inline", "external", "jupyterlab", "tab", "server"}, optional
        ``"inline"`` in Jupyter and ``"server"`` elsewhere by default; the first four are
        Dash's Jupyter display modes.
    block : bool
        With ``mode="server"``: serve until interrupted (True), or serve from a
        background thread and return at once (False; :meth:`Shown.stop` ends it).
    height : int
        Height in pixels of the inline frame.
    cache_dir : path-like, optional
        Deprecated: the older name of ``store`` (a DeprecationWarning).

    Returns
    -------
    Shown
        The run name, its URL and the :class:`~fracdash.analysis.Analysis`.

    Raises
    ------
    fracdash.errors.FracdashError
        If the model, the data, the name or the port cannot be used (``UserDataError``,
        ``RunError``, ``PortInUse``); the message says what to fix.
    """
    from fracdash.inputs import data as userdata
    from fracdash.progress import ProgressBars
    from fracdash.runs import analyze_run, check_run_name
    from fracdash.sources import as_source
    from fracdash.web import create_app

    store = store_argument(store, cache_dir, "cache_dir")
    jupyter = in_jupyter()
    mode = mode or ("inline" if jupyter else "server")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode != "server" and not jupyter:
        raise ValueError(f"mode {mode!r} needs a Jupyter kernel; use mode='server' here")
    store = store if isinstance(store, Store) else Store(store or default_store_dir())
    model = as_source(model, example=x)  # a PyTorch module is exported once, here
    name = check_run_name(store, name if name is not None else model.name, replace=replace)
    check_port(host, port)  # before minutes of work, not after
    if samples is not None:
        x, y = userdata.sample(x, y, samples, first=first)
    x, y, class_names = userdata.check_data(model, x, y, class_names, scale=scale, logits=logits)
    analysis = analyze_run(
        store, model, x, y, class_names, name=name, replace=replace, metric=metric,
        progress=ProgressBars(), meta={"note": "shown from Python"},
    )  # fmt: skip
    dashboard = create_app(store.directory, default_run=name)
    url = f"http://{host}:{port}/"
    if mode != "server":
        dashboard.run(host=host, port=port, jupyter_mode=mode, jupyter_height=height)
        return Shown(name, url, analysis)
    return _serve(dashboard, Shown(name, url, analysis), host, port, block)


def _serve(dashboard, shown: Shown, host: str, port: int, block: bool) -> Shown:
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, dashboard.server, threaded=True)
    except (OSError, SystemExit) as err:  # werkzeug exits on a taken port
        check_port(host, port)  # taken since the first check: says so, with port=
        raise PortInUse(f"cannot listen on {host}:{port}; pass another port=") from err
    print(f"fracdash: {shown.url} (run {shown.run!r})", flush=True)
    if block:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return shown
    thread = threading.Thread(target=server.serve_forever, name="fracdash-show", daemon=True)
    thread.start()
    shown._server, shown._thread = server, thread
    return shown
