"""The Python entry points: ``fracdash.analyze`` and ``fracdash.show``.

Both make the checks ``fracdash analyze`` makes (:func:`fracdash.inputs.data.prepare_data`)
and store a named run through the same service (:func:`fracdash.runs.analyze_run`), so
the dashboard (``fracdash serve`` or ``make run``) lists it afterwards. ``show`` then
shows the dashboard on that run: in Jupyter in the cell's output (Dash's Jupyter mode),
elsewhere on a port.

The project's messages name the command line's flags; raised from here they name the
keywords instead (:func:`fracdash.errors.python_message`: ``--logits`` becomes
``logits=True``), and every refusal is a :class:`fracdash.errors.FracdashError`.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from fracdash.errors import FracdashError, PortInUse, UserDataError, python_message
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


@contextmanager
def python_errors():
    """Refusals raised in the block say the Python keywords (:func:`python_message`)."""
    try:
        yield
    except FracdashError as err:
        if err.args and isinstance(err.args[0], str):
            err.args = (python_message(err.args[0]), *err.args[1:])
        raise


def _warn(note: str) -> None:
    print(f"fracdash: warning: {python_message(note)}", file=sys.stderr, flush=True)


def _data_source(x) -> str:
    """What the run list says of data given from Python: ``Python array 300x28x28 uint8``."""
    import numpy as np

    if isinstance(x, list | tuple):
        return f"Python arrays ({len(x)} inputs)"
    x = np.asarray(x)
    return f"Python array {'x'.join(map(str, x.shape))} {x.dtype}"


def analyze(
    model,
    x,
    y,
    class_names=None,
    *,
    name: str | None = None,
    store=None,
    scale=None,
    mean=None,
    std=None,
    output=None,
    logits: bool = False,
    keep_labels: bool = False,
    measures: bool = True,
    class_groups=None,
    replace: bool = False,
    samples: int | None = None,
    first: bool = False,
    metric: str = "euclidean",
    labels: str = "truth",
    progress=None,
    meta: dict | None = None,
    orderer=None,
    on_partial=None,
    cache=None,
):
    """Order the test set ``(x, y)`` at every shown layer of ``model``, with the checks of
    ``fracdash analyze``; with ``name``, store it as a run the dashboard lists.

    Parameters
    ----------
    model : keras.Model, onnx.ModelProto, torch.nn.Module, ModelSource or path
        A trained classifier: a Keras model, an ONNX model (a ``.onnx`` path, bytes or
        ``onnx.ModelProto``), a PyTorch module (exported to ONNX by tracing it on
        ``x[:1]``), or a ``.keras`` / ``.h5`` path (:func:`fracdash.sources.as_source`).
        Its output: a class distribution, log-probabilities (LogSoftmax), sigmoid scores,
        or logits with ``logits=True``.
    x : ndarray, shape (n, ...), or a list of them
        Test inputs (a list for a multi-input model, passed as they are: no layout,
        preprocessing or output checks). One input's layout is adapted when only one way
        fits (a note says so); its values are passed as they are unless ``scale``,
        ``mean`` or ``std`` say otherwise.
    y : array_like, shape (n,)
        True classes in ``0..k-1`` (or class names, when ``class_names`` holds them).
    class_names : list of str, optional
        k names in the model's class order; ``"0".."k-1"`` by default.
    name : str, optional
        Store the run under this name in ``store`` (the default store when None), so the
        dashboard and ``fracdash runs`` list it; without it nothing but the orders (with
        ``store``) is stored.
    store : path-like or Store, optional
        The fracdash store: finished layers are read from it and new ones written to it.
    scale, mean, std : float, sequence of float or str, optional
        Preprocessing, ``(x * scale - mean) / std`` per channel (torchvision's
        ``ToTensor()`` is ``scale=1/255``, its ``Normalize(mean, std)`` is ``mean``,
        ``std``).
    output : str or int, optional
        Of a model with several outputs, the classifier's (its name, or index from 0).
    logits : bool
        The model ends in logits (no softmax); its argmax is the prediction.
    measures : bool
        Measure each layer's kNN accuracy, hubness and trustworthiness (about 1.5–3x
        its ordering time); ``False`` skips them (``--no-measures``).
    keep_labels : bool
        Keep labels that look permuted against the model's classes (refused otherwise:
        :func:`fracdash.inputs.labels.check_label_order`).
    class_groups : mapping or path-like, optional
        Beyond 20 classes: groups of classes, ``{group: [class, ...]}`` or a file of
        ``group: class, class, ...`` lines (or JSON); each group is colored in a family
        of one hue (default: groups of classes the model confuses). One input's x only.
    replace : bool
        With ``name``: overwrite a stored run of that name (refused otherwise).
    samples : int, optional
        Use this many samples: a seeded stratified sample (``first=True``: the first ones).
    first : bool
    metric : {"euclidean", "cosine"}
        Dissimilarity between activations.
    labels : {"truth", "predicted"}
        Which labels color the glyphs and score their quality.
    progress : callable(stage, done, total, detail), optional
    meta : dict, optional
        Added to the analysis' ``meta``.
    orderer, on_partial
        As :func:`fracdash.pipeline.analyze` takes them.
    cache : path-like or Store, optional
        Deprecated: the older name of ``store`` (a DeprecationWarning).

    Returns
    -------
    fracdash.analysis.Analysis

    Raises
    ------
    fracdash.errors.FracdashError
        Whatever cannot be used (``UserDataError``, ``RunError``, ``ScratchSpaceError``);
        the message names the keyword that fixes it.
    """
    from fracdash import pipeline
    from fracdash.inputs import data as userdata
    from fracdash.runs import analyze_run, check_run_name, label_order_check
    from fracdash.sources import as_source

    store = store_argument(store, cache, "cache")
    with python_errors():
        pipeline.check_options(metric, labels)
        if isinstance(x, list | tuple):  # one array per input of a multi-input model
            given = {"name": name, "scale": scale, "mean": mean, "std": std, "output": output,
                     "samples": samples}  # fmt: skip
            if any(v is not None for v in given.values()):
                said = ", ".join(f"{k}=" for k, v in given.items() if v is not None)
                raise UserDataError(
                    f"{said} take one input's x, not a list; preprocess each input yourself, "
                    "or pass x as one array"
                )
            return pipeline.analyze(
                model, x, y, class_names, metric=metric, labels=labels, store=store,
                progress=progress, meta=meta, orderer=orderer, on_partial=on_partial,
                measures=measures,
                check_predictions=label_order_check(y, class_names, keep_labels),
            )  # fmt: skip
        if name is not None:
            store = store if isinstance(store, Store) else Store(store or default_store_dir())
            check_run_name(store, name, replace=replace)  # before minutes of work
        source = as_source(model, example=x, output=output)
        if samples is not None:
            x, y = userdata.sample(x, y, samples, first=first, warn=_warn)
        data = userdata.prepare_data(source, x, y, class_names, _warn, scale=scale, mean=mean,
                                     std=std, logits=logits,
                                     class_groups=class_groups)  # fmt: skip
        meta = {**data.meta(), **(meta or {})}
        if name is None:
            return pipeline.analyze(
                data.model, data.x, data.y, data.class_names, metric=metric, labels=labels,
                store=store, progress=progress, meta=meta, orderer=orderer,
                on_partial=on_partial, measures=measures,
                check_predictions=label_order_check(data.y, data.class_names, keep_labels),
            )  # fmt: skip
        return analyze_run(
            store, data.model, data.x, data.y, data.class_names, name=name, replace=replace,
            metric=metric, labels=labels, progress=progress,
            meta={"note": "analyzed from Python", **meta},
            about={"model": source.name, "data": _data_source(x), **data.about()},
            keep_labels=keep_labels, orderer=orderer, on_partial=on_partial,
            measures=measures,
        )  # fmt: skip


def show(
    model,
    x,
    y,
    class_names=None,
    *,
    name: str | None = None,
    samples: int | None = None,
    first: bool = False,
    scale=None,
    mean=None,
    std=None,
    output=None,
    logits: bool = False,
    keep_labels: bool = False,
    measures: bool = True,
    class_groups=None,
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
    """Analyze ``model`` on ``(x, y)`` as :func:`analyze` does, store the run and show
    the dashboard on it.

    Parameters
    ----------
    model : keras.Model, onnx.ModelProto, torch.nn.Module or path
        A trained classifier: a Keras model, an ONNX model (``.onnx`` path, bytes or
        ``onnx.ModelProto``) or a PyTorch module (exported to ONNX by tracing it on
        ``x[:1]``).
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
    scale, mean, std : float, sequence of float or str, optional
        Preprocessing, ``(x * scale - mean) / std`` per channel (``scale=1/255`` for a
        model trained on [0, 1]; torchvision's ``Normalize(mean, std)`` as ``mean``, ``std``).
    output : str or int, optional
        Of a model with several outputs, the classifier's (its name, or index from 0).
    logits : bool
        The model ends in logits (no softmax); its argmax is the prediction.
    measures : bool
        Measure each layer's kNN accuracy, hubness and trustworthiness (about 1.5–3x
        its ordering time); ``False`` skips them (``--no-measures``).
    keep_labels : bool
        Keep labels that look permuted against the model's classes (refused otherwise).
    class_groups : mapping or path-like, optional
        Beyond 20 classes: groups of classes, ``{group: [class, ...]}`` or a file of
        ``group: class, class, ...`` lines (or JSON); each group is colored in a family
        of one hue (default: groups of classes the model confuses). One input's x only.
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
        If the model, the data, the name, the mode or the port cannot be used
        (``UserDataError``, ``RunError``, ``PortInUse``); the message says what to fix,
        naming the keyword.
    """
    from fracdash.inputs import data as userdata
    from fracdash.progress import ProgressBars
    from fracdash.runs import analyze_run, check_run_name
    from fracdash.sources import as_source
    from fracdash.web import create_app

    store = store_argument(store, cache_dir, "cache_dir")
    with python_errors():
        jupyter = in_jupyter()
        mode = mode or ("inline" if jupyter else "server")
        if mode not in MODES:
            raise FracdashError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if mode != "server" and not jupyter:
            raise FracdashError(f"mode {mode!r} needs a Jupyter kernel; use mode='server' here")
        store = store if isinstance(store, Store) else Store(store or default_store_dir())
        source = as_source(model, example=x, output=output)  # a module is exported once
        name = check_run_name(store, name if name is not None else source.name, replace=replace)
        check_port(host, port)  # before minutes of work, not after
        if samples is not None:
            x, y = userdata.sample(x, y, samples, first=first, warn=_warn)
        data = userdata.prepare_data(source, x, y, class_names, _warn, scale=scale, mean=mean,
                                     std=std, logits=logits,
                                     class_groups=class_groups)  # fmt: skip
        bars = ProgressBars()
        try:
            analysis = analyze_run(
                store, data.model, data.x, data.y, data.class_names, name=name,
                replace=replace, metric=metric, progress=bars,
                meta={"note": "shown from Python", **data.meta()},
                about={"model": source.name, "data": _data_source(x), **data.about()},
                keep_labels=keep_labels, measures=measures,
            )  # fmt: skip
        finally:
            bars.close()  # a refusal's message starts on a line of its own
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
