"""Load staff-edited YAML while remembering where every value came from.

Staff are not programmers, so every problem we report must name the file and the line.
Mappings load as `SourceMap` and lists as `SourceList`; both know their own line and the
line of each key or item.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a staff-edited file, printed as `path:line: message`."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.path}:{self.line}: {label}{self.message}"


class YamlFileError(Exception):
    """A YAML file that cannot be used at all (bad syntax or broken structure)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SourceMap(dict):
    """A dict that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class SourceList(list):
    """A list that remembers the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings and sequences carry line numbers."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> SourceMap:
    result = SourceMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_list(loader: _LineLoader, node: yaml.SequenceNode) -> SourceList:
    result = SourceList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)
# Dates stay plain strings ("2025-10-01"): staff write them, we only show and compare them.
# Only true/false are booleans (as in YAML 1.2): "no", "yes", "on" and "off" stay words, so a
# list of Spanish answer words [si, no] means what it says.
_PLAIN_TAGS = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _PLAIN_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    """Parse a YAML file into SourceMap/SourceList values, or raise YamlFileError."""
    path = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise YamlFileError([Problem(path, 1, f"cannot read the file: {error}")]) from error
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        what = error.problem or "this is not valid YAML"
        hint = _syntax_hint(what)
        raise YamlFileError([Problem(path, line, f"YAML syntax: {what}{hint}")]) from error
    except yaml.YAMLError as error:
        raise YamlFileError([Problem(path, 1, f"YAML syntax: {error}")]) from error


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return " (a text containing ': ' must be put in quotes)"
    if "found character '\\t'" in problem:
        return " (use spaces, not tabs, to indent)"
    if "could not find expected ':'" in problem:
        return " (is a ':' missing after a key, or a quote not closed?)"
    return ""


def line_at(data: Any, location: list[str | int] | tuple[str | int, ...]) -> int:
    """The line of the deepest value along `location` (keys and list indexes) that we know."""
    line = getattr(data, "line", 1) or 1
    node = data
    for step in location:
        if isinstance(node, SourceMap) and step in node:
            line = node.line_of(step)  # type: ignore[arg-type]
            node = node[step]
        elif isinstance(node, SourceList) and isinstance(step, int) and step < len(node):
            line = node.line_of(step)
            node = node[step]
        else:
            break
    return line


def schema_problems(data: Any, schema: dict, path: str) -> list[Problem]:
    """Check `data` against a JSON Schema and word each violation for staff, with its line."""
    import jsonschema  # imported here: only loading and linting need it

    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(step) for step in error.path) or "the file"
        if error.validator == "additionalProperties" and isinstance(error.instance, SourceMap):
            problems += _unknown_fields(error, where, path)
            continue
        problems.append(Problem(path, line_at(data, list(error.path)), f"{where}: {_plain(error)}"))
    return problems


def _unknown_fields(error: Any, where: str, path: str) -> list[Problem]:
    """One problem per misspelt or unknown field, on its own line, with a suggestion."""
    import difflib

    allowed = sorted(error.schema.get("properties", {}))
    problems = []
    for key in error.instance:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (f" (did you mean '{close[0]}'?)" if close
                else f" (known fields: {', '.join(allowed)})")
        problems.append(Problem(path, error.instance.line_of(key),
                                f"{where}: '{key}' is not a known field{hint}"))
    return problems


_KINDS = {"string": "a text", "integer": "a whole number", "number": "a number",
          "boolean": "true or false", "array": "a list", "object": "a section of fields"}


def _plain(error: Any) -> str:
    """Turn a jsonschema message into words a non-programmer can act on."""
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing (it is required)")
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "type":
        wanted = _KINDS.get(str(error.validator_value), error.validator_value)
        if error.instance is None:
            return f"is empty: write {wanted} here"
        return f"{error.instance!r} should be {wanted}"
    return error.message


def load_with_schema(path: str | Path, schema_file: Path) -> Any:
    """A staff file checked against its JSON Schema, or YamlFileError with every problem."""
    data = load_yaml(path)
    problems = schema_problems(data, json.loads(schema_file.read_text(encoding="utf-8")),
                               str(path))
    if problems:
        raise YamlFileError(problems)
    return data
