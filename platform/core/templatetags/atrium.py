"""Small template filters used across the platform's pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django import template

from core.cache import versioned_get

register = template.Library()


@register.filter
def duration_words(value: timedelta | None) -> str:
    """A duration a person reads at a glance: "15 minutes", "1 hour 30 minutes", "45 seconds"."""
    if not isinstance(value, timedelta):
        return "a while"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs and not hours:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts) or "a moment"


class FragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList, parts: list[template.base.FilterExpression]) -> None:
        self.nodelist = nodelist
        self.parts = parts

    def render(self, context: template.Context) -> str:
        values = [str(part.resolve(context)) for part in self.parts]
        key = "fragment:" + hashlib.sha256("\x1f".join(values).encode()).hexdigest()
        return str(versioned_get(key, lambda: self.nodelist.render(context), 600))


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    """`{% fragment part1 part2 … %}…{% endfragment %}`: render once per distinct key, keep it in memory.

    Every value the content depends on must be one of the parts (include a version, e.g. the sections generation,
    so a configuration change makes a new key). Use it for per-user chrome such as the header.
    """
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("{% fragment %} needs at least one key part.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, [parser.compile_filter(bit) for bit in bits])
