"""Where the server and the token come from: GANTRY_URL and GANTRY_TOKEN, else the file `gantry login` wrote.

The file is $GANTRY_CONFIG, else $XDG_CONFIG_HOME/gantry/config.json (~/.config/gantry/config.json). It holds
a token, so it is written readable by its owner only (0600, in a 0700 directory), like ~/.kube/config.
"""

import json
import os
from pathlib import Path

from .errors import NOT_AUTHENTICATED, USAGE, CliError

URL_ENV, TOKEN_ENV, CONFIG_ENV = "GANTRY_URL", "GANTRY_TOKEN", "GANTRY_CONFIG"


def config_path():
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "gantry" / "config.json"


def config_read():
    """The saved {"url", "token"}, or {} when there is no file."""
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}; run `gantry login` again", USAGE) from None
    return data if isinstance(data, dict) else {}


def config_write(*, url, token):
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode on open: tighten it too
        json.dump({"url": url, "token": token}, file, indent=2)
        file.write("\n")
    return path


def server_url(url):
    """The base URL without a trailing slash; a missing scheme is a usage error, not a confusing failure."""
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"the server URL must start with http:// or https:// (got {url!r})", USAGE)
    return url


def credentials():
    """(url, token): each from the environment if set there, else from the file."""
    saved = config_read()
    url = os.environ.get(URL_ENV) or saved.get("url")
    token = os.environ.get(TOKEN_ENV) or saved.get("token")
    if not url or not token:
        raise CliError(f"not logged in: run `gantry login`, or set {URL_ENV} and {TOKEN_ENV}", NOT_AUTHENTICATED)
    return server_url(url), token
