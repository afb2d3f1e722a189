"""Label and field selectors, parsed the way the API server reads ?labelSelector= and ?fieldSelector=."""

import re

# One requirement: "key", "!key", "key=v", "key==v", "key!=v", "key in (a,b)", "key notin (a,b)".
_SET_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


class SelectorError(ValueError):
    pass


def _split_requirements(text):
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def selector_parse(text):
    """A list of (key, operator, values); operators: in, notin, exists, !exists."""
    requirements = []
    for part in _split_requirements(text or ""):
        if match := _SET_RE.match(part):
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
        elif match := _EQ_RE.match(part):
            op = "notin" if match.group(2) == "!=" else "in"
            requirements.append((match.group(1), op, {match.group(3)}))
        elif match := _EXISTS_RE.match(part):
            requirements.append((match.group(2), "!exists" if match.group(1) else "exists", set()))
        else:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
    return requirements


def _requirement_matches(values_by_key, key, op, values):
    present = key in values_by_key
    if op == "exists":
        return present
    if op == "!exists":
        return not present
    if op == "in":
        return present and values_by_key[key] in values
    return not present or values_by_key[key] not in values  # notin, !=


def labels_match(requirements, labels):
    labels = labels or {}
    return all(_requirement_matches(labels, *req) for req in requirements)


def _field_value(obj, dotted):
    node = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    return str(node)


def fields_match(requirements, obj):
    """Field selectors only know =, == and != on dotted paths (metadata.name, involvedObject.name ...)."""
    for key, op, values in requirements:
        if op not in ("in", "notin") or len(values) != 1:
            raise SelectorError(f"field selector operator not supported for {key!r}")
        if not _requirement_matches({key: _field_value(obj, key)}, key, op, values):
            return False
    return True
