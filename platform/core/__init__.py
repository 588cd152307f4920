"""Building blocks with no domain models: model mixins, write-path helpers, request context, cache, views."""
