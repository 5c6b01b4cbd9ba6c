"""command-sender: the worker that transmits telecommands and drives them to a final state."""
