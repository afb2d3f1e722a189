"""What a team slug looks like: the one rule the model, the spec validator and the filters share.

A slug names the team's namespace (clusters.labels.namespace_for), so it is a DNS-1123 label part.
"""

import re

TEAM_SLUG_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")
TEAM_SLUG_HELP = "Use 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit."


def is_team_slug(value):
    return isinstance(value, str) and TEAM_SLUG_RE.fullmatch(value) is not None
