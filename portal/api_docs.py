"""The API docs page (/api/docs/): drf-spectacular's Swagger UI inside Gantry's page, and an OpenAPI document
whose summaries read as plain text there."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI in templates/portal/api_docs.html (Gantry's header and navigation, a way back). The split view
    serves its init script from a URL (`?script`): the CSP allows no inline script."""

    template_name = "portal/api_docs.html"


def summaries_plain(result, generator, request, public):
    """drf-spectacular postprocessing hook: no backticks in summaries.

    An operation's and an example's `summary` is plain text (OpenAPI 3.0.3, Operation and Example Objects: only
    `description` allows CommonMark), so Swagger UI shows `deleting` with its backticks. The summaries are also
    the docstrings and `extend_schema` texts, written with backticks for the code; they lose them here only.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            if "summary" in operation:
                operation["summary"] = operation["summary"].replace("`", "")
            for media in ((operation.get("requestBody") or {}).get("content") or {}).values():
                for example in (media.get("examples") or {}).values():
                    if "summary" in example:
                        example["summary"] = example["summary"].replace("`", "")
    return result
