"""Signals other apps listen to, so tenants does not depend on them."""

from django.dispatch import Signal

# Sent inside the onboarding transaction with `section`, `actor` and `reason`; receivers add starter content
# (the navigation app adds the starter menu).
section_onboarded = Signal()
