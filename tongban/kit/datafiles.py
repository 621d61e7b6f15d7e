"""Reading data files (YAML) into validated shapes, with one kind of error that names the file,
the place in it and the problem, whatever went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from tongban.errors import TongbanError
from tongban.kit.i18n import N_


def load_yaml(path: Path, shape: Any, error: type[TongbanError], *, lines: bool = False) -> Any:
    """``path`` parsed and validated as ``shape`` (a Pydantic model or type); ``error`` is the
    caller's domain error, raised with an English msgid. With ``lines``, a validation error
    also names the line of the entry at fault."""
    text = ""
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        return TypeAdapter(shape).validate_python(raw)
    except FileNotFoundError as exc:
        raise error(N_("Data file {path} does not exist."), path=str(path)) from exc
    except OSError as exc:
        raise error(
            N_("{path} cannot be read: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    except yaml.YAMLError as exc:
        raise error(
            N_("{path} is not valid YAML: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        line = line_of(text, first["loc"]) if lines else None
        raise error(
            N_("{path}: {where}: {problem} ({count} problem(s) in all)"),
            path=str(path),
            where=f"{where} (line {line})" if line else where,
            problem=first["msg"],
            count=exc.error_count(),
        ) from exc


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML entry at ``loc`` (keys and list indexes): a key's own
    line, or the deepest entry on the way that exists (a missing key is reported at its
    parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    mark = node.start_mark
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            mark, node = pair[0].start_mark, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return int(mark.line) + 1
