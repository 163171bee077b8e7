"""The user's class groups (``--class-groups FILE``, ``class_groups=``): superclasses that
color a run of many classes in hue families, one family per group.

A file holds one group a line, ``group: class, class, ...`` (blank lines and lines
starting with ``#`` are skipped), or a JSON object mapping each group to its list of
classes. From Python, a mapping ``{group: [class, ...]}`` or such a file's path. A class
is named as in the class names, or by its index when no class bears that name. Classes
in no group make one more group, ``ungrouped`` (with a note). Every problem raises
:class:`UserDataError` with one line naming it and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from fracdash.errors import UserDataError
from fracdash.inputs.files import listed

#: Classes the absolute coloring gives one palette's distinct colors
#: (:data:`fracdash.glyphs.CLASS_COLORS`); beyond, hue families, one per group of classes.
DISTINCT_COLORS = 20
#: The most groups given: each takes a hue family, and more hues are not told apart.
MAX_GIVEN_GROUPS = 24
#: The group of the classes no given group lists.
UNGROUPED = "ungrouped"
FORMAT = "write 'group: class, class, ...' one group a line, or a JSON object of lists"


def parse_class_groups(text: str, where: str = "--class-groups") -> dict[str, list[str]]:
    """Groups from a file's text (module docstring), in the file's order.

    Raises
    ------
    UserDataError
        A line with no ``group:``, a JSON value that is not an object of lists, a group
        named twice.
    """
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserDataError(f"{where} is not valid JSON ({err.msg}, line {err.lineno}); "
                                f"{FORMAT}") from err  # fmt: skip
        return as_group_mapping(raw, where)
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        group, colon, classes = line.partition(":")
        if not colon or not group.strip():
            raise UserDataError(
                f"line {number} of {where} names no group ({line[:40]!r}); {FORMAT}"
            )
        _add(groups, group.strip(), [c.strip() for c in classes.split(",") if c.strip()], where)
    return groups


def _add(groups: dict, group: str, classes: list, where: str) -> None:
    if group in groups:
        raise UserDataError(f"group {group!r} appears twice in {where}; list each group once")
    groups[group] = classes


def as_group_mapping(raw, where: str = "class_groups=") -> dict[str, list[str]]:
    """A mapping ``{group: [class, ...]}`` (JSON or Python) as names to lists of strings."""
    if not isinstance(raw, Mapping) or not all(
        isinstance(v, list | tuple) and all(isinstance(c, str | int) for c in v)
        for v in raw.values()
    ):
        raise UserDataError(f"{where} must map each group to a list of classes; {FORMAT}")
    groups: dict[str, list[str]] = {}
    for group, classes in raw.items():
        _add(groups, str(group), [str(c) for c in classes], where)
    return groups


def load_class_groups(source) -> dict[str, list[str]]:
    """Groups from ``source``: a file's path (text lines or JSON) or a mapping.

    Raises
    ------
    UserDataError
        A file that cannot be read, or whose content is malformed (:func:`parse_class_groups`).
    """
    if isinstance(source, Mapping):
        return as_group_mapping(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserDataError(f"cannot read --class-groups {path} ({err}); give a UTF-8 text "
                            "or JSON file") from err  # fmt: skip
    return parse_class_groups(text, str(path))


def check_class_groups(groups: dict[str, list[str]], class_names, k: int, notes: list) -> dict:
    """Match each group's classes to the model's ``k`` classes.

    Parameters
    ----------
    groups : dict of str -> list of str
        As :func:`load_class_groups` gives them.
    class_names : list of str or None
        The class names (``"0".."k-1"`` when None).
    k : int
    notes : list of str
        Receives a note when some classes are in no group (they make :data:`UNGROUPED`).

    Returns
    -------
    dict
        ``{"names": [group, ...], "members": [[class index, ...], ...], "source":
        "given"}``, each member list sorted, the groups in the order given.

    Raises
    ------
    UserDataError
        A class that is not one of the model's, a class in two groups, an empty group,
        more than :data:`MAX_GIVEN_GROUPS` groups.
    """
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    index = {name: i for i, name in enumerate(names)}
    owner: dict[int, str] = {}
    members = []
    for group, classes in groups.items():
        if not classes:
            raise UserDataError(f"group {group!r} of --class-groups lists no class; "
                                "list its classes or leave it out")  # fmt: skip
        found = []
        for c in map(str, classes):
            i = index.get(c, int(c) if c.isdigit() and int(c) < k else None)
            if i is None:
                raise UserDataError(
                    f"{c!r} in group {group!r} of --class-groups is not a class; use the "
                    f"class names ({listed(names, 5)}) or indices 0..{k - 1}"
                )
            if i in owner:
                raise UserDataError(f"class {names[i]!r} is in groups {owner[i]!r} and "
                                    f"{group!r} of --class-groups; put it in one")  # fmt: skip
            owner[i] = group
            found.append(i)
        members.append(sorted(found))
    rest = [i for i in range(k) if i not in owner]
    group_names = list(groups)
    if rest:
        name = UNGROUPED if UNGROUPED not in groups else f"{UNGROUPED} ({len(rest)})"
        shown = listed([names[i] for i in rest], 5)
        notes.append(f"{len(rest)} classes are in no group of --class-groups ({shown}); "
                     f"they make group {name!r}")  # fmt: skip
        group_names.append(name)
        members.append(rest)
    if len(members) > MAX_GIVEN_GROUPS:
        raise UserDataError(f"--class-groups makes {len(members)} groups; merge them into at "
                            f"most {MAX_GIVEN_GROUPS} (one hue each)")  # fmt: skip
    return {"names": group_names, "members": members, "source": "given"}


def run_class_groups(given, class_names, k: int, notes: list[str]) -> dict | None:
    """The groups a run of ``k`` classes keeps: ``given`` (a path or mapping) checked
    against the classes (:func:`check_class_groups`); None up to :data:`DISTINCT_COLORS`
    classes, or when none are given (the run's groups are then found from its confusions,
    :func:`fracdash.glyphs.palette_meta`). Notes say which."""
    groups = None if given is None else load_class_groups(given)  # a bad file is refused
    if k <= DISTINCT_COLORS:
        if groups is not None:
            notes.append(
                f"{k} classes take {DISTINCT_COLORS} distinct colors; --class-groups colors "
                f"runs of more than {DISTINCT_COLORS} classes, unused here"
            )
        return None
    if groups is None:
        notes.append(
            f"{k} classes: colored in hue families, one per group of classes the model "
            "confuses; --class-groups FILE gives your own groups"
        )
        return None
    return check_class_groups(groups, class_names, k, notes)
