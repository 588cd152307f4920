"""Admin app configuration that installs Atrium's admin site as the default."""

from django.contrib.admin.apps import AdminConfig


class AtriumAdminConfig(AdminConfig):
    """Replaces Django's default admin site with `atrium.admin.AtriumAdminSite`."""

    default_site = "atrium.admin.AtriumAdminSite"
