"""Bug reports with screenshots, sent from any page; routed to the section's support and triaged there."""
