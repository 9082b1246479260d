"""Users' department, until now a text on the user, becomes a Team (a department) with the
users as its members; those holding the department approver role become its heads.
Nothing is lost: the text stays on the user, and each distinct text is one department."""

from django.db import migrations

from relman.accounts.teams import department_code

HEAD_ROLE = "department_approver"


def departments_from_text(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Team = apps.get_model("accounts", "Team")
    TeamMembership = apps.get_model("accounts", "TeamMembership")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    heads = set(RoleAssignment.objects.filter(role_id=HEAD_ROLE).values_list("user_id", flat=True))
    teams = {}
    for user_id, text in User.objects.exclude(department="").values_list("id", "department"):
        name = text.strip()[:150]
        if not name:
            continue
        if name not in teams:
            teams[name] = Team.objects.filter(name=name).first() or Team.objects.create(
                code=department_code(name, lambda c: Team.objects.filter(code=c).exists()),
                name=name,
                kind="department",
            )
        TeamMembership.objects.get_or_create(
            team=teams[name], user_id=user_id, defaults={"is_head": user_id in heads}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_teams")]

    operations = [migrations.RunPython(departments_from_text, migrations.RunPython.noop)]
