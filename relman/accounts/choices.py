"""The built-in role catalogue, taken from the seed procedures."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BuiltinRole(models.TextChoices):
    """Roles every process may name. Processes may declare more of their own."""

    REQUESTER = "requester", _("Release requester")
    RELEASE_MANAGER = "release_manager", _("Release manager")
    RELEASE_OWNER = "release_owner", _("Release owner")
    RELEASE_ADMINISTRATOR = "release_administrator", _("Release administrator")
    TESTER = "tester", _("Tester")
    PROJECT_MANAGER = "project_manager", _("Project manager")
    CHANGE_OWNER = "change_owner", _("Change owner")
    CAB_MEMBER = "cab_member", _("CAB member")
    DEPARTMENT_APPROVER = "department_approver", _("Department approver")
    PMO = "pmo", _("PMO")
    CONFIGURATION_LIBRARIAN = "configuration_librarian", _("Configuration librarian")
    OPERATIONS = "operations", _("Operations engineer")
    AUDITOR = "auditor", _("Auditor (read-only)")


# Roles that may create releases for an application.
CREATORS = {
    BuiltinRole.REQUESTER,
    BuiltinRole.RELEASE_MANAGER,
    BuiltinRole.RELEASE_OWNER,
    BuiltinRole.RELEASE_ADMINISTRATOR,
    BuiltinRole.PROJECT_MANAGER,
}

# The built-in roles' names in Chinese, stored on the Role rows beside the English ones.
CHINESE_NAMES = {
    BuiltinRole.REQUESTER: "发布申请人",
    BuiltinRole.RELEASE_MANAGER: "发布经理",
    BuiltinRole.RELEASE_OWNER: "发布负责人",
    BuiltinRole.RELEASE_ADMINISTRATOR: "发布管理员",
    BuiltinRole.TESTER: "发布测试员",
    BuiltinRole.PROJECT_MANAGER: "项目经理",
    BuiltinRole.CHANGE_OWNER: "变更负责人",
    BuiltinRole.CAB_MEMBER: "变更顾问委员会成员",
    BuiltinRole.DEPARTMENT_APPROVER: "部门负责人",
    BuiltinRole.PMO: "项目管理办公室",
    BuiltinRole.CONFIGURATION_LIBRARIAN: "配置管理员",
    BuiltinRole.OPERATIONS: "运维工程师",
    BuiltinRole.AUDITOR: "审计员(只读)",
}
