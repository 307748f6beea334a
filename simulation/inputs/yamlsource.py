"""Safe YAML loading that remembers where every key came from (file and line).

Error messages must name the file and line of a bad value, also after ``extends`` has merged
several files, so each loaded document carries a map from key path to (file, line), and the
deep merge carries it along. Only the safe loader is ever used (libyaml's CSafeLoader where
installed: same rules, several times faster on the long fitted-parameter files).
"""

from __future__ import annotations

import copy
import hashlib
import os
import stat
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_YAML_BYTES = 5_000_000  # scenario/sweep/calibration files: a few kB (fitted.yaml ~100 kB)
MAX_NODES = 100_000  # values in a document once its aliases are expanded
MAX_DEPTH = 50  # nesting levels (scenario files need 4)
MAX_PROBLEMS = 50  # problems listed; the rest are counted in one last line
MAX_SHOWN = 60  # characters of a value quoted in a message


def safe_load(text: str) -> Any:
    """yaml.safe_load with the C loader where available."""
    return yaml.load(text, Loader=SAFE_LOADER)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    line: int | None
    key: str  # dotted key path, "" for the whole file
    message: str  # what is wrong, with the value given and what is allowed

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = cut(self.key, 80)
        return f"{where}: {key + ': ' if key else ''}{self.message}"


class InputError(Exception):
    """Bad user input: one or more problems, each naming file, line, key and what's allowed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.total = len(problems)  # before the cut below
        if len(problems) > MAX_PROBLEMS + 1:
            rest = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS],
                        Problem(problems[MAX_PROBLEMS].file, None, "",
                                f"... and {rest} more problem(s) not listed (only the first "
                                f"{MAX_PROBLEMS} are shown; fix these and validate again)")]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Sourced:
    """A YAML document's data with the (file, line) of every key path."""

    data: Any
    lines: dict[KeyPath, tuple[str, int]] = field(default_factory=dict)
    file: str = ""

    def where(self, path: KeyPath) -> tuple[str, int | None]:
        """File and line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            hit = self.lines.get(tuple(path[:cut]))
            if hit:
                return hit
        return self.file, None


def dotted(path: KeyPath) -> str:
    """Key path as 'a.b[2].c'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters (with '...'), so no message echoes a whole file."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as written in a message: repr, cut to ``limit`` characters."""
    if isinstance(value, dict | list) and len(value) > 5:
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind} of {len(value)} entries"
    return cut(repr(value), limit)


def read_text(path: str | Path, *, limit: int, kind: str) -> str:
    """The text of a regular file of at most ``limit`` bytes, as UTF-8; otherwise an
    :class:`InputError` naming the file. Never blocks on FIFOs or devices (they are refused
    before opening) and never reads more than ``limit`` + 1 bytes."""
    name = str(path)
    message = file_problem(path, limit=limit, kind=kind)
    if message is None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(limit + 1)
        except OSError as err:
            message = f"cannot be read ({err.strerror or err})"
        else:
            if len(raw) > limit:
                message = f"larger than {limit:,} bytes; a {kind} is much smaller"
            elif b"\0" in raw:
                message = f"a binary file, not a {kind} (it contains NUL bytes)"
            else:
                try:
                    return raw.decode("utf-8-sig")
                except UnicodeDecodeError as err:
                    message = (f"not UTF-8 text ({err.reason} at byte {err.start}); "
                               f"a {kind} must be saved as UTF-8")
    raise InputError([Problem(name, None, "", message)])


def file_problem(path: str | Path, *, limit: int, kind: str) -> str | None:
    """Why ``path`` cannot be read as a ``kind`` (missing, not a regular file, too large),
    or None if it can be opened: checked with stat, without opening the file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except NotADirectoryError:
        return "file not found (a part of the path is not a folder)"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if stat.S_ISDIR(st.st_mode):
        return f"is a directory, not a {kind}"
    if not stat.S_ISREG(st.st_mode):
        what = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        return f"is {what}, not a regular file; allowed: a {kind}"
    if st.st_size > limit:
        return (f"file is {st.st_size:,} bytes; allowed: a {kind} of at most {limit:,} bytes")
    return None


def _expanded_size(root: yaml.Node, file: str) -> None:
    """Refuse documents whose aliases expand to more than MAX_NODES values (an "alias bomb"),
    that refer to themselves, or that nest deeper than MAX_DEPTH: checked on the node graph
    before anything walks the constructed data. Each node is sized once (memoised), so the
    check costs the size of the file, not of its expansion."""
    size: dict[int, int] = {}
    active: set[int] = set()
    aliased = False
    # iterative post-order walk: (node, depth, children pushed?)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, expanded = stack.pop()
        nid = id(node)
        if not expanded:
            if nid in size:
                aliased = True
                continue
            if nid in active:
                raise InputError([Problem(file, node.start_mark.line + 1, "",
                                          "an alias refers to the value that contains it "
                                          "(a recursive structure); not allowed")])
            if depth > MAX_DEPTH:
                raise InputError([Problem(file, node.start_mark.line + 1, "",
                                          f"nested more than {MAX_DEPTH} levels deep; "
                                          "not allowed")])
            if isinstance(node, yaml.ScalarNode):
                size[nid] = 1
                continue
            active.add(nid)
            stack.append((node, depth, True))
            children = ([c for pair in node.value for c in pair]
                        if isinstance(node, yaml.MappingNode) else list(node.value))
            stack.extend((c, depth + 1, False) for c in children)
        else:
            active.discard(nid)
            children = ([c for pair in node.value for c in pair]
                        if isinstance(node, yaml.MappingNode) else node.value)
            total = 1 + sum(size[id(c)] for c in children)
            size[nid] = total
            if total > MAX_NODES and aliased:
                raise InputError([Problem(
                    file, node.start_mark.line + 1, "",
                    f"anchors and aliases (&name, *name) expand this document to more than "
                    f"{MAX_NODES:,} values (an 'alias bomb'?); allowed: at most "
                    f"{MAX_NODES:,}; write the values out or use fewer aliases")])


def _key_of(node: yaml.Node) -> str | int:
    """A mapping key as the constructed data has it (so 2025: ... is found as 2025)."""
    if not isinstance(node, yaml.ScalarNode):
        return str(node.value)[:MAX_SHOWN]
    if node.tag.endswith(":int"):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
    return node.value


def _walk(root: yaml.Node, file: str, lines: dict, problems: list[Problem]) -> None:
    """Record the line of every key path, and flag keys given twice (iterative: the depth
    and size are bounded by :func:`_expanded_size`)."""
    stack: list[tuple[yaml.Node, KeyPath, int | None]] = [(root, (), None)]
    while stack:
        node, path, key_line = stack.pop()
        lines[path] = (file, key_line or node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = _key_of(key_node)
                line = key_node.start_mark.line + 1
                if key in seen and key != "<<":
                    problems.append(Problem(file, line, dotted((*path, key)),
                                            f"key given twice (first on line {seen[key]})"))
                seen.setdefault(key, line)
                stack.append((value_node, (*path, key), line))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, (*path, i), None))


#: parsed documents by (file name, SHA-256 of the text): a scenario's chain and the fitted
#: file it reads are parsed once per process however often they are loaded (the fitted file,
#: 12,000 numbers, took 0.1 s a time); callers get a deep copy, so none changes another's
#: data
_PARSED: OrderedDict[tuple[str, bytes], Sourced] = OrderedDict()
_PARSED_MAX = 16


def load_yaml(path: str | Path) -> Sourced:
    """Read a YAML file safely, with line numbers; raise InputError naming the file.
    Refused: files that are not regular files or larger than MAX_YAML_BYTES, alias bombs
    and recursive aliases, nesting deeper than MAX_DEPTH."""
    name = str(path)
    text = read_text(path, limit=MAX_YAML_BYTES, kind="YAML file")
    key = (name, hashlib.sha256(text.encode("utf-8")).digest())
    hit = _PARSED.get(key)
    if hit is None:
        hit = _parse(name, text)
        _PARSED[key] = hit
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(key)
    return Sourced(data=copy.deepcopy(hit.data), lines=dict(hit.lines), file=hit.file)


def _parse(name: str, text: str) -> Sourced:
    """:func:`load_yaml`'s parse of one document's text."""
    try:
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _expanded_size(node, name)
            lines: dict[KeyPath, tuple[str, int]] = {}
            problems: list[Problem] = []
            if node is not None:
                _walk(node, name, lines, problems)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError([Problem(name, line, "", f"malformed YAML: {cut(str(what))}")]
                         ) from None
    except RecursionError:
        raise InputError([Problem(name, None, "", f"nested too deeply; allowed: at most "
                                  f"{MAX_DEPTH} levels")]) from None
    if problems:
        raise InputError(problems)
    return Sourced(data=data, lines=lines, file=name)


def deep_merge(base: Sourced, over: Sourced) -> Sourced:
    """``over``'s values over ``base``'s: mappings merge key by key, anything else replaces.
    Line numbers follow the values: a key keeps the line of the file its value came from.
    Linear in the number of key paths (each subtree is found through a parent index)."""
    if not isinstance(over.data, dict) or not isinstance(base.data, dict):
        return Sourced(over.data, dict(over.lines), over.file)
    lines = dict(base.lines)
    base_kids = _children(base.lines)
    over_kids = _children(over.lines)

    def subtree(kids: dict[KeyPath, list[KeyPath]], p: KeyPath) -> list[KeyPath]:
        out, todo = [], [p]
        while todo:
            q = todo.pop()
            out.append(q)
            todo.extend(kids.get(q, ()))
        return out

    def replace_subtree(p: KeyPath) -> None:
        for q in subtree(base_kids, p):
            lines.pop(q, None)
        for q in subtree(over_kids, p):
            if q in over.lines:
                lines[q] = over.lines[q]

    def merge(b: dict, o: dict, path: KeyPath) -> dict:
        out = dict(b)
        for k, v in o.items():
            p = (*path, k)
            if isinstance(b.get(k), dict) and isinstance(v, dict):
                out[k] = merge(b[k], v, p)
                if p in over.lines:
                    lines[p] = over.lines[p]
            else:
                out[k] = v
                replace_subtree(p)
        return out

    data = merge(base.data, over.data, ())
    lines[()] = over.lines.get((), (over.file, 1))
    return Sourced(data, lines, over.file)


def _children(lines: dict[KeyPath, Any]) -> dict[KeyPath, list[KeyPath]]:
    """Direct children of every key path (missing ancestors filled in)."""
    kids: dict[KeyPath, list[KeyPath]] = {}
    known: set[KeyPath] = {()}
    for q in lines:
        while q and q not in known:
            known.add(q)
            kids.setdefault(q[:-1], []).append(q)
            q = q[:-1]
    return kids
