"""Navigation: a section's menu items and which groups see them."""
