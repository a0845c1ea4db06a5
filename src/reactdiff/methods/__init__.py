"""Listener reaction generation methods, one folder each, and the registry that names them."""
