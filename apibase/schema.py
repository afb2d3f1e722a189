"""OpenAPI: every operation documents the one error shape for the errors it can return."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `unknown_team`, `throttled`")
    field = serializers.CharField(allow_null=True, help_text="The offending field (dotted path), or null")
    message = serializers.CharField(help_text="A sentence that says how to fix it")


class ErrorSerializer(serializers.Serializer):
    errors = ErrorItemSerializer(many=True)


ERROR_RESPONSES = {
    "400": "Invalid input: each error names its field",
    "401": "No token, or a revoked or invalid one (`Authorization: Token <key>`)",
    "403": "Your role in the team does not allow this (viewers read only)",
    "404": "No such object, or it belongs to a team you are not in",
    "405": "Method not allowed on this path",
    "429": "Too many requests for this token; retry after the `Retry-After` header's seconds",
}
WRITE_ONLY_ERRORS = ("403",)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in ERROR_RESPONSES.items():
            if code in responses or (code in WRITE_ONLY_ERRORS and self.method == "GET"):
                continue
            body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            body["description"] = description
            responses[code] = body
        return responses
