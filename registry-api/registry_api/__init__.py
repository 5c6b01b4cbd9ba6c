"""registry-api: the source of truth for the assets operators command."""
