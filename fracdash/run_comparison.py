"""The result of comparing two runs on the same samples (plain data).

Made by :func:`fracdash.compare.compare_runs`; stored in the store as one ``.npz`` of
arrays plus a JSON header (no pickle), like :class:`~fracdash.analysis.Analysis`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from fracdash.analysis import pack_npz, unpack_npz

#: "Changed most" selects at least this many samples (1% of them past 1,000).
MOVED_LEAST = 10


def moved_samples(mean_agreement: np.ndarray) -> np.ndarray:
    """The "changed most" selection: the ``max(10, ceil(n / 100))`` samples (at most n)
    of the lowest mean curve agreement, ties to the lower index; sorted.

    Parameters
    ----------
    mean_agreement : ndarray of float, shape (n,)
        Each sample's mean curve agreement (:attr:`Comparison.agreement`, as float32
        where it must match what the browser reads).

    Returns
    -------
    ndarray of int64, shape (m,)
    """
    n = int(mean_agreement.size)
    m = min(n, max(MOVED_LEAST, math.ceil(n / 100)))
    return np.sort(np.argsort(mean_agreement, kind="stable")[:m])

#: Each sample's correctness class (:attr:`Comparison.correctness`), by code 0..3.
CORRECTNESS = ("both right", "only A right", "only B right", "both wrong")
#: The measures that need the layers' activations (the model and data found again);
#: the curve agreement and the qualities need the stored orders only.
NEED_ACTIVATIONS = ("knn", "tree_edges", "cka")


@dataclass(frozen=True)
class PairMeasures:
    """One matched pair of layers: layer ``a`` of run A, layer ``b`` of run B.

    Attributes
    ----------
    quality_a, quality_b : float
        The two glyphs' qualities (docs/method.md §6).
    curve : float
        Mean curve agreement of the two glyphs (:func:`fracdash.core.agreement.curve_agreement`).
    knn : float or None
        Mean kNN overlap of the two spaces (:func:`~fracdash.core.agreement.knn_overlap`),
        each in its run's metric; None without the activations.
    tree_edges : float or None
        Share of Prim-tree edges both orders have
        (:func:`~fracdash.core.agreement.tree_edge_share`); None without the activations.
    cka : float or None
        Linear CKA of the two layers (:mod:`fracdash.core.cka`); None without the
        activations, NaN for a constant layer.
    """

    a: str
    b: str
    quality_a: float
    quality_b: float
    curve: float
    knn: float | None = None
    tree_edges: float | None = None
    cka: float | None = None

    @property
    def difference(self) -> float:
        """``quality_b - quality_a``."""
        return self.quality_b - self.quality_a


def _json_number(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


@dataclass
class Comparison:
    """Two runs on the same samples, layer pair by layer pair and sample by sample.

    Attributes
    ----------
    run_a, run_b : str
        The runs' names.
    pairing : {"name", "depth", "given"}
        How the layers were matched (:func:`fracdash.layer_pairs.pair_layers`).
    pairs : list of PairMeasures
        The matched layers, in run A's layer order, with their measures.
    layers_a, layers_b : list of str
        Every layer of each run (the CKA matrix's rows and columns).
    labels, predictions_a, predictions_b : ndarray of int64, shape (n,)
        True classes and each run's predictions.
    curve_samples : ndarray of float64, shape (len(pairs), n)
        Each sample's curve agreement, per pair.
    knn_samples : ndarray of float64, shape (len(pairs), n), or None
        Each sample's kNN overlap, per pair; None without the activations.
    cka : ndarray of float64, shape (len(layers_a), len(layers_b)), or None
        Linear CKA of every layer of run A with every layer of run B.
    k : int
        Neighbours per sample of the kNN overlap.
    notes : list of str
        What was left out and why (measures that need the activations).
    meta : dict
        ``key`` (where it is stored) and the runs' keys.
    """

    run_a: str
    run_b: str
    pairing: str
    pairs: list[PairMeasures]
    layers_a: list[str]
    layers_b: list[str]
    labels: np.ndarray
    predictions_a: np.ndarray
    predictions_b: np.ndarray
    curve_samples: np.ndarray
    knn_samples: np.ndarray | None = None
    cka: np.ndarray | None = None
    k: int = 10
    notes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @property
    def correctness(self) -> np.ndarray:
        """(n,) int8: each sample's :data:`CORRECTNESS` code (0 both right, 1 only A
        right, 2 only B right, 3 both wrong)."""
        right_a = self.predictions_a == self.labels
        right_b = self.predictions_b == self.labels
        only = np.where(right_a, 1, np.where(right_b, 2, 3))
        return np.where(right_a & right_b, 0, only).astype(np.int8)

    @property
    def agreement(self) -> np.ndarray:
        """(n,) float64: each sample's mean curve agreement over the matched pairs (NaN
        without pairs); the lowest "changed most"."""
        curves = np.asarray(self.curve_samples, dtype=np.float64)
        if curves.ndim != 2 or curves.shape[0] == 0:
            return np.full(self.n, np.nan)
        return curves.mean(axis=0)

    @property
    def moved(self) -> np.ndarray:
        """The "changed most" samples: :func:`moved_samples` of the mean curve agreement
        as the page reads it (float32)."""
        return moved_samples(self.agreement.astype(np.float32))

    @property
    def disagreements(self) -> np.ndarray:
        """(m,) int64: the samples the two runs classify differently."""
        return np.flatnonzero(self.predictions_a != self.predictions_b)

    @property
    def has_activations(self) -> bool:
        return self.knn_samples is not None

    def counts(self) -> dict[str, int]:
        """Samples per correctness class."""
        found = np.bincount(self.correctness, minlength=len(CORRECTNESS))
        return {name: int(c) for name, c in zip(CORRECTNESS, found, strict=True)}

    def to_dict(self) -> dict:
        """Everything but the per-sample arrays, JSON-able (NaN as null)."""
        acc = [float(np.mean(p == self.labels)) for p in (self.predictions_a, self.predictions_b)]
        pairs = []
        for p in self.pairs:
            row = {k: _json_number(v) for k, v in asdict(p).items()}
            row["difference"] = p.difference
            pairs.append(row)
        return {
            "run_a": self.run_a, "run_b": self.run_b, "n": self.n, "k": self.k,
            "pairing": self.pairing, "accuracy_a": acc[0], "accuracy_b": acc[1],
            "correctness": self.counts(),
            "disagreements": self.disagreements.tolist(),
            "pairs": pairs,
            "cka_diagonal": [_json_number(p.cka) for p in self.pairs],
            "layers_a": self.layers_a, "layers_b": self.layers_b,
            "cka": None if self.cka is None
            else [[_json_number(float(v)) for v in row] for row in self.cka],
            "notes": self.notes,
        }  # fmt: skip

    # -- serialisation: npz of arrays + JSON header, never pickle --------------
    def to_bytes(self) -> bytes:
        arrays = {
            "labels": self.labels, "predictions_a": self.predictions_a,
            "predictions_b": self.predictions_b, "curve_samples": self.curve_samples,
        }  # fmt: skip
        if self.knn_samples is not None:
            arrays["knn_samples"] = self.knn_samples
        if self.cka is not None:
            arrays["cka"] = self.cka
        header = {
            "run_a": self.run_a, "run_b": self.run_b, "pairing": self.pairing,
            "pairs": [asdict(p) for p in self.pairs], "layers_a": self.layers_a,
            "layers_b": self.layers_b, "k": self.k, "notes": self.notes, "meta": self.meta,
        }  # fmt: skip
        return pack_npz(arrays, header)

    @classmethod
    def from_bytes(cls, data: bytes) -> Comparison:
        header, arrays = unpack_npz(data)
        return cls(
            run_a=header["run_a"], run_b=header["run_b"], pairing=header["pairing"],
            pairs=[PairMeasures(**p) for p in header["pairs"]], layers_a=header["layers_a"],
            layers_b=header["layers_b"], labels=arrays["labels"],
            predictions_a=arrays["predictions_a"], predictions_b=arrays["predictions_b"],
            curve_samples=arrays["curve_samples"], knn_samples=arrays.get("knn_samples"),
            cka=arrays.get("cka"), k=header["k"], notes=header["notes"], meta=header["meta"],
        )  # fmt: skip
