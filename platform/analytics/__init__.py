"""User journey analytics: page views, time on page, daily aggregates and the dashboards built on them."""
