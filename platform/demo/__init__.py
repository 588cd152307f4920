"""The demo: loads the sections, roles, pages and menus of fixtures/demo.yaml (used by `make run`)."""
