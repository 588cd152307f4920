"""Root URL configuration: the platform's routes first, then every section at /<section_slug>/.

A section slug can never shadow a platform route: `tenants.slugs.RESERVED_SLUGS` refuses them, and the system
check `tenants.E001` fails if a route's first segment is missing from that list.
"""

from django.contrib import admin
from django.urls import include, path

from audit import bundle_views
from core import views as core_views
from tenants import views as tenant_views

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

platform_patterns = [
    path("", tenant_views.home, name="home"),
    # Browsers ask for /favicon.ico on responses with no <link rel="icon">: JSON from the API, files, plain text.
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Section bundles live beside the Section admin pages and behind the admin's own login and MFA.
    path(
        "admin/tenants/section/import-bundle/",
        admin.site.admin_view(bundle_views.import_bundle),
        name="admin-section-bundle-import",
    ),
    path(
        "admin/tenants/section/<int:pk>/bundle/",
        admin.site.admin_view(bundle_views.export_bundle),
        name="admin-section-bundle-export",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("audit/", include("audit.urls")),
    path("components/", include("core.urls")),
    path("jobs/", include("jobs.urls")),
    path("reports/", include("reports.urls")),
    path("catalog/", include("reports.catalog_urls")),
    path("feedback/", include("feedback.urls")),
    path("analytics/", include("analytics.urls")),
    path("", include("themes.urls")),
    path("", include("monitoring.urls")),
]

urlpatterns = [
    *platform_patterns,
    path("<slug:section_slug>/", include("tenants.urls")),
]
