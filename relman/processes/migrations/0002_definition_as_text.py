import hashlib
import json
from pathlib import Path

from django.db import migrations, models


def restore_file_order(apps, schema_editor):
    """jsonb kept the keys of stored definitions in its own order. Where a version's source
    file is still there, unchanged (same checksum), read its order back from the file."""
    import yaml

    ProcessVersion = apps.get_model("processes", "ProcessVersion")
    for version in ProcessVersion.objects.all():
        path = Path(version.source)
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(raw).hexdigest() == version.checksum:
            version.definition = json.dumps(yaml.safe_load(raw), ensure_ascii=False)
            version.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="processversion",
            name="definition",
            field=models.TextField(verbose_name="definition (JSON)"),
        ),
        migrations.RunPython(restore_file_order, migrations.RunPython.noop),
    ]
