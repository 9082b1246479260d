"""Server-side commands for users, roles and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from relman.cli.bootstrap import find_user, on_server
from relman.cli.i18n import _, language_option
from relman.cli.output import fail, new_table, note, out, say, warn

user_app = typer.Typer(help=_("Users: create and list."), no_args_is_help=True)
role_app = typer.Typer(help=_("Roles: list and assign."), no_args_is_help=True)
token_app = typer.Typer(help=_("API tokens: create, list and revoke."), no_args_is_help=True)


def _split_role(value: str) -> tuple[str, str | None]:
    """'role@app' into ('role', 'app'); 'role' into ('role', None)."""
    role, _sep, application = value.partition("@")
    return role.strip(), (application.strip() or None)


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail(_("--password-stdin was given, but standard input is empty."))
    return password


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help=_("The login name."))],
    email: Annotated[str, typer.Option(help=_("E-mail address."))] = "",
    display_name: Annotated[str, typer.Option(help=_("Name shown in the pages."))] = "",
    department: Annotated[str, typer.Option(help=_("Department."))] = "",
    language: Annotated[
        str,
        typer.Option(
            help=_("Language of the pages and messages: en or zh-hans."),
            callback=language_option,
        ),
    ] = "en",
    superuser: Annotated[
        bool, typer.Option("--superuser", help=_("May administer everything."))
    ] = False,
    role: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ROLE[@APP]",
            help=_(
                "A role to give, as ROLE or ROLE@APPLICATION (repeat the option for more). "
                "`relman role list` shows the roles."
            ),
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help=_("Read the password from standard input (one line).")
        ),
    ] = False,
) -> None:
    """Create a user. Without --password-stdin a password is generated and printed once."""
    with on_server():
        from django.db import transaction

        from relman.accounts.services import assign_role, create_user

        password = _read_password() if password_stdin else None
        with transaction.atomic():  # the user and their roles, or nothing
            user, password = create_user(
                None,
                username=username,
                password=password,
                email=email,
                display_name=display_name,
                department=department,
                language=language,
                is_superuser=superuser,
            )
            given = []
            for value in role or []:
                code, application = _split_role(value)
                assign_role(None, user, code, application)
                given.append(value)
        say(_("Created the user '%s'.") % user.username, style="green")
        if given:
            say(_("Roles: %s") % ", ".join(given))
        if not password_stdin:
            out.print(
                _("Password: [bold]%s[/bold]  (shown only now: give it to them safely)") % password,
                soft_wrap=True,
            )


def _roles_of(user) -> str:
    return ", ".join(
        f"{a.role_id}@{a.application.code}" if a.application_id else a.role_id
        for a in user.role_assignments.all()
    )


@user_app.command("list")
def user_list() -> None:
    """List the users with their roles."""
    with on_server():
        from django.contrib.auth import get_user_model

        users = (
            get_user_model()
            .objects.order_by("username")
            .prefetch_related("role_assignments__application")
        )
        table = new_table(_("Users"))
        table.add_column(_("Username"), style="bold", no_wrap=True)
        table.add_column(_("Name and e-mail"), overflow="fold")
        table.add_column(_("Department"), overflow="fold")
        table.add_column(_("Roles"), overflow="fold")
        table.add_column(_("Notes"))
        for user in users:
            notes = [
                *([_("administrator")] if user.is_superuser else []),
                *([_("inactive")] if not user.is_active else []),
                *([user.language] if user.language != "en" else []),
            ]
            name = escape(user.display_name or user.get_full_name())
            if user.email:
                name += f"\n[dim]{escape(user.email)}[/dim]"
            table.add_row(
                escape(user.username),
                name,
                escape(user.department),
                escape(_roles_of(user).replace(", ", "\n")),
                ", ".join(notes),
            )
        out.print(table)


@role_app.command("list")
def role_list() -> None:
    """List the roles: built in, and those the processes declare."""
    with on_server():
        from relman.accounts.models import Role

        table = new_table(_("Roles"))
        table.add_column(_("Code"), style="bold")
        table.add_column(_("Name"))
        table.add_column(_("Built in"))
        for role in Role.objects.order_by("code"):
            table.add_row(role.code, str(role), "✓" if role.builtin else "")
        out.print(table)


@role_app.command("assign")
def role_assign(
    username: Annotated[str, typer.Argument(help=_("Who gets the role."))],
    role: Annotated[str, typer.Argument(help=_("The role's code (`relman role list`)."))],
    app: Annotated[
        str | None,
        typer.Option("--app", help=_("Only for this application (code); default: all of them.")),
    ] = None,
) -> None:
    """Give a user a role, for one application or for every application."""
    with on_server():
        from relman.accounts.services import assign_role

        assign_role(None, find_user(username), role, app)
        where = app or _("every application")
        say(
            _("%(user)s now holds %(role)s for %(where)s.")
            % {"user": username, "role": role, "where": where},
            style="green",
        )


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help=_("Whose token it is."))],
    name: Annotated[
        str, typer.Option("--name", help=_("What it is for, e.g. 'laptop' or 'ci-pipeline'."))
    ],
    days: Annotated[
        int | None,
        typer.Option(help=_("Days until it expires (default: RELMAN_TOKEN_DAYS, 90).")),
    ] = None,
) -> None:
    """Create an API token and print its secret, once."""
    with on_server():
        from relman.accounts.services import create_token

        token, secret = create_token(None, find_user(username), name=name, days=days)
        # Only the secret goes to stdout, so `relman token create ... > file` keeps just it.
        note(
            _(
                "Created the token '%(name)s' (prefix %(prefix)s) for %(user)s, valid until %(expires)s."
            )
            % {
                "name": token.name,
                "prefix": token.prefix,
                "user": username,
                "expires": f"{token.expires:%Y-%m-%d}",
            }
        )
        say(secret, style="bold")
        warn(
            _(
                "This secret is shown only now and works like a password: store it safely. "
                "Use it with `relman login URL --token-stdin`."
            )
        )


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help=_("Only this user's tokens."))] = None,
) -> None:
    """List API tokens (never their secrets)."""
    with on_server():
        from django.utils import timezone

        from relman.accounts.models import ApiToken

        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created")
        if username:
            tokens = tokens.filter(user=find_user(username))
        now = timezone.now()
        table = new_table(_("API tokens"))
        for heading in (_("Prefix"), _("User"), _("Name"), _("Created"), _("Expires")):
            table.add_column(heading)
        table.add_column(_("Last used"))
        table.add_column(_("State"))
        for token in tokens:
            if token.revoked:
                state = f"[red]{_('revoked')}[/red]"
            elif token.expires <= now:
                state = f"[yellow]{_('expired')}[/yellow]"
            else:
                state = f"[green]{_('active')}[/green]"
            table.add_row(
                token.prefix,
                token.user.username,
                token.name,
                f"{timezone.localtime(token.created):%Y-%m-%d}",
                f"{timezone.localtime(token.expires):%Y-%m-%d}",
                f"{timezone.localtime(token.last_used):%Y-%m-%d %H:%M}" if token.last_used else "",
                state,
            )
        out.print(table)


@token_app.command("revoke")
def token_revoke(
    prefix: Annotated[
        str, typer.Argument(help=_("The token's prefix (`relman token list`), or the token."))
    ],
) -> None:
    """Revoke a token: it stops working at once."""
    if prefix.startswith("rmt_"):
        prefix = prefix[len("rmt_") :].partition("_")[0]
    with on_server():
        from relman.accounts.services import revoke_token

        token = revoke_token(None, prefix)
        say(
            _("Revoked the token '%(name)s' (prefix %(prefix)s) of %(user)s.")
            % {"name": token.name, "prefix": token.prefix, "user": token.user.username},
            style="green",
        )
