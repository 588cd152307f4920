"""`manage.py create_break_glass_admin USERNAME`: create (or re-key) the local emergency platform admin."""

from __future__ import annotations

import base64
import getpass
import sys
from typing import Any

import segno
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import DirectorySource, User


class Command(BaseCommand):
    help = (
        "Create the local break-glass platform admin (works when LDAP and SSO are down; needs a TOTP code). "
        "Prints the authenticator secret once; store it in the vault with the password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input (for automation)."
        )
        parser.add_argument("--rekey", action="store_true", help="Replace the authenticator secret of an existing one.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        existing = User.objects.filter(username=username).first()
        if existing and existing.source != DirectorySource.LOCAL:
            raise CommandError(f"{username!r} is a {existing.source} user; choose a name no directory uses.")
        if existing and not options["rekey"]:
            raise CommandError(f"{username!r} exists already; use --rekey to give it a new authenticator secret.")
        password = sys.stdin.readline().rstrip("\n") if options["password_stdin"] else None
        if not existing and password is None:
            password = getpass.getpass("Password: ")
        with transaction.atomic():
            user = existing or User(username=username, source=DirectorySource.LOCAL, email=options["email"])
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
                user.set_password(password)
            user.is_superuser = user.is_staff = user.is_active = True
            user.save()
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="break-glass", confirmed=True)
        secret = base64.b32encode(device.bin_key).decode()
        self.stdout.write(self.style.WARNING(f"Break-glass admin {username!r} ready. Authenticator secret: {secret}"))
        self.stdout.write(device.config_url)
        if self.stdout.isatty():
            segno.make(device.config_url, error="m").terminal(out=sys.stdout, compact=True)
