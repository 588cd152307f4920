"""`manage.py import_section FILE --dry-run|--apply [--create] [--actor USERNAME]`: promote a section bundle.

The dry run prints, field by field, what the import would create (+), change (~) and delete (-); `--apply`
applies exactly that in one transaction through the services, with the bundle's origin as the change reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.bundles import BundleError, ImportPlan, apply_import, dry_run, loads


class Command(BaseCommand):
    help = (
        "Import a section bundle made by `export_section`. Run with --dry-run first and read the difference; "
        "then --apply, which changes everything in one transaction or nothing at all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The bundle file (JSON) written by export_section.")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")
        mode.add_argument("--apply", action="store_true", help="Apply the bundle in one transaction.")
        parser.add_argument(
            "--create", action="store_true", help="Create the section if it does not exist in this environment."
        )
        parser.add_argument("--actor", help="Username recorded on the history rows as the one who imported.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = Path(options["file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"There is no user “{options['actor']}” to record as the importer.")
        try:
            bundle = loads(text)
            if options["apply"]:
                plan = apply_import(bundle, actor=actor, create=options["create"])
            else:
                plan = dry_run(bundle, create=options["create"])
        except BundleError as exc:
            raise CommandError(f"Refused, nothing imported: {exc}") from exc
        self._report(plan, applied=bool(options["apply"]))

    def _report(self, plan: ImportPlan, *, applied: bool) -> None:
        origin = plan.bundle["origin"]
        slug = plan.bundle["section"]["slug"]
        self.stdout.write(
            f"Bundle for section {slug} from {origin['environment']} "
            f"(Atrium {origin['atrium_version']}, schema v{plan.bundle['schema_version']}, "
            f"exported {origin['exported_at']})"
        )
        for line in plan.lines():
            self.stdout.write(line)
        if not plan.has_changes:
            return
        if applied:
            self.stdout.write(self.style.SUCCESS(f"Applied: {plan.summary()}."))
        else:
            self.stdout.write(f"Dry run: {plan.summary()}; nothing was changed. Run with --apply to import.")
