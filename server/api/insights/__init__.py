"""The API's insights routes (reports), a folder of their own beside the other API modules."""

from server.api.insights import reports  # noqa: F401  (registers the routes on bp)
