"""Forms of the release pages. They only read input; the services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from relman.cmdb.models import Application, Environment
from relman.releases import access
from relman.releases.choices import CLOSING_OUTCOMES, Kind, Method, Outcome, ReleaseClass, Risk

User = get_user_model()

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class UserChoiceField(forms.ModelChoiceField):
    """A user shown by name and username."""

    def label_from_instance(self, obj: Any) -> str:
        name = str(obj)
        return name if name == obj.username else f"{name} ({obj.username})"


class ReleaseForm(forms.Form):
    """The request for a new release. Applications are limited to those the user may use."""

    application = forms.ModelChoiceField(
        label=_("Application"), queryset=Application.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.UPGRADE)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.PLANNED)
    release_class = forms.ChoiceField(
        label=_("Class"), choices=ReleaseClass.choices, initial=ReleaseClass.STANDARD
    )
    version_number = forms.CharField(label=_("Version number"), max_length=64, required=False)
    environment = forms.ModelChoiceField(
        label=_("Target environment"),
        queryset=Environment.objects.all(),
        required=False,
        empty_label="—",
    )
    release_manager = UserChoiceField(
        label=_("Release manager"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="—",
    )
    risk = forms.ChoiceField(label=_("Risk"), choices=Risk.choices, initial=Risk.MEDIUM)
    planned_start = forms.DateTimeField(
        label=_("Planned start"), required=False, widget=DATETIME_INPUT
    )
    planned_end = forms.DateTimeField(label=_("Planned end"), required=False, widget=DATETIME_INPUT)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    scope = forms.CharField(
        label=_("Scope"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    impact = forms.CharField(
        label=_("Impact"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    backout_plan = forms.CharField(
        label=_("Backout plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = creatable_applications(user)

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as `services.create_release` keyword arguments (blanks left out)."""
        data = dict(self.cleaned_data)
        return {
            name: value
            for name, value in data.items()
            if value not in (None, "") or name in ("title", "application")
        }


class ReleaseEditForm(ReleaseForm):
    """A release's details as they may change while it is open (`services.update_release`),
    with the revision the user saw, so a stale edit is refused rather than overwriting."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    LOCKED = ("application", "kind", "method", "release_class")

    def __init__(self, *args: Any, user: Any, release: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        for name in self.LOCKED:
            del self.fields[name]

    def changes(self) -> dict[str, Any]:
        """Every editable field as `update_release` takes it (blanks as empty, not left out,
        so a cleared field is cleared)."""
        data = dict(self.cleaned_data)
        data.pop("revision")
        return {k: ("" if v is None and k in TEXT_FIELDS else v) for k, v in data.items()}


TEXT_FIELDS = ("version_number", "description", "scope", "impact", "backout_plan")


def creatable_applications(user: Any) -> Any:
    """The active applications the user may request releases for."""
    ids = [
        app.pk
        for app in Application.objects.filter(is_active=True).only("pk")
        if access.can_create(user, app.pk)
    ]
    return Application.objects.filter(pk__in=ids).order_by("code")


class ActionForm(forms.Form):
    """A lifecycle action: the revision the user saw, and a reason or target where needed."""

    revision = forms.IntegerField(label=_("Revision"), min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)
    target = forms.CharField(label=_("Return to"), required=False, max_length=64)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[(o.value, o.label) for o in Outcome if o in CLOSING_OUTCOMES],
    )


class ChecklistForm(forms.Form):
    """One checklist item of the current stage marked done."""

    item = forms.SlugField(max_length=64)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ApprovalForm(forms.Form):
    """A decision on an approval step of the current stage."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    step = forms.SlugField(label=_("Step"), max_length=64)
    checks = forms.MultipleChoiceField(label=_("Items checked"), required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=5000)
    on_behalf_of = forms.CharField(label=_("On behalf of"), required=False, max_length=150)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The step's items are checked by the service, which names any that are wrong.
        given = self.data.getlist("checks") if hasattr(self.data, "getlist") else []
        self.fields["checks"].choices = [(c, c) for c in given]


class DeliverableForm(forms.Form):
    """A new version of a deliverable: a file or a link."""

    key = forms.ChoiceField(label=_("Deliverable"))
    file = forms.FileField(label=_("File"), required=False)
    url = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args: Any, deliverables: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = deliverables

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("file")) == bool(data.get("url")):
            raise forms.ValidationError(
                _("Give either a file or a link, not both and not neither.")
            )
        return data


class CommentForm(forms.Form):
    """A comment on a release."""

    body = forms.CharField(
        label=_("Comment"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
