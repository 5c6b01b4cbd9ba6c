"""robot-server: the fleet hub robots talk to (docs/robot-server.md)."""
