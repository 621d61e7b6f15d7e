"""Reading data files (YAML) into validated shapes, with one kind of error that names the file,
the line and place in it and the problem, whatever went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from tongban.errors import TongbanError
from tongban.kit.i18n import N_


def load_yaml(path: Path, shape: Any, error: type[TongbanError]) -> Any:
    """``path`` parsed and validated as ``shape`` (a Pydantic model or type); ``error`` is the
    caller's domain error, raised with an English msgid."""
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
        raise error(
            N_("{path}, line {line}: {where}: {problem} ({count} problem(s) in all)"),
            path=str(path),
            line=line_of(yaml.compose(text), tuple(first["loc"])),
            where=".".join(str(part) for part in first["loc"]),
            problem=first["msg"],
            count=exc.error_count(),
        ) from exc


def line_of(node: Any, loc: tuple[str | int, ...]) -> int:
    """The line (1-based) of the deepest node of ``loc`` a composed YAML document has (from
    ``yaml.compose``): where a data file's problem is, for the person who fixes it."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        # A key's own line: its value may be a mapping that starts on the next one.
        mark, child = None, None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is not None:
                mark, child = pair[0].start_mark, pair[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            mark = child.start_mark
        if child is None or mark is None:
            # Not in the file: a missing key, or a part Pydantic adds (a union's tag).
            continue
        node = child
        line = mark.line + 1
    return line
