"""The documents say what the code does, and point at places that exist.

- No reference to the method's old spec file remains: the method is docs/method.md.
- Every ``method.md §n`` (or ``§n.m``) cited anywhere in the tree names a section (and
  numbered point) of docs/method.md, and every ``decisions.md, "Heading"`` a heading
  of docs/decisions.md.
- Every relative link of README.md and docs/*.md reaches a file and, with ``#anchor``,
  one of its headings.
- README.md and docs/*.md cite no issue numbers (readers cannot see the issues).
- The README's "Where things live" lists exactly the package's top-level modules and
  folders, and every file it names exists.
- The README's import floors are those tests/test_structure.py enforces.
- Every option the docs give a ``fracdash`` command or ``python app.py`` exists, and
  the README's synopses name every option each command has.
- docs/decisions.md opens with the rules in force, before its history.

The helpers are tested on made-up text first, so that each check is known to fail
when its documents are wrong.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
METHOD = ROOT / "docs" / "method.md"
DECISIONS = ROOT / "docs" / "decisions.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]

#: What the tree's text is made of; minified third-party bundles are not ours to cite.
SCANNED = ["README.md", "app.py", "Makefile", "Dockerfile", "pyproject.toml",
           "docs", "fracdash", "tests", "bench", "tools"]  # fmt: skip
SUFFIXES = {".py", ".md", ".js", ".mjs", ".css", ".toml", ".txt", ".yaml", ".yml", ".sh", ""}
SKIPPED_DIRS = {"__pycache__", "vendor", "results", ".pytest_cache"}

#: Split so that this file does not hold the phrase it looks for.
OLD_SPEC = "SPEC" + " §"
METHOD_REF = re.compile(r"method(?:\.md)?\]?\s*§\s*(\d+)(?:\.(\d+))?")
DECISIONS_REF = re.compile(r"decisions\.md,\s*\"([^\"]+)\"")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
ISSUE = re.compile(r"\bissues?\s*#?\s*\d+|(?<![\w&/(])#\d{1,4}\b", re.IGNORECASE)
FRACDASH, APP = "fracdash", r"python3?\s+app\.py"
FENCE = re.compile(r"^```.*?^```[^\n]*$", re.MULTILINE | re.DOTALL)


def text_files() -> list[Path]:
    found = []
    for name in SCANNED:
        path = ROOT / name
        paths = [path] if path.is_file() else sorted(path.rglob("*"))
        for p in paths:
            if p.is_file() and p.suffix in SUFFIXES and not SKIPPED_DIRS & set(p.parts):
                found.append(p)
    return found


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def without_code_blocks(markdown: str) -> str:
    """The text with its fenced blocks blanked (line numbers kept)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(markdown: str, level: str = "#+") -> list[str]:
    return re.findall(rf"^{level}\s+(.+?)\s*$", without_code_blocks(markdown), re.MULTILINE)


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    for h in headings(markdown):
        s = slug(h)
        seen[s] = seen.get(s, -1) + 1
        if seen[s]:
            s = f"{s}-{seen[s]}"
        seen.setdefault(s, 0)
    return set(seen)


def method_sections(markdown: str) -> dict[int, set[int]]:
    """Section number -> the numbers of its top-level numbered points."""
    sections: dict[int, set[int]] = {}
    current = None
    for line in without_code_blocks(markdown).splitlines():
        m = re.match(r"^##\s+(\d+)\.\s", line)
        if m:
            current = int(m.group(1))
            sections[current] = set()
        elif line.startswith("#"):
            current = None
        elif current is not None and (m := re.match(r"^(\d+)\.\s", line)):
            sections[current].add(int(m.group(1)))
    return sections


def bad_method_refs(text: str, sections: dict[int, set[int]]) -> list[str]:
    bad = []
    for m in METHOD_REF.finditer(text):
        n, point = int(m.group(1)), m.group(2)
        if n not in sections or (point is not None and int(point) not in sections[n]):
            bad.append(m.group(0))
    return bad


def where_things_live(readme: str) -> dict[str, list[str]]:
    """The README's tree: {entry: its lines}; entries are ``fracdash/<name>`` (two
    spaces in, under ``fracdash/``) and the repository's folders (no indent)."""
    section = readme.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```\n(.*?)^```", section, re.MULTILINE | re.DOTALL).group(1)
    entries: dict[str, list[str]] = {}
    inside, current = False, None
    for line in block.splitlines():
        top = re.match(r"^(\S+)", line)
        sub = re.match(r"^  (\S+)", line)
        if top:
            inside = top.group(1) == "fracdash/"
            current = None if inside else top.group(1)
        elif inside and sub:
            current = "fracdash/" + sub.group(1)
        if current:
            entries.setdefault(current, []).append(line)
    return entries


def package_entries() -> set[str]:
    package = ROOT / "fracdash"
    found = set()
    for p in package.iterdir():
        if p.is_file() and p.suffix == ".py":
            found.add(f"fracdash/{p.name}")
        elif p.is_dir() and p.name not in SKIPPED_DIRS and any(p.glob("*.py")):
            found.add(f"fracdash/{p.name}/")
    return found


def named_files(lines: list[str]) -> set[str]:
    return set(re.findall(r"[\w./-]+\.(?:py|js|mjs|css|md|png)\b", " ".join(lines)))


def invocations(markdown: str, program: str) -> list[tuple[str, list[str]]]:
    """(sub-command or '', its --options) of every call of ``program`` (a regex) in
    the document's code blocks, continuation lines included, and inline code spans."""
    head = re.compile(
        rf"^\s*(?:\w+=\S+\s+)*(?:[\w~.$/-]*/)?{program}(?:\s+([a-z][\w-]*)|(?=\s|$))"
    )

    def comment_free(line: str) -> str:
        return re.sub(r"\s#\s.*$", "", line)

    calls = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL):
        lines = [comment_free(line) for line in block.splitlines()]
        for i, line in enumerate(lines):
            m = head.match(line)
            if not m:
                continue
            text = line
            for nxt in lines[i + 1 :]:
                if not (text.rstrip().endswith("\\") or re.match(r"^\s+[\[-]", nxt)):
                    break
                text += " " + nxt
            calls.append((m.group(1) or "", re.findall(r"--[a-z][\w-]*", text)))
    for span in re.findall(r"`([^`\n]+)`", without_code_blocks(markdown)):
        m = head.match(span)
        if m:
            calls.append((m.group(1) or "", re.findall(r"--[a-z][\w-]*", span)))
    return calls


def click_options() -> dict[str, list[set[str]]]:
    """Each command of ``fracdash`` (and '' for the group): one set of spellings per
    option."""
    from fracdash.cli import main

    def options(command):
        return [set(p.opts) | set(p.secondary_opts) for p in command.params
                if p.param_type_name == "option" and p.name != "help"]  # fmt: skip

    found = {name: options(cmd) for name, cmd in main.commands.items()}
    found[""] = options(main)
    return found


def app_options() -> list[set[str]]:
    """The ``--options`` of ``python app.py``, read from its argparse calls."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    return [
        {a.value for a in node.args if isinstance(a, ast.Constant)}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
    ]


# --- the checks can fail -----------------------------------------------------------


def test_the_helpers_find_what_is_wrong():
    sections = method_sections("## 1. A\n1. one\n2. two\n```\n## 9. not a heading\n```\n")
    assert sections == {1: {1, 2}}
    assert bad_method_refs("method.md §1, docs/method.md §1.2, [method §1](x)", sections) == []
    assert bad_method_refs("docs/method.md §3 and method.md §1.7", sections) == [
        "method.md §3", "method.md §1.7"]  # fmt: skip
    assert slug("6. Coloring and quality") == "6-coloring-and-quality"
    assert slug("Past one machine: dask — per layer") == "past-one-machine-dask--per-layer"
    assert anchors("# A\n## A\n") == {"a", "a-1"}
    assert ISSUE.search("## Export (issue 13)") and ISSUE.search("fixed in #12")
    assert not ISSUE.search("a gray (`#555555`), [x](#5-placement), &#12;")
    tree = "## Where things live\n\n```\nfracdash/\n  core/   vat.py\n          x.py\n" \
           "  cli.py  the command line\ntools/  ports.py\n```\n"
    assert where_things_live(tree) == {
        "fracdash/core/": ["  core/   vat.py", "          x.py"],
        "fracdash/cli.py": ["  cli.py  the command line"],
        "tools/": ["tools/  ports.py"],
    }
    doc = "```\nfracdash precompute S [--samples N]\n             [--store DIR]  # c --x\n" \
          "fracdash runs\n```\nthen `fracdash export RUN --png F` and `--split`\n"
    assert invocations(doc, FRACDASH) == [
        ("precompute", ["--samples", "--store"]), ("runs", []), ("export", ["--png"])]
    assert invocations("```\npython app.py [--port P]\n```\n", APP) == [("", ["--port"])]
    assert OLD_SPEC not in Path(__file__).read_text(encoding="utf-8")


# --- the documents -----------------------------------------------------------------


def test_no_reference_to_the_old_spec_file():
    files = text_files()
    assert len(files) > 100 and Path(__file__) in files
    found = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in files
        for i, line in enumerate(read(p).splitlines(), 1)
        if OLD_SPEC in line
    ]
    assert found == [], "cite docs/method.md §n instead"


def test_every_method_section_cited_exists():
    sections = method_sections(METHOD.read_text(encoding="utf-8"))
    assert set(sections) == set(range(1, 10))
    bad, cited = [], 0
    for p in set(text_files()) - {Path(__file__)}:  # this file's examples are made up
        text = read(p)
        cited += len(METHOD_REF.findall(text))
        bad += [f"{p.relative_to(ROOT)}: {ref}" for ref in bad_method_refs(text, sections)]
    assert cited > 20
    assert bad == []


def test_every_decisions_heading_cited_exists():
    titles = set(headings(DECISIONS.read_text(encoding="utf-8"), "##"))
    bad = [
        f"{p.relative_to(ROOT)}: {title!r}"
        for p in set(text_files()) - {Path(__file__)}
        for title in DECISIONS_REF.findall(" ".join(read(p).split()))
        if title not in titles
    ]
    assert bad == []


def test_relative_links_in_the_docs_resolve():
    checked, bad = 0, []
    for doc in DOCS:
        for target in LINK.findall(without_code_blocks(doc.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            checked += 1
            if not file.exists():
                bad.append(f"{doc.name}: {target} (no such file)")
            elif anchor and anchor not in anchors(file.read_text(encoding="utf-8")):
                bad.append(f"{doc.name}: {target} (no such heading)")
    assert checked > 10
    assert bad == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_docs_cite_no_issue_numbers(doc):
    lines = doc.read_text(encoding="utf-8").splitlines()
    assert [f"{i}: {line}" for i, line in enumerate(lines, 1) if ISSUE.search(line)] == []


def test_decisions_open_with_the_rules_in_force():
    assert headings(DECISIONS.read_text(encoding="utf-8"), "##")[0] == "Rules in force"


def test_where_things_live_matches_the_tree():
    entries = where_things_live(README.read_text(encoding="utf-8"))
    listed = {e for e in entries if e.startswith("fracdash/")}
    assert listed == package_entries()
    missing = []
    for entry, lines in entries.items():
        folder = ROOT / entry
        assert folder.exists(), f"the README lists {entry}, which does not exist"
        if folder.is_dir():
            tree = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
            names = {p.name for p in folder.rglob("*")}
            missing += [f"{entry}: {n}" for n in named_files(lines)
                        if n not in tree and n not in names]  # fmt: skip
    assert missing == []


def test_command_options_in_the_docs_exist():
    commands, bad = click_options(), []
    for doc in DOCS:
        for command, opts in invocations(doc.read_text(encoding="utf-8"), FRACDASH):
            if command not in commands:
                bad.append(f"{doc.name}: fracdash {command}: no such command")
                continue
            known = set().union({"--help"}, *commands[command])
            bad += [f"{doc.name}: fracdash {command} {o}" for o in opts if o not in known]
        app = set().union(*app_options())
        for _, opts in invocations(doc.read_text(encoding="utf-8"), APP):
            bad += [f"{doc.name}: python app.py {o}" for o in opts if o not in app]
    assert bad == []


def test_the_readme_synopses_name_every_option():
    readme = README.read_text(encoding="utf-8")
    given: dict[str, set[str]] = {}
    for command, opts in invocations(readme, FRACDASH):
        given.setdefault(command, set()).update(opts)
    missing = [
        f"fracdash {command} {sorted(spellings)[0]}"
        for command, options in click_options().items()
        for spellings in options
        if not spellings & given.get(command, set())
    ]
    app = set().union(*(opts for _, opts in invocations(readme, APP)))
    missing += [f"python app.py {sorted(s)[0]}" for s in app_options() if not s & app]
    assert missing == []


def test_the_readme_floors_are_the_structure_tests():
    from test_structure import FLOORS

    text = " ".join(README.read_text(encoding="utf-8").split())
    chain = text.split("Imports point one way", 1)[1].split(". ", 1)[0].split(":", 1)[1]
    floors = [set(re.findall(r"`(\w+)`", part)) for part in chain.split("<-")]
    assert floors == [{p.removeprefix("fracdash.") for p in prefixes} for _, prefixes in FLOORS]
