"""Indexes the report table endpoint needs at a million rows (see docs/performance.md, "Report table endpoint")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_savedview"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="financeinvoice",
            index=models.Index(fields=["deleted_at", "supplier", "amount"], name="reports_inv_live_supplier_amt"),
        ),
    ]
