"""Notifications: the outbox of messages about releases, and the channels that deliver them."""
