"""Webhooks: signed event delivery to the customer's own endpoints (docs/webhooks.md)."""
