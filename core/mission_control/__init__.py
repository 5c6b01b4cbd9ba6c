"""Mission Control core: the one package every service imports."""
