from django.db import migrations

BUILTIN = {
    "requester": ("Release requester", "发布申请人"),
    "release_manager": ("Release manager", "发布经理"),
    "release_owner": ("Release owner", "发布负责人"),
    "release_administrator": ("Release administrator", "发布管理员"),
    "tester": ("Tester", "发布测试员"),
    "project_manager": ("Project manager", "项目经理"),
    "change_owner": ("Change owner", "变更负责人"),
    "cab_member": ("CAB member", "变更顾问委员会成员"),
    "department_approver": ("Department approver", "部门负责人"),
    "pmo": ("PMO", "项目管理办公室"),
    "configuration_librarian": ("Configuration librarian", "配置管理员"),
    "operations": ("Operations engineer", "运维工程师"),
    "auditor": ("Auditor (read-only)", "审计员(只读)"),
}


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, (en, zh) in BUILTIN.items():
        Role.objects.update_or_create(code=code, defaults={"name_en": en, "name_zh_hans": zh, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
