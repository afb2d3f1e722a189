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

    def _bounded(self, section, key):
        """(path, value, declared field) of a present value, or None when it was left out."""
        value = section.get(key)
        if value is None:
            return None
        path = self._path(section, key)
        return path, value, spec_field(path)

    def _refuse(self, section, key, code, path, message):
        self.error(code, path, message)
        _drop_if_not_finite(section, key)

    def integer(self, section, key, *, code="invalid_value"):
        """A whole number within the bounds the schema declares for it, else an error and None."""
        found = self._bounded(section, key)
        if found is None:
            return None
        path, value, declared = found
        lo, hi = declared.minimum, declared.maximum
        if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            self._refuse(section, key, code, path, f"`{path}` must be a whole number {bound}.")
            return None
        return value

    def number(self, section, key):
        """A finite number above the schema's minimum and at most its maximum (1e308 overflows the arithmetic)."""
        found = self._bounded(section, key)
        if found is None:
            return None
        path, value, declared = found
        lo, hi = declared.minimum, declared.maximum
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not lo < value <= hi:
            self._refuse(section, key, "invalid_value", path,
                         f"`{path}` must be a number greater than {lo} and at most {hi:g}.")
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
