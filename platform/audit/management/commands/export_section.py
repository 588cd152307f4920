"""`manage.py export_section SLUG [--output FILE]`: write a section's configuration bundle (stdout by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.bundles import BundleError, dumps, export_section
from tenants.models import Section


class Command(BaseCommand):
    help = (
        "Export a section's whole configuration (settings, roles by group name, pages, menu and group mapping) "
        "as one versioned JSON bundle, by natural keys only, for `import_section` in another environment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The section's slug, e.g. finance.")
        parser.add_argument("--output", "-o", help="Write the bundle to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        section = Section.objects.filter(slug=options["slug"]).first()
        if section is None:
            raise CommandError(f"There is no section “{options['slug']}”.")
        try:
            text = dumps(export_section(section))
        except BundleError as exc:
            raise CommandError(str(exc)) from exc
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            # To stderr, so that `--output -`-style pipelines and scripts reading stdout stay clean.
            self.stderr.write(f"Exported section {section.slug} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
