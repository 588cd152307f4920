"""Accounts: the user model, the directories users come from, group mirroring, sign-in and sign-out."""
