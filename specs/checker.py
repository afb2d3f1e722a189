"""Issues (errors and warnings with a code, a field and a fix) and the checker that collects them."""

import math
from dataclasses import dataclass, field

from .schema import SECTIONS, spec_field


@dataclass(frozen=True)
class Issue:
    code: str
    field: str | None
    message: str

    def as_dict(self):
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass
class SpecResult:
    spec: dict
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def nul_paths(data):
    """Dotted paths of every key or string value that contains U+0000 (iterative: input may nest deeply)."""
    found, stack = [], [("", data)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            sub = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key) or (isinstance(value, str) and "\x00" in value):
                found.append(sub.replace("\x00", "\\u0000"))
            else:
                stack.append((sub, value))
    return sorted(found)


class Checker:
    """Collects issues while walking the spec; one instance per validation."""

    def __init__(self, data):
        self.data = data
        self.errors = []
        self.warnings = []

    def error(self, code, path, message):
        self.errors.append(Issue(code, path, message))

    def warn(self, code, path, message):
        self.warnings.append(Issue(code, path, message))

    def section(self, name):
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error("invalid_value", name, f"`{name}` must be an object.")
            return {}
        for key in sorted(set(value) - SECTIONS[name]):
            self.error("unknown_field", f"{name}.{key}",
                       f"`{name}.{key}` is not a v1 spec field; remove it or check the spelling.")
        return {k: v for k, v in value.items() if v is not None}

    def integer(self, section, key, *, code="invalid_value"):
        """A whole number within the bounds the schema declares for it, else an error and None."""
        value = section.get(key)
        if value is None:
            return None
        path = self._path(section, key)
        declared = spec_field(path)
        minimum, maximum = declared.minimum, declared.maximum
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum
        ):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.error(code, path, f"`{path}` must be a whole number {bound}.")
            _drop_if_not_finite(section, key)
            return None
        return value

    def number(self, section, key):
        value = section.get(key)
        if value is None:
            return None
        path = self._path(section, key)
        declared = spec_field(path)
        minimum, maximum = declared.minimum, declared.maximum
        # 1e400 arrives as infinity and 1e308 overflows any arithmetic: every number has a finite bound.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not minimum < value <= maximum:
            self.error("invalid_value", path, f"`{path}` must be a number greater than {minimum} and at most "
                       f"{maximum:g}.")
            _drop_if_not_finite(section, key)
            return None
        return value

    def choice(self, section, key, choices=None, *, default=None):
        """One of the values the schema declares (or `choices`, a narrower set); `default` when left out."""
        value = section.get(key)
        value = default if value is None else value
        path = self._path(section, key)
        choices = choices or spec_field(path).values
        if value is not None and (not isinstance(value, str) or value not in choices):
            self.error("invalid_value", path, f"`{path}` must be one of: {', '.join(choices)}.")
            return default
        return value

    def _path(self, section, key):
        for name in SECTIONS:
            if self.data.get(name) is section:
                return f"{name}.{key}"
        return key


def _drop_if_not_finite(section, key):
    """1e400 parses as infinity, which JSON cannot carry back in the answer: the error says what it was."""
    value = section.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        section.pop(key)
