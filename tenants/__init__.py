"""The tenancy app: sections, their routing and scoping, section roles, pages and onboarding."""
