"""Telling a literal key or token from a name or a Secret reference."""

import re

# Literal credentials: well-known token prefixes, PEM keys, AWS key ids, or long random-looking strings.
TOKEN_RE = re.compile(
    r"^(gnt_|hf_|sk-|sk_live_|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-|(AKIA|ASIA)[A-Z0-9]{16}|AIza|eyJ)|-----BEGIN"
)
SENSITIVE_NAME_RE = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)


def looks_like_secret(value):
    """True for a string that looks like a literal key or token rather than a name or reference.

    Random keys switch between lowercase, uppercase and digits far more often than
    names do (`meta-llama/Llama-3-8B-Instruct` switches 3 times, an AWS secret key 10+).
    """
    if not isinstance(value, str):
        return False
    value = value.strip()  # " sk-…" is the same key with a space in front
    if TOKEN_RE.search(value):
        return True
    if len(value) < 20 or re.search(r"\s", value):
        return False
    if re.fullmatch(r"[0-9a-f]{32,}", value) and re.search(r"[0-9]", value) and re.search(r"[a-f]", value):
        return True
    kinds = ["l" if c.islower() else "u" if c.isupper() else "d" if c.isdigit() else " " for c in value]
    switches = sum(1 for a, b in zip(kinds, kinds[1:]) if a != b and " " not in (a, b))
    return switches >= 6
