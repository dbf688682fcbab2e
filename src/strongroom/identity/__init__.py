"""Accounts, users, service IDs and API keys: the identities of IAM Identity (spec §4)."""
