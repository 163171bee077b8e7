"""The result of an analysis: one glyph per shown layer, plus the classifier's scores.

Plain data (numpy only), so the dashboard can load a stored analysis without
importing tensorflow. Serialised as one ``.npz`` of arrays plus a JSON header — no
pickle anywhere.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace

import numpy as np

from fracdash.core import (
    CURVES,
    REORDER_KINDS,
    class_image,
    code_image,
    grid_shape,
    positions_for,
    quality,
    relative_codes,
    remove_nodes,
)

#: The curve glyphs are drawn on unless a view asks for another (docs/method.md §5):
#: the zero-waste rectangle; "paper" is the paper's square Hilbert curve.
DEFAULT_CURVE = "compact"


@dataclass(frozen=True)
class LayerGlyph:
    """One layer's view of the test set.

    Attributes
    ----------
    name, kind : str
        Keras layer name and class name.
    inputs : tuple of str
        Names of the shown layers feeding this one.
    output_shape : tuple of int
        Per-sample output shape.
    order : ndarray of int64, shape (n,)
        Sample indices in VAT order.
    positions : ndarray of int64, shape (n, 2)
        ``(x, y)`` pixel of sample ``i`` (indexed by sample, not by rank).
    curve : {"compact", "paper"}
        The curve the samples are laid on.
    width, height : int
        The glyph's size in pixels (one pixel per sample slot).
    quality : float
        docs/method.md §6 quality under the analysis' coloring labels, on this grid.
    codes : ndarray of int64, shape (n,)
        Relative-coloring code of the k-th sample in order.
    knn_accuracy, hubness, trustworthiness : float or None
        The layer's measures (:mod:`fracdash.measuring`): leave-one-out kNN accuracy
        and hubness of its space, trustworthiness of its glyph on the compact curve;
        None when not measured (older runs, a metric without exact neighbours) and,
        for trustworthiness, on another curve.
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    order: np.ndarray
    positions: np.ndarray
    curve: str
    width: int
    height: int
    quality: float
    codes: np.ndarray
    knn_accuracy: float | None = None
    hubness: float | None = None
    trustworthiness: float | None = None


#: The measures a glyph may carry beside its quality (:mod:`fracdash.measuring`).
MEASURE_FIELDS = ("knn_accuracy", "hubness", "trustworthiness")


def pack_npz(arrays: dict, header: dict) -> bytes:
    """``arrays`` and a JSON ``header`` as one ``.npz`` (the header as uint8 bytes): how
    analyses and comparisons are stored, never pickled."""
    arrays = {**arrays, "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack_npz(data: bytes) -> tuple[dict, dict]:
    """``(header, arrays)`` of :func:`pack_npz`'s bytes (``allow_pickle=False``)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes().decode())
        return header, {name: z[name] for name in z.files if name != "header"}


def _measures_of(g: LayerGlyph, curve: str) -> dict:
    """``g``'s measures, to carry onto its glyph laid on ``curve`` (the glyph's
    trustworthiness holds on its own curve only)."""
    kept = {f: getattr(g, f) for f in MEASURE_FIELDS}
    if curve != DEFAULT_CURVE:
        kept["trustworthiness"] = None
    return kept


def make_glyph(
    name, kind, inputs, output_shape, order, labels, curve: str = DEFAULT_CURVE
) -> LayerGlyph:
    """Place ``order`` on ``curve`` ("compact" or "paper") and color it with ``labels``."""
    order = np.asarray(order, dtype=np.int64)
    by_rank = positions_for(order.size, curve)
    positions = np.empty_like(by_rank)
    positions[order] = by_rank
    width, height = grid_shape(order.size, curve)
    return LayerGlyph(
        name=name,
        kind=kind,
        inputs=tuple(inputs),
        output_shape=tuple(int(s) for s in output_shape),
        order=order,
        positions=positions,
        curve=curve,
        width=width,
        height=height,
        quality=quality(positions, labels),
        codes=relative_codes(labels[order]),
    )


@dataclass
class Analysis:
    """Every shown layer's glyph, in topological order, and the classifier's scores.

    Attributes
    ----------
    layers : list of LayerGlyph
        Input layer(s) first (their glyph is the raw data's), output layer last. Each
        names its inputs: the graph is stored there once (:attr:`edges` derives from it).
    labels : ndarray of int64, shape (n,)
        Ground-truth classes.
    predictions : ndarray of int64, shape (n,)
        The model's predicted classes.
    class_names : list of str
        One name per class, k of them.
    color_by : {"truth", "predicted"}
        Which labels colored the glyphs and scored their quality.
    meta : dict
        Free-form JSON-able facts (scenario, metric, model note...).
    """

    layers: list[LayerGlyph]
    labels: np.ndarray
    predictions: np.ndarray
    class_names: list[str]
    color_by: str = "truth"
    meta: dict = field(default_factory=dict)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Data flow between shown layers, ``(source, target)``, in layer order."""
        return [(src, g.name) for g in self.layers for src in g.inputs]

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.labels == self.predictions))

    @property
    def confusion(self) -> np.ndarray:
        """k x k counts, rows = truth, columns = prediction."""
        k = len(self.class_names)
        out = np.zeros((k, k), dtype=np.int64)
        np.add.at(out, (self.labels, self.predictions), 1)
        return out

    @property
    def color_labels(self) -> np.ndarray:
        return self.labels if self.color_by == "truth" else self.predictions

    def layer(self, name: str) -> LayerGlyph:
        for glyph in self.layers:
            if glyph.name == name:
                return glyph
        raise KeyError(f"no layer named {name!r}; layers: {', '.join(self.layer_names)}")

    @property
    def layer_names(self) -> list[str]:
        return [g.name for g in self.layers]

    def simplified(self) -> Analysis:
        """The same analysis without reorder-only layers (Flatten, Reshape, Permute),
        their successors linked to their predecessors (docs/method.md §2)."""
        drop = [g.name for g in self.layers if g.kind in REORDER_KINDS]
        names, edges = remove_nodes(self.layer_names, self.edges, drop)
        preds = {name: tuple(s for s, t in edges if t == name) for name in names}
        layers = [replace(g, inputs=preds[g.name]) for g in self.layers if g.name in preds]
        return replace(self, layers=layers)

    def recolored(self, color_by: str) -> Analysis:
        """Same orders, glyphs colored by ``"truth"`` or ``"predicted"`` labels."""
        if color_by not in ("truth", "predicted"):
            raise ValueError(f"color_by must be 'truth' or 'predicted', not {color_by!r}")
        return self._relaid(color_by, self.curve)

    @property
    def curve(self) -> str:
        """The curve every glyph is laid on ("compact" or "paper")."""
        return self.layers[0].curve if self.layers else DEFAULT_CURVE

    def on_curve(self, curve: str) -> Analysis:
        """Same orders laid on ``curve`` ("compact" or "paper"); qualities are those of
        that grid (docs/method.md §6). Nothing is reordered."""
        if curve not in CURVES:
            raise ValueError(f"curve must be one of {', '.join(CURVES)}, not {curve!r}")
        return self if curve == self.curve else self._relaid(self.color_by, curve)

    def _relaid(self, color_by: str, curve: str) -> Analysis:
        labels = self.labels if color_by == "truth" else self.predictions
        layers = [
            replace(make_glyph(g.name, g.kind, g.inputs, g.output_shape, g.order, labels, curve),
                    **_measures_of(g, curve))
            for g in self.layers
        ]  # fmt: skip
        return replace(self, layers=layers, color_by=color_by)

    def class_image(self, name: str) -> np.ndarray:
        """(height, width) int32 image of class indices, -1 where empty."""
        g = self.layer(name)
        return class_image(g.positions, self.color_labels, (g.width, g.height))

    def code_image(self, name: str) -> np.ndarray:
        """(height, width) int32 image of relative codes 0/1/2, -1 where empty."""
        g = self.layer(name)
        return code_image(g.positions[g.order], g.codes, (g.width, g.height))

    # -- serialisation: npz of arrays + JSON header, never pickle --------------
    def to_bytes(self) -> bytes:
        arrays = {"labels": self.labels, "predictions": self.predictions}
        header_layers = []
        for i, g in enumerate(self.layers):
            arrays[f"order{i}"] = g.order
            header_layers.append(
                {
                    "name": g.name,
                    "kind": g.kind,
                    "inputs": list(g.inputs),
                    "output_shape": list(g.output_shape),
                    **{f: getattr(g, f) for f in MEASURE_FIELDS if getattr(g, f) is not None},
                }
            )
        header = {
            "layers": header_layers,
            "class_names": list(self.class_names),
            "color_by": self.color_by,
            "meta": self.meta,
        }
        return pack_npz(arrays, header)

    @classmethod
    def from_bytes(cls, data: bytes) -> Analysis:
        header, z = unpack_npz(data)
        labels, predictions = z["labels"], z["predictions"]
        color = labels if header["color_by"] == "truth" else predictions
        layers = [
            replace(
                make_glyph(
                    h["name"], h["kind"], h["inputs"], h["output_shape"], z[f"order{i}"],
                    color,
                ),
                **{f: h.get(f) for f in MEASURE_FIELDS},
            )
            for i, h in enumerate(header["layers"])
        ]  # fmt: skip
        return cls(
            layers=layers,
            labels=labels,
            predictions=predictions,
            class_names=header["class_names"],
            color_by=header["color_by"],
            meta=header["meta"],
        )
