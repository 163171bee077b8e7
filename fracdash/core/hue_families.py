"""Class colors in hue families, for runs of more classes than one palette tells apart.

Each group of classes is given its own arc of CIELCh hue; its classes are picked in that
arc, at different lightness and chroma, as far apart as the arc allows: the colors are
chosen one at a time, each the candidate farthest (CIEDE2000) from every color chosen
so far, taking the families in turn. Candidates are the sRGB colors of a fixed
(L, C, h) grid that stand apart from the glyph's empty black and its focus gray, so the
result depends only on the family sizes, and is the same on every machine.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: The sRGB -> XYZ (D65) matrix of IEC 61966-2-1 and the D65 white.
_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])
#: The least CIEDE2000 difference a candidate keeps from the colors to avoid (the
#: glyph's empty black and focus gray).
AVOID_DELTA_E = 15.0
#: Hue left free between two neighbouring families' arcs (degrees), at most.
GAP = 10.0
#: The candidate grid: lightness, chroma (CIELAB units) and hue (degrees) steps.
L_STEPS = np.arange(30.0, 96.0, 4.0)
C_STEPS = np.arange(20.0, 131.0, 8.0)
H_STEP = 2.5


def hex_rgb(colors) -> np.ndarray:
    """``(m, 3)`` floats in [0, 1] of ``#rrggbb`` strings."""
    return (
        np.array(
            [[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colors], dtype=float
        ).reshape(-1, 3)
        / 255
    )


def rgb_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB in [0, 1], shape ``(m, 3)``."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _TO_XYZ.T / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def lab_rgb(lab: np.ndarray) -> np.ndarray:
    """sRGB of CIELAB (D65), shape ``(m, 3)``; out of gamut where outside [0, 1]."""
    fy = (lab[:, 0] + 16) / 116
    f = np.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    xyz = np.where(f**3 > 216 / 24389, f**3, (116 * f - 16) * 27 / 24389) * _WHITE
    linear = xyz @ np.linalg.inv(_TO_XYZ).T
    return np.where(
        linear <= 0.0031308, 12.92 * linear, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055
    )


def delta_e(lab1, lab2) -> np.ndarray:
    """CIEDE2000 difference (Sharma, Wu & Dalal 2005), broadcasting ``(..., 3)`` arrays."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, float), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, float), -1, 0)
    c7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0**7)))
    c1, c2 = np.hypot((1 + g) * a1, b1), np.hypot((1 + g) * a2, b2)
    h1 = np.degrees(np.arctan2(b1, (1 + g) * a1)) % 360
    h2 = np.degrees(np.arctan2(b2, (1 + g) * a2)) % 360
    dh = (h2 - h1 + 180) % 360 - 180
    dh = np.where(c1 * c2 == 0, 0, dh)
    big_dh = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_bar, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    h_bar = np.where(np.abs(h1 - h2) > 180, (h1 + h2 + 360) / 2 % 360, (h1 + h2) / 2)
    h_bar = np.where(c1 * c2 == 0, h1 + h2, h_bar)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    r_c = 2 * np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7))
    r_t = -np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    dl, dc, dh_ = (l2 - l1) / s_l, (c2 - c1) / s_c, big_dh / s_h
    return np.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


@lru_cache(maxsize=2)
def _candidates(avoid: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(lab, hue, hex)`` of the grid's in-gamut colors that stand apart from ``avoid``."""
    lightness, chroma, hue = np.meshgrid(L_STEPS, C_STEPS, np.arange(0, 360, H_STEP))
    lch = np.stack([lightness.ravel(), chroma.ravel(), hue.ravel()], 1)
    rad = np.radians(lch[:, 2])
    rgb = lab_rgb(np.stack([lch[:, 0], lch[:, 1] * np.cos(rad), lch[:, 1] * np.sin(rad)], 1))
    inside = ((rgb >= 0) & (rgb <= 1)).all(1)
    byte = np.round(rgb[inside] * 255).astype(int)
    byte, first = np.unique(byte, axis=0, return_index=True)
    byte = byte[np.argsort(first)]  # the grid's order, not numpy's sort
    lab = rgb_lab(byte / 255)  # of the color shown, not of the grid point
    apart = np.ones(len(lab), dtype=bool)
    for other in rgb_lab(hex_rgb(avoid)):
        apart &= delta_e(lab, other) >= AVOID_DELTA_E
    hexes = ["#{:02x}{:02x}{:02x}".format(*b) for b in byte[apart]]
    lab = lab[apart]
    return lab, np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360, hexes


def family_arcs(sizes) -> list[tuple[float, float]]:
    """``(start, width)`` in degrees of each family's hue arc: the circle less a gap
    between neighbours, shared in proportion to the families' sizes."""
    sizes = np.asarray(sizes, dtype=float)
    gap = min(GAP, 120 / len(sizes)) if len(sizes) > 1 else 0.0
    widths = (360 - gap * len(sizes)) * sizes / sizes.sum()
    starts = np.concatenate([[0.0], np.cumsum(widths + gap)[:-1]])
    return [(float(s), float(w)) for s, w in zip(starts, widths, strict=True)]


@lru_cache(maxsize=32)
def family_colors(
    sizes: tuple[int, ...], avoid: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], ...]:
    """Hex colors for families of ``sizes`` classes, one tuple per family.

    Family ``i`` takes its colors from its own hue arc (:func:`family_arcs`); the colors
    are chosen in turns (one per family a round), each the candidate of its arc farthest
    in CIEDE2000 from every color chosen so far, the first of a family the most
    chromatic at its arc's middle. Deterministic: ties go to the grid's first.

    Parameters
    ----------
    sizes : tuple of int
        Classes per family, each at least 1.
    avoid : tuple of str
        Hex colors every class color keeps :data:`AVOID_DELTA_E` from.

    Returns
    -------
    tuple of tuple of str, one per family, ``sizes[i]`` colors each
    """
    lab, hue, hexes = _candidates(tuple(avoid))
    pools = []
    for start, width in family_arcs(sizes):
        offset = (hue - start) % 360
        pool = np.flatnonzero(offset < max(width, H_STEP))
        if len(pool) == 0:  # an arc narrower than the grid: its nearest hue
            pool = np.array([int(np.argmin(np.minimum(offset, 360 - offset)))])
        pools.append((pool, np.abs(offset[pool] - width / 2)))
    nearest = np.full(len(lab), np.inf)  # each candidate's least ΔE to the colors chosen
    chosen = np.zeros(len(lab), dtype=bool)
    out: list[list[str]] = [[] for _ in sizes]
    for _ in range(max(sizes)):
        for f, (pool, off_middle) in enumerate(pools):
            if len(out[f]) == sizes[f]:
                continue
            free, middle = pool[~chosen[pool]], off_middle[~chosen[pool]]
            if len(free) == 0:  # an arc narrower than its family: repeat rather than fail
                free, middle = pool, off_middle
            if not out[f]:  # the first: the most chromatic near the arc's middle
                near = free[middle <= middle.min() + 2 * H_STEP]
                pick = int(near[np.argmax(np.hypot(lab[near, 1], lab[near, 2]))])
            else:
                pick = int(free[np.argmax(nearest[free])])
            chosen[pick] = True
            nearest = np.minimum(nearest, delta_e(lab, lab[pick]))
            out[f].append(hexes[pick])
    return tuple(tuple(f) for f in out)
