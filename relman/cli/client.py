"""The API client of the `relman` command: its saved login, and HTTP calls with clear errors.

No Django here: client commands run on people's machines, against a server over HTTP.
The login is kept in `~/.config/relman/config.json` (or $RELMAN_CONFIG), readable only by its
owner; RELMAN_URL and RELMAN_TOKEN override it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from relman.cli.i18n import _, language
from relman.cli.output import ExitCode, fail, problem_lines

CLIENT_HEADER = "X-Relman-Client"
API_PREFIX = "/api/v1"


def config_path() -> Path:
    """Where the login is saved: $RELMAN_CONFIG, else $XDG_CONFIG_HOME/relman/config.json."""
    if path := os.environ.get("RELMAN_CONFIG"):
        return Path(path).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "relman" / "config.json"


def read_config() -> dict[str, Any]:
    """The saved login, or {} when there is none."""
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        fail(
            _("Cannot read %(path)s (%(error)s): run `relman login URL` again.")
            % {"path": path, "error": exc},
            code=ExitCode.UNREACHABLE,
        )
    return data if isinstance(data, dict) else {}


def save_config(data: dict[str, Any]) -> Path:
    """Save the login where only its owner can read it (mode 0600)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def normalise_url(url: str) -> str:
    """The server's base URL: no trailing slash, no /api/v1. Refuses a URL without a scheme."""
    url = url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(
            _(
                "'%s' is not a server URL: give it whole, e.g. https://relman.example.com or http://127.0.0.1:8000."
            )
            % url,
            code=ExitCode.USAGE,
        )
    return url


class Api:
    """Calls to one relman server with one token. Every failure exits with its documented code."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        checking_token: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = normalise_url(url)
        self.checking_token = checking_token
        self.client = httpx.Client(
            transport=transport,
            base_url=f"{self.url}{API_PREFIX}",
            headers={
                "Authorization": f"Bearer {token}",
                CLIENT_HEADER: "cli",
                "Accept": "application/json",
                "Accept-Language": language(),
                "User-Agent": "relman-cli",
            },
            timeout=httpx.Timeout(timeout, connect=10.0),
        )

    @classmethod
    def from_login(cls) -> Api:
        """The API of the saved login, with RELMAN_URL / RELMAN_TOKEN taking precedence."""
        saved = read_config()
        url = os.environ.get("RELMAN_URL") or saved.get("url")
        token = os.environ.get("RELMAN_TOKEN") or saved.get("token")
        if not url or not token:
            fail(
                _("Not logged in: run `relman login URL` (or set RELMAN_URL and RELMAN_TOKEN)."),
                code=ExitCode.UNREACHABLE,
            )
        return cls(url, token)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, path: str, **params: Any) -> Any:
        """GET a path under /api/v1; None-valued parameters are left out."""
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def download(self, path: str, **params: Any) -> bytes:
        """GET a file under /api/v1 (a PDF, a workbook, ...): its bytes, or exit with the
        server's message."""
        params = {k: v for k, v in params.items() if v is not None}
        try:
            response = self.client.request("GET", path, params=params)
        except httpx.TimeoutException:
            fail(
                _("The relman server at %s did not answer in time.") % self.url,
                code=ExitCode.UNREACHABLE,
            )
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            fail(
                _("Cannot reach the relman server at %(url)s: %(error)s")
                % {"url": self.url, "error": exc},
                code=ExitCode.UNREACHABLE,
            )
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if response.is_success and not is_json:
            return response.content
        return self._answer(response)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> Any:
        """POST JSON (or, with data= and files=, a multipart form) to a path under /api/v1."""
        if payload is not None:
            kwargs["json"] = payload
        return self.call("POST", path, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the decoded JSON answer, or exit with a clear message."""
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            fail(
                _("The relman server at %s did not answer in time.") % self.url,
                code=ExitCode.UNREACHABLE,
            )
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            fail(
                _("Cannot reach the relman server at %(url)s: %(error)s")
                % {"url": self.url, "error": exc},
                code=ExitCode.UNREACHABLE,
            )
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> Any:
        status = response.status_code
        body: Any = None
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if is_json:
            try:
                body = response.json()
            except ValueError:
                is_json = False
        if response.is_success and is_json:
            return body
        if not isinstance(body, dict):
            if status in (502, 503, 504) or response.is_success or status == 404:
                fail(
                    _(
                        "%(url)s answered HTTP %(status)d without relman's JSON: is it the right "
                        "URL, and is relman running there?"
                    )
                    % {"url": self.url, "status": status},
                    code=ExitCode.UNREACHABLE,
                )
            fail(_("The server failed (HTTP %(status)d). Its log says why.") % {"status": status})
        detail = str(body.get("detail") or _("HTTP %d") % status)
        headline, lines = problem_lines(detail, body.get("errors"), body.get("unmet"))
        if status == 401 and self.checking_token:
            fail(_("The server did not accept this token."), code=ExitCode.UNREACHABLE)
        if status == 401:
            fail(
                _(
                    "The server did not accept your token (expired or revoked?): run `relman login %s` again."
                )
                % self.url,
                code=ExitCode.UNREACHABLE,
            )
        if status == 409:
            fail(headline, lines, code=ExitCode.CONFLICT)
        if status >= 500:
            fail(headline or _("The server failed (HTTP %d).") % status, lines)
        fail(headline, lines, code=ExitCode.REFUSED)
