"""Safe YAML loading that remembers where every key came from (file and line).

Error messages must name the file and line of a bad value, also after ``extends`` has merged
several files, so each loaded document carries a map from key path to (file, line), and the
deep merge carries it along. Only the safe loader is ever used (libyaml's CSafeLoader where
installed: same rules, several times faster on the long fitted-parameter files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


class InputError(Exception):
    """Bad user input: one or more problems, each naming file, line, key and what's allowed."""

    def __init__(self, problems: list[Problem]) -> None:
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


def _walk(node: yaml.Node, file: str, path: KeyPath, lines: dict, problems: list[Problem]
          ) -> None:
    lines[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(file, line, dotted((*path, key)),
                                        f"key given twice (first on line {seen[key]})"))
            seen[key] = line
            _walk(value_node, file, (*path, key), lines, problems)
            lines[(*path, key)] = (file, line)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, file, (*path, i), lines, problems)


def load_yaml(path: str | Path) -> Sourced:
    """Read a YAML file safely, with line numbers; raise InputError naming the file."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(name, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(name, None, "", "is a directory, not a YAML file")]) from None
    except UnicodeDecodeError as err:
        raise InputError([Problem(name, None, "", f"not UTF-8 text ({err.reason})")]) from None
    except OSError as err:
        raise InputError([Problem(name, None, "", f"cannot be read ({err.strerror})")]) from None
    try:
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError([Problem(name, line, "", f"malformed YAML: {what}")]) from None
    lines: dict[KeyPath, tuple[str, int]] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, name, (), lines, problems)
    if problems:
        raise InputError(problems)
    return Sourced(data=data, lines=lines, file=name)


def deep_merge(base: Sourced, over: Sourced) -> Sourced:
    """``over``'s values over ``base``'s: mappings merge key by key, anything else replaces.
    Line numbers follow the values: a key keeps the line of the file its value came from."""
    if not isinstance(over.data, dict) or not isinstance(base.data, dict):
        return Sourced(over.data, dict(over.lines), over.file)
    lines = dict(base.lines)

    def replace_subtree(p: KeyPath) -> None:
        for q in [q for q in lines if q[:len(p)] == p]:
            del lines[q]
        lines.update({q: w for q, w in over.lines.items() if q[:len(p)] == p})

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
