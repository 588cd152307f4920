"""`manage.py idp_setup`: migrate the test IdP's database, create its users and Atrium's client application."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = "Prepare the test IdP: migrate, create users (JSON) and the relying party's application."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", required=True, help='JSON: {"fiona": {"password": …, "groups": […]}, …}')
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", required=True)
        parser.add_argument("--post-logout-redirect-uri", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        for username, spec in json.loads(options["users"]).items():
            user = User.objects.create_user(
                username,
                email=spec.get("email", f"{username}@example.com"),
                password=spec["password"],
                first_name=spec.get("first_name", ""),
                last_name=spec.get("last_name", ""),
            )
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in spec.get("groups", [])])
        application_model = get_application_model()
        application_model.objects.create(
            name="Atrium",
            client_id=options["client_id"],
            client_secret=options["client_secret"],  # hashed on save; Atrium keeps the plain text
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
            redirect_uris=options["redirect_uri"],
            post_logout_redirect_uris=options["post_logout_redirect_uri"],
            algorithm=application_model.RS256_ALGORITHM,
            # An in-house application: no consent page (also what makes silent renewal possible).
            skip_authorization=True,
        )
