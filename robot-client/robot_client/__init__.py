"""robot-client: simulated robots and modules (docs/robot-client.md)."""
