import yaml
from rest_framework.renderers import BaseRenderer


class YamlStreamRenderer(BaseRenderer):
    """`?format=yaml`: a list of objects as a multi-document YAML stream, ready for `kubectl apply -f -`."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and "manifests" in data:
            data = data["manifests"]
        documents = data if isinstance(data, list) else [data]
        return yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False).encode()
