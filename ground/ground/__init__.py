"""ground: the operators' web page and the telecommand API."""
