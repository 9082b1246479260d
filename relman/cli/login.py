"""API client commands for the login: log in with a token, log out, who am I."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from relman.cli.client import Api, config_path, normalise_url, read_config, save_config
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, note, say


def login(
    url: Annotated[str, typer.Argument(help=_("The server, e.g. https://relman.example.com."))],
    token_stdin: Annotated[
        bool,
        typer.Option("--token-stdin", help=_("Read the API token from standard input.")),
    ] = False,
) -> None:
    """Log in to a relman server with an API token, and remember it for the next commands.

    Make a token on your profile page (SERVER/profile/, from your name in the top bar), or
    ask an administrator (`relman token create`).
    """
    url = normalise_url(url)
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            fail(_("--token-stdin was given, but standard input is empty."), code=ExitCode.USAGE)
    else:
        token = typer.prompt(_("API token"), hide_input=True).strip()
    with Api(url, token, checking_token=True) as api:
        me = api.get("/me")
    # Times print in the user's zone (their profile's, else the organisation's), not the
    # machine's: see clock.py.
    path = save_config({"url": url, "token": token, "time_zone": me.get("time_zone", "")})
    name = me.get("display_name") or me["username"]
    say(
        _("Logged in as %(name)s (%(user)s) at %(url)s.")
        % {"name": name, "user": me["username"], "url": url},
        style="green",
    )
    note(_("Saved in %s (readable only by you).") % path)


def logout() -> None:
    """Forget the saved login (the token itself stays valid until revoked)."""
    saved = read_config()
    if not saved:
        say(_("Not logged in."))
        return
    path = config_path()
    path.unlink()
    say(_("Logged out of %s.") % saved.get("url", "?"))


def whoami() -> None:
    """Show who the saved login is, on which server, with their roles."""
    with Api.from_login() as api:
        me = api.get("/me")
        roles = ", ".join(
            f"{r['role']}@{r['application']}" if r.get("application") else r["role"]
            for r in me.get("roles", [])
        )
        say(f"{me['display_name']} ({me['username']}) @ {api.url}")
        say(_("Roles: %s") % (roles or _("none")))
