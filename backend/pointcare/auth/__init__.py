"""Accounts, roles, passwords, browser sessions and API tokens."""
