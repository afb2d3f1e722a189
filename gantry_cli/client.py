"""HTTP to the Gantry API (requests): `Authorization: Token <key>`, and the API's error shape turned into exit codes.

Every error body of the API is {"errors": [{"code", "field", "message"}]} (SPEC.md); a preview with errors
is a 400 whose body also has them under "errors".
"""

from urllib.parse import urlsplit

import requests

from .errors import NOT_AUTHENTICATED, UNAVAILABLE, ApiRefused, CliError

TIMEOUT = (10, 60)  # (connect, read) seconds
YAML = "application/yaml"


class Api:
    def __init__(self, url, token, session=None):
        self.url = url
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json",
                                     "User-Agent": "gantry-cli"})

    def request(self, method, path, *, allow=(), timeout=TIMEOUT, **kwargs):
        """The response of a 2xx (or a status in `allow`); otherwise CliError with the exit code it means."""
        try:
            response = self.session.request(method, self.url + path, timeout=timeout, **kwargs)
        except requests.Timeout:
            raise CliError(f"{self.url} did not answer in time", UNAVAILABLE) from None
        except requests.RequestException as exc:
            raise CliError(f"cannot reach {self.url}: {_reason(exc)}", UNAVAILABLE) from None
        if response.ok or response.status_code in allow:
            return response
        raise _refusal(self.url, response)

    def json(self, method, path, **kwargs):
        response = self.request(method, path, **kwargs)
        return _json(self.url, response)

    def yaml_post(self, path, text, *, allow=()):
        """POST a YAML document as written: the server parses and validates it exactly as it would JSON."""
        response = self.request("POST", path, data=text.encode(), allow=allow, headers={"Content-Type": YAML})
        return response.status_code, _json(self.url, response)

    def pages(self, path, params):
        """Every item of a paginated list ({count, next, previous, results}), following `next`."""
        body = self.json("GET", path, params=params)
        items = list(body["results"])
        while body.get("next"):
            # Only the path and query of `next`: its host is as the server saw it (a proxy may differ).
            link = urlsplit(body["next"])
            body = self.json("GET", f"{link.path}?{link.query}")
            items.extend(body["results"])
        return items


def _reason(exc):
    # requests wraps urllib3's error, whose last line says what happened (refused, name not known, ...).
    text = str(exc.args[0] if exc.args else exc)
    return text.rsplit(": ", 1)[-1].rstrip(")'\"") or text


def _json(url, response):
    try:
        return response.json()
    except ValueError:
        raise CliError(f"{url} answered {response.status_code} with something other than JSON: is this the Gantry "
                       "server's URL?", UNAVAILABLE) from None


def _refusal(url, response):
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if not (isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors)):
        errors = [{"code": "http_error", "field": None,
                   "message": f"{url} answered {response.status_code} {response.reason} (not the API's error shape)"}]
    if response.status_code == 401:
        return ApiRefused(errors, NOT_AUTHENTICATED, hint=f"create a token at {url}/tokens/, then run `gantry login`")
    if response.status_code == 429 or response.status_code >= 500:
        return ApiRefused(errors, UNAVAILABLE)
    return ApiRefused(errors)
