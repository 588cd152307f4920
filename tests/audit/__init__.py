"""Tests of the audit app: change history, timelines, exports and who may read them."""
