"""The scratch disk a run will need, checked before its forward pass.

The activations spilled to files and a distance matrix of 4·n² bytes for a layer
ordered out of core are both known from the layers' shapes, so a run too large for the
free space of ``$FRACDASH_TMPDIR`` fails at once, not after its forward pass.
"""

from __future__ import annotations

import numpy as np

from fracdash.core import direct, outofcore
from fracdash.core.scratch import free_bytes, scratch_bytes, scratch_root
from fracdash.errors import ScratchSpaceError


def check_scratch_space(net, wanted, ordered, n: int, local: bool = True) -> int:
    """Refuse a run whose scratch files would not fit on the scratch disk, before its
    forward pass; return the bytes it needs.

    Parameters
    ----------
    net : fracdash.core.nodes.Network
        The model's graph (the layers' output shapes).
    wanted : list of str
        The layers the forward pass keeps (those spilled past the activations' memory
        budget go to files: :func:`fracdash.models.activations.spilled_widths`).
    ordered : list of str
        The layers to order; with ``local``, in this process (a distance matrix past
        the matrix budget goes to a file: :mod:`fracdash.core.outofcore`).
    n : int
        Samples.
    local : bool
        Whether this process orders the layers (a Dask cluster's workers keep their
        distance matrices on their own disks).

    Raises
    ------
    fracdash.errors.ScratchSpaceError
        If :func:`fracdash.core.scratch.scratch_bytes` exceeds the free space of
        :func:`fracdash.core.scratch.scratch_root`.
    """
    from fracdash.models.activations import spilled_widths

    width = {node.name: int(np.prod(node.output_shape, dtype=np.int64)) for node in net.nodes}
    spilled = spilled_widths(net, wanted, n)
    widths = [width[name] for name in ordered] if local else []
    need = scratch_bytes(n, spilled, widths, outofcore.matrix_budget(), direct.WIDEST)
    if need:
        root = scratch_root()
        free = free_bytes(root)
        if need > free:
            raise ScratchSpaceError(
                f"{n:,} samples need {_size(need)} of scratch disk in {root} ({_size(free)} "
                "free); set FRACDASH_TMPDIR to a larger disk, or pass fewer samples (--samples)"
            )
    return need


def _size(n_bytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"
