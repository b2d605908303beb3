from django.db import migrations


def seed(apps, schema_editor):
    from onewindow.supervision.rules_seed import RULES

    rule = apps.get_model("supervision", "SupervisionRule")
    for code, kind, name, description, parameters in RULES:
        rule.objects.update_or_create(
            code=code,
            defaults={
                "kind": kind,
                "name": name,
                "description": description,
                "parameters": parameters,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
