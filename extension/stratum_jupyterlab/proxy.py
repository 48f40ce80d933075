"""The `stratum` server of jupyter-server-proxy: `<base_url>/stratum/` reaches the control plane.

Two modes, chosen when the Jupyter server starts:

* ``STRATUM_SERVER`` is set (``npm start`` does this): the control plane already runs there, and
  the proxy forwards to its port on this machine.
* otherwise the proxy starts it on demand at the first request, on a free port:
  ``node <repo>/server/dist/cli/main.js serve --port {port} --workers N`` with the Jupyter
  server's environment (so ``STRATUM_HOME`` is honoured), and waits until it answers.

Either way every proxied request gets ``Authorization: Bearer <API token>``, read at request
time from ``$STRATUM_TOKEN`` or ``$STRATUM_HOME/api-token`` (default ``~/.stratum``), replacing
whatever Authorization header the browser sent: the browser never holds the token.

Where the CLI is: ``$STRATUM_CLI`` (path to ``main.js``) and ``$STRATUM_NODE`` (the node binary)
when set, else the paths recorded in ``_paths.json`` when this package was built from the repo.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

_PATHS = Path(__file__).with_name("_paths.json")


def stratum_home() -> Path:
    home = os.environ.get("STRATUM_HOME")
    return Path(home).expanduser() if home else Path.home() / ".stratum"


def api_token() -> str | None:
    """The control plane's API token, as the CLI finds it; None when there is none yet."""
    token = os.environ.get("STRATUM_TOKEN", "").strip()
    if token:
        return token
    try:
        return (stratum_home() / "api-token").read_text().strip() or None
    except OSError:
        return None


def auth_headers() -> dict[str, str]:
    """Headers added to every proxied request (called per request: the token may appear later)."""
    token = api_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def recorded_paths() -> dict[str, str]:
    try:
        return json.loads(_PATHS.read_text())
    except (OSError, ValueError):
        return {}


def cli_command() -> list[str]:
    """`node main.js`, from $STRATUM_NODE/$STRATUM_CLI or the paths recorded at build time."""
    recorded = recorded_paths()
    cli = os.environ.get("STRATUM_CLI") or recorded.get("cli", "")
    node = os.environ.get("STRATUM_NODE") or recorded.get("node") or "node"
    if not cli or not Path(cli).is_file():
        raise RuntimeError(
            f"the Stratum CLI was not found ({cli or 'no path recorded'}): set STRATUM_CLI to "
            "<repo>/server/dist/cli/main.js, or run `npm run setup` in the repository"
        )
    return [node, cli]


def attached_port(server: str) -> int:
    """The port of a control plane URL on this machine (the proxy only reaches localhost)."""
    parts = urlsplit(server)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"STRATUM_SERVER must be http://127.0.0.1:PORT on this machine, got {server}")
    return parts.port or 80


def setup_stratum() -> dict:
    """The jupyter-server-proxy configuration of the `stratum` route."""
    config = {
        # The control plane serves its routes at the root: /stratum/<path> is sent as /<path>.
        "absolute_url": False,
        "request_headers_override": auth_headers,
        # The panel's polling is not user activity: it must not keep an idle server alive.
        "update_last_activity": False,
        "launcher_entry": {"enabled": False},
        "new_browser_tab": False,
    }
    server = os.environ.get("STRATUM_SERVER", "").strip()
    if server:
        return {**config, "command": [], "port": attached_port(server)}
    workers = os.environ.get("STRATUM_PROXY_WORKERS", "2")
    return {
        **config,
        "command": [*cli_command(), "serve", "--port", "{port}", "--workers", workers],
        # First start creates the database and secrets; allow for a slow disk.
        "timeout": float(os.environ.get("STRATUM_PROXY_TIMEOUT", "120")),
    }
