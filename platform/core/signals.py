"""Signals any app may send without depending on the app that handles them."""

from django.dispatch import Signal

# A security-relevant event (sign-in, denial, grant, …). Sent by `core.security.record_security_event`; the
# accounts app stores it in the SecurityEvent table and writes it to the security log stream.
security_event = Signal()
