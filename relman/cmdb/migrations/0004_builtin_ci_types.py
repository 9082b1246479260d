"""The built-in configuration item types. Organisations add their own next to them."""

from django.db import migrations

TEXT = {"type": "string", "maxLength": 200}


def _schema(**properties):
    return {"type": "object", "properties": properties}


BUILTIN = [
    (
        "application",
        "Application",
        False,
        _schema(language=TEXT, repository=TEXT, vendor=TEXT),
    ),
    (
        "service",
        "Service",
        True,
        _schema(
            criticality={"type": "string", "enum": ["low", "medium", "high", "critical"]},
            hours=TEXT,
            sla_percent={"type": "number", "minimum": 0, "maximum": 100},
        ),
    ),
    (
        "server",
        "Server",
        False,
        _schema(
            hostname=TEXT,
            ip_address=TEXT,
            os=TEXT,
            cpu={"type": "integer", "minimum": 1},
            memory_gb={"type": "number", "minimum": 0},
        ),
    ),
    (
        "database",
        "Database",
        False,
        _schema(engine=TEXT, version=TEXT, size_gb={"type": "number", "minimum": 0}),
    ),
    (
        "network_device",
        "Network device",
        False,
        _schema(vendor=TEXT, model=TEXT, ip_address=TEXT, location=TEXT),
    ),
    ("workstation", "Workstation", False, _schema(hostname=TEXT, os=TEXT, location=TEXT)),
    ("document", "Document", False, _schema(url=TEXT, version=TEXT)),
]


def create_types(apps, schema_editor):
    CIType = apps.get_model("cmdb", "CIType")
    for code, name, is_service, schema in BUILTIN:
        CIType.objects.get_or_create(
            code=code, defaults={"name": name, "is_service": is_service, "schema": schema}
        )


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0003_ci_indexes")]

    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
