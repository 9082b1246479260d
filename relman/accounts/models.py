"""Users, roles and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel


class User(AbstractUser):
    """A person who uses relman. Their language is used for messages sent to them."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    department = models.CharField(_("department"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Times are shown in it; empty: the organisation's (RELMAN_TIME_ZONE)."),
    )

    @property
    def zone(self) -> str:
        """The time zone the user reads times in: their own, else the organisation's."""
        return self.time_zone or settings.TIME_ZONE

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Team(TimestampedModel):
    """A department, a sub-department or a team: the unit whose head approves for it and
    which owns configuration items. `parent` nests sub-departments in their department."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        SUB_DEPARTMENT = "sub_department", _("Sub-department")
        TEAM = "team", _("Team")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("part of"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A user belongs to a team; a head approves for it (a team may have several heads)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_head = models.BooleanField(_("head"), default=False)
    created = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_member"),
        ]
        indexes = [models.Index(fields=["user", "team"], name="membership_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.team}"


class Role(models.Model):
    """A role of the release procedures: built in, or declared by a process definition."""

    code = models.SlugField(_("code"), max_length=64, primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=150)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=150)
    builtin = models.BooleanField(_("built in"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh_hans if (get_language() or "").startswith("zh") else self.name_en


class RoleAssignment(TimestampedModel):
    """A user holds a role everywhere (no application) or for one application."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    application = models.ForeignKey(
        "cmdb.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        help_text=_("Leave empty for every application."),
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "application"], name="unique_role_per_application"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(application__isnull=True),
                name="unique_global_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.application.code if self.application_id else _("all applications")
        return f"{self.user} · {self.role_id} · {where}"


class ApiToken(TimestampedModel):
    """A bearer token for the API and CLI. Only its SHA-256 is kept; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    expires = models.DateTimeField(_("expires"))
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked is None and self.expires > timezone.now()
