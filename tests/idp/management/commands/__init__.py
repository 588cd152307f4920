"""`idp_setup`: prepare the test identity provider's database."""
