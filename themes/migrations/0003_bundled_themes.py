"""Ship the two bundled themes: the default and a high-contrast one (created once; admins may edit them later)."""

from django.db import migrations

from themes.bundled import ensure_bundled_themes


def create_bundled_themes(apps, schema_editor):
    ensure_bundled_themes(apps.get_model("themes", "Theme"))


class Migration(migrations.Migration):
    dependencies = [("themes", "0002_theme_colours_and_preferences")]

    operations = [migrations.RunPython(create_bundled_themes, migrations.RunPython.noop)]
