"""The simulated spacecraft: receives uplinked commands and executes each at most once."""
