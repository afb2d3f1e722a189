"""The API's YAML bodies (`application/yaml`, `application/x-yaml`): read into exactly what a JSON body gives.

Not djangorestframework-yaml (last release 2.0.0, April 2020) nor drf-yaml (3.0.1, June 2023, whose docs
show the same YAMLParser): the former's parser is `yaml.safe_load` of the whole body with no size, depth or
alias limit, and catches only ParserError, so a scanner or constructor error is a 500. Here PyYAML's safe
loader (the C one when PyYAML has libyaml) is narrowed to what JSON can say:

- no aliases (`*name`): a few lines of aliases expand to billions of nodes once the spec is walked
  (the "billion laughs" bomb), and a spec never needs them;
- at most MAX_DEPTH nested lists and mappings, checked on the event stream before any node is built
  (composing is recursive, in C too);
- no tags but the core schema's null, bool, int, float, str, seq and map: `!!python/...`, `!!binary`,
  `!!set`, `!!timestamp` and local `!tags` are refused;
- plain scalars that YAML 1.1 reads as dates (`2025-01-31`) stay strings, as in JSON;
- mapping keys are strings (`1:`, `yes:` or `null:` as a key has no JSON form);
- the body is read up to DATA_UPLOAD_MAX_MEMORY_SIZE, as for every other body: more is RequestDataTooBig,
  which portal/api_errors.py answers with the one error shape (413 `too_large`).

Every refusal is a ParseError (400 `parse_error`) whose message names the problem and its line.
"""

import yaml
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

_CORE = "tag:yaml.org,2002:"
_JSON_TAGS = ("null", "bool", "int", "float", "str", "seq", "map")
# Resolvers for plain scalars: YAML 1.1's timestamp, merge (`<<`) and value (`=`) are left out.
_IMPLICIT = tuple(_CORE + name for name in ("null", "bool", "int", "float"))
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 100  # a spec nests 4 deep


class Refused(yaml.MarkedYAMLError):
    """A document PyYAML could read but the API does not take (an alias, a tag, a key that is not text)."""

    def __init__(self, mark, problem):
        super().__init__(problem=problem, problem_mark=mark)


class JsonLikeLoader(_Base):
    def construct_json_map(self, node):
        for key_node, _ in node.value:
            if key_node.tag != _CORE + "str":
                scalar = isinstance(key_node, yaml.ScalarNode)
                fix = f'quote it: "{key_node.value}"' if scalar else "not a list or mapping"
                raise Refused(key_node.start_mark, f"a mapping key must be text; {fix}")
        yield from yaml.SafeLoader.construct_yaml_map(self, node)

    def construct_refused_tag(self, node):
        tag = node.tag.replace(_CORE, "!!", 1)
        raise Refused(node.start_mark, f"the tag {tag} is not accepted; send plain values (text, numbers, "
                                       "true/false, null, lists and mappings)")


JsonLikeLoader.yaml_constructors = {_CORE + name: yaml.SafeLoader.yaml_constructors[_CORE + name]
                                    for name in _JSON_TAGS}
JsonLikeLoader.add_constructor(_CORE + "map", JsonLikeLoader.construct_json_map)
JsonLikeLoader.add_constructor(None, JsonLikeLoader.construct_refused_tag)
JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _IMPLICIT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _where(exc):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""


def _events_check(text):
    """Aliases and depth, refused on the event stream (the parser keeps a stack, it does not recurse)."""
    depth = 0
    for event in yaml.parse(text, Loader=JsonLikeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise Refused(event.start_mark, f"aliases are not accepted (*{event.anchor}); write the value out "
                                            "where it is used")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise Refused(event.start_mark, f"the document nests lists and mappings more than {MAX_DEPTH} deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def yaml_load(text):
    """One YAML document as JSON would give it; ParseError naming the problem and its line."""
    try:
        _events_check(text)
        data = yaml.load(text, Loader=JsonLikeLoader)  # the safe loader, narrowed above
    except yaml.MarkedYAMLError as exc:
        problem = ", ".join(filter(None, (exc.context, exc.problem))) or "not valid YAML"
        raise ParseError(f"YAML parse error - {problem}{_where(exc)}.") from None
    except yaml.YAMLError as exc:
        raise ParseError(f"YAML parse error - {exc}.") from None
    except ValueError:  # int() of more digits than Python converts (sys.get_int_max_str_digits)
        raise ParseError("YAML parse error - a number has too many digits.") from None
    if data is None:
        raise ParseError("YAML parse error - the document is empty; send the spec as a mapping (name: ..., "
                         "team: ...).")
    return data


class YAMLParser(BaseParser):
    media_type = "application/yaml"  # RFC 9512

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"YAML parse error - the body is not {encoding} text.") from None
        return yaml_load(text)


class XYAMLParser(YAMLParser):
    """The name many tools still send (curl examples, older clients) for the same documents."""

    media_type = "application/x-yaml"
