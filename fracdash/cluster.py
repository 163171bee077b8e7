"""Where each layer's VAT ordering runs: in this process, or on a Dask cluster.

An *orderer* takes the layers still to order and yields ``(name, order)`` as each one
finishes; the pipeline (:mod:`fracdash.pipeline`) stores every order as it arrives,
under that layer's lock, so a rerun, a resume and the dashboard do not care where an
order was computed.

- :class:`LocalOrderer`: one layer after another in this process, reusing one (n, n)
  buffer (the default).
- :class:`DaskOrderer`: every layer as one task of an existing ``dask.distributed``
  cluster (:meth:`DaskOrderer.connect`) or of a ``LocalCluster`` of worker processes
  on this machine (:meth:`DaskOrderer.local`). The forward pass stays in this process.

How activations reach the workers (docs/scale-out.md):

- a layer of at most :data:`INLINE_BYTES` travels inside its task, through the
  scheduler (which keeps it, so a lost worker's task is simply run again);
- a larger one is written as a ``.npy`` file into a scratch folder of a directory that
  this process and every worker see (``shared_dir``: on the command line the store's
  folder by default, or ``--shared-dir``), read by the worker memory-mapped with
  ``allow_pickle=False`` and removed once its order is back. A worker that cannot
  see the file is a one-line :class:`~fracdash.errors.ClusterError`.

``dask`` is imported only by :class:`DaskOrderer` (the ``fracdash[cluster]`` extra);
:mod:`fracdash.core` never imports it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fracdash.core import vat_order
from fracdash.core.metrics import MetricRefused, check_layer, check_route
from fracdash.core.outofcore import matrix_budget
from fracdash.core.scratch import ScratchDir, scratch_root
from fracdash.core.vat import NonFiniteValues
from fracdash.errors import ActivationError, ClusterError, UserDataError

#: Layers up to this size (float32 bytes) travel inside their task, through the
#: scheduler; dask warns about a graph over 10 MB (distributed.admin.large-graph-...).
INLINE_BYTES = 4 * 2**20
#: Scratch folders: ``fracdash-cluster-<host>-<pid>-<start>-<random>`` in the shared dir.
INSTALL_HINT = "pip install 'fracdash[cluster]'"

#: progress(done, total, detail), in units of work (see :data:`fracdash.pipeline.LAYER_WORK`).
OrderProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class LayerJob:
    """One layer to order: its name and its work (features + a constant per layer)."""

    name: str
    work: int


def layer_order(name: str, x, metric: str, workspace=None, progress=None) -> np.ndarray:
    """VAT order of one layer's activations ``x`` (n, d), NaN/inf and a metric's
    refusal as user errors; ``progress(done, total)`` within the layer, if given."""
    try:
        return vat_order(x, metric, workspace=workspace, progress=progress)
    except NonFiniteValues as err:
        raise _nonfinite(name) from err
    except MetricRefused as err:
        raise _refused(name, err) from None


def check_layers(nodes, names, metric: str, n: int) -> None:
    """Refuse, before any forward pass, a metric that cannot order one of the layers
    ``names`` (of the :class:`~fracdash.core.nodes.LayerNode` list ``nodes``): a
    non-ReLU layer under ``relu-hamming``, a matrix that the metric must hold in memory
    past this process's matrix budget (:func:`fracdash.core.metrics.check_route`).

    Raises
    ------
    fracdash.errors.UserDataError
        One line naming the layer and the fix.
    """
    wanted, budget = set(names), matrix_budget()
    for node in nodes:
        if node.name in wanted:
            try:
                check_layer(metric, node.name, node.kind, node.relu)
                d = int(np.prod(node.output_shape, dtype=np.int64))
                check_route(metric, n, d, budget, node.name)
            except MetricRefused as err:
                raise UserDataError(str(err)) from None


def _refused(name: str, err: MetricRefused) -> UserDataError:
    message = str(err)
    return UserDataError(message if repr(name) in message else f"layer {name!r}: {message}")


def _nonfinite(name: str) -> ActivationError:
    return ActivationError(
        f"layer {name!r} outputs NaN or inf; check the model's weights and the input "
        "scaling (--scale)"
    )


class LocalOrderer:
    """Every layer in this process, one after another, in one reused (n, n) buffer."""

    def orders(
        self, jobs: Sequence[LayerJob], acts, metric: str, progress: OrderProgress | None = None
    ) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, order)`` for each job, in the jobs' order; each layer's
        activations ``acts[name]`` are released once it is ordered."""
        total, done, workspace = sum(j.work for j in jobs), 0, None
        for job in jobs:
            if progress:
                progress(done, total, job.name)
            x = acts[job.name]
            n = x.shape[0]
            # One (n, n) buffer for every layer, allocated and page-faulted once, unless
            # the matrix goes to disk (past the budget: fracdash.core.outofcore).
            if workspace is None and 4 * n * n <= matrix_budget():
                workspace = np.empty((n, n), dtype=np.float32)
            within = None
            if progress:  # the ETA moves inside a layer too (never backwards)
                seen = [0]

                def within(d, t, job=job, done=done, seen=seen):
                    seen[0] = max(seen[0], job.work * d // max(t, 1))
                    progress(done + seen[0], total, job.name)

            order = layer_order(job.name, x, metric, workspace, within)
            acts.release(job.name)
            yield job.name, order
            done += job.work
        if progress and jobs:
            progress(total, total, "")


_ORDERER: ContextVar[LocalOrderer | DaskOrderer | None] = ContextVar("orderer", default=None)


def current_orderer():
    """The orderer set by :func:`use_orderer` around this call, or None."""
    return _ORDERER.get()


@contextmanager
def use_orderer(orderer):
    """Make ``orderer`` the one :func:`fracdash.pipeline.analyze` uses inside the block
    (for callers that reach the pipeline through :mod:`fracdash.runs`)."""
    token = _ORDERER.set(orderer)
    try:
        yield orderer
    finally:
        _ORDERER.reset(token)


def cluster_orderer(scheduler=None, workers=None, shared_dir=None):
    """The orderer ``--scheduler ADDRESS`` or ``--workers N`` asks for; None for neither
    (this process)."""
    if scheduler is not None and workers is not None:
        raise ClusterError("--scheduler and --workers exclude each other; pass one of them")
    if scheduler is not None:
        return DaskOrderer.connect(scheduler, shared_dir=shared_dir)
    return DaskOrderer.local(workers, shared_dir=shared_dir) if workers else None


def order_task(source, metric: str) -> np.ndarray:
    """What a worker runs: the VAT order of a layer given inline or as a ``.npy`` path."""
    if isinstance(source, str):
        source = np.load(source, mmap_mode="r", allow_pickle=False)
    return vat_order(source, metric)


def _import_distributed():
    try:
        import distributed
    except ImportError as err:
        raise ClusterError(
            f"a Dask cluster needs dask.distributed, which is not installed; {INSTALL_HINT}"
        ) from err
    return distributed


def check_address(address: str, timeout: float = 5.0) -> str:
    """``address`` if a TCP connection to it opens now, else a one-line ClusterError.

    A refused or unresolvable address fails here at once instead of after dask's
    connect timeout (30 s by default). Schemes other than tcp/tls are passed through.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    fix = "start one (dask scheduler) or pass its address: --scheduler tcp://HOST:8786"
    try:
        scheme, location = parse_address(str(address))
        if scheme not in ("tcp", "tls"):
            return address
        host, port = parse_host_port(location, default_port=8786)
    except (ValueError, TypeError) as err:
        raise ClusterError(f"{address!r} is not a Dask scheduler address ({err}); {fix}") from None
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise ClusterError(f"no Dask scheduler answers at {address} ({why}); {fix}") from None
    return address


class DaskOrderer:
    """Each layer's ordering as one task on a ``dask.distributed`` cluster.

    Parameters
    ----------
    client : distributed.Client
    shared_dir : path-like, optional
        A directory this process and every worker see, for layers over
        :data:`INLINE_BYTES`; ``$FRACDASH_TMPDIR`` or the system's temporary directory by
        default (enough for a ``LocalCluster``; the command line passes the store's).
    cluster : distributed.LocalCluster, optional
        Closed with the orderer.
    """

    def __init__(self, client, shared_dir=None, cluster=None):
        self.client, self.cluster = client, cluster
        self.shared_dir = Path(shared_dir or scratch_root()).expanduser()
        self.address = client.scheduler.address if client.scheduler else "?"
        #: Layers up to this many bytes travel inside their task.
        self.inline_bytes = INLINE_BYTES

    @classmethod
    def connect(cls, address: str, shared_dir=None) -> DaskOrderer:
        """Connect to the scheduler at ``address`` (``tcp://HOST:8786``); a one-line
        :class:`ClusterError` if nothing answers there."""
        distributed = _import_distributed()
        check_address(address)
        try:
            client = distributed.Client(address, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ClusterError(
                f"{address} answers but no Dask scheduler connected ({type(err).__name__}); "
                "pass the scheduler's address (dask scheduler prints it)"
            ) from None
        return cls(client, shared_dir)

    @classmethod
    def local(cls, workers: int, shared_dir=None, threads: int | None = None) -> DaskOrderer:
        """Start a ``LocalCluster`` of ``workers`` processes (one task at a time each,
        ``threads`` BLAS threads each: this machine's cores shared out by default)."""
        distributed = _import_distributed()
        threads = threads or max(1, (os.cpu_count() or 1) // workers)
        env = {k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS")}  # fmt: skip
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address=":0", env=env, silence_logs=logging.ERROR,
        )  # fmt: skip
        return cls(distributed.Client(cluster, set_as_default=False), shared_dir, cluster)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def orders(
        self, jobs: Sequence[LayerJob], acts, metric: str, progress: OrderProgress | None = None
    ) -> Iterator[tuple[str, np.ndarray]]:
        """Send every job to the cluster (the largest first), releasing its activations
        once sent; yield ``(name, order)`` as each finishes."""
        from distributed import as_completed

        if not jobs:
            return
        total, done, finished = sum(j.work for j in jobs), 0, 0
        scratch = ScratchDir("cluster", self.shared_dir, host=_host())
        futures, files = {}, {}

        def lost(err):  # the client's connection is gone: futures cancelled, comm closed
            return self._lost(len(jobs) - finished, len(jobs))

        try:
            for i, job in enumerate(jobs):
                if progress:
                    progress(0, total, f"sending {job.name}")
                source = _layer_source(acts[job.name], scratch.path / f"{i}.npy", self.inline_bytes)
                acts.release(job.name)
                if isinstance(source, str):
                    files[job.name] = source
                try:
                    future = self.client.submit(
                        order_task, source, metric, priority=job.work, pure=False,
                        key=f"vat-order-{os.urandom(6).hex()}-{job.name}",
                    )  # fmt: skip
                except (OSError, CancelledError, TimeoutError) as err:
                    raise lost(err) from err
                futures[future] = job
            for future in as_completed(list(futures), loop=self.client.loop):
                job = futures[future]
                try:
                    order = self._result(future, job, files.get(job.name))
                except (OSError, CancelledError, TimeoutError) as err:
                    raise lost(err) from err
                if job.name in files:
                    Path(files.pop(job.name)).unlink(missing_ok=True)
                done, finished = done + job.work, finished + 1
                if progress:
                    progress(done, total, job.name)
                yield job.name, order
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()
            scratch.cleanup()

    def _result(self, future, job: LayerJob, path: str | None) -> np.ndarray:
        """The order a finished future holds; a task's error as the user's error."""
        if future.status == "lost":  # finished, but its worker died since: recomputed
            with suppress(Exception):
                future.result()  # waits for the recomputation (or a cancel)
        if future.status == "error":
            err = future.exception()
            if isinstance(err, NonFiniteValues):
                raise _nonfinite(job.name) from None
            if isinstance(err, MetricRefused):
                raise _refused(job.name, err) from None
            if isinstance(err, OSError):  # raised on the worker, reading the layer
                raise ClusterError(
                    f"a Dask worker cannot read {path} (layer {job.name!r}: "
                    f"{err.strerror or type(err).__name__}); pass --shared-dir DIR on a "
                    "filesystem that every worker mounts"
                ) from None
            if type(err).__name__ == "KilledWorker":
                raise ClusterError(
                    f"layer {job.name!r} killed Dask workers again and again (out of "
                    "memory?); give each worker more memory or use fewer samples"
                ) from None
            raise err
        if future.status != "finished":
            raise CancelledError(future.status)
        return np.asarray(future.result(), dtype=np.int64)

    def _lost(self, unfinished: int, total: int) -> ClusterError:
        return ClusterError(
            f"lost the Dask scheduler at {self.address} with {unfinished} of "
            f"{total} layers unfinished (the finished ones are stored); restart the "
            "cluster and run the same command again: stored layers are not recomputed"
        )


def _layer_source(x, path: Path, inline_bytes: int):
    """A layer as its task takes it: an in-memory copy when small, else a ``.npy``
    file written now (C order from an array, Fortran order streamed from a chunked
    matrix, whose column chunks are then contiguous in the file)."""
    n, d = x.shape
    if 4 * n * d <= inline_bytes:
        return np.array(x.to_array() if hasattr(x, "to_array") else x, dtype=np.float32)
    if not hasattr(x, "column_chunks"):
        np.save(path, np.asarray(x), allow_pickle=False)
        return str(path)
    with open(path, "wb") as f:
        header = {"descr": "<f4", "fortran_order": True, "shape": (n, d)}
        np.lib.format.write_array_header_1_0(f, header)
        for _, _, chunk in x.column_chunks():
            f.write(np.ascontiguousarray(chunk.T, dtype="<f4").data)
    return str(path)


def _host() -> str:
    """This machine's name as a scratch folder's host part: a shared folder's
    scratch of other hosts is never judged by this host's pids."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())
