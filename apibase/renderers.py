"""The API's JSON renderer: DRF's JSONRenderer with the encoding done by orjson.

A 200-row page of the deployment list spent about 0.7 ms of its ~8 ms in json.dumps (bench_list, issue 18);
orjson does it in a tenth of that. The output is DRF's: every type orjson does not write as json.dumps does
goes to DRF's own encoder (orjson 3.x README, "Option": OPT_PASSTHROUGH_DATETIME and OPT_PASSTHROUGH_DATACLASS
hand datetimes, dates, times and dataclasses to `default`; Decimal, UUID-like, lazy strings, sets and
querysets go there anyway), int and other non-str keys become strings as json.dumps makes them
(OPT_NON_STR_KEYS), and U+2028 / U+2029 are escaped as DRF escapes them. DRF's renderer still writes what
orjson cannot: indented output (the browsable API, `Accept: application/json; indent=4`), integers beyond
64 bits, and non-default UNICODE_JSON / COMPACT_JSON settings. Two known differences, both the same JSON
values: a float beyond 1e16 or under 1e-4 is written `1e16` where json.dumps writes `1e+16`, and a float that
is not finite comes out as null where DRF's strict JSON would fail the response.
"""

import orjson
from rest_framework import renderers
from rest_framework.settings import api_settings
from rest_framework.utils import encoders

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_DRF_DEFAULT = encoders.JSONEncoder().default
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))  # as DRF's render()


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (self.get_indent(accepted_media_type, renderer_context or {}) is not None
                or not (api_settings.UNICODE_JSON and api_settings.COMPACT_JSON) or self.encoder_class is not
                encoders.JSONEncoder):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_DRF_DEFAULT, option=OPTIONS)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits, say: DRF's renderer, or its error
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in out:
                out = out.replace(raw, escaped)
        return out
