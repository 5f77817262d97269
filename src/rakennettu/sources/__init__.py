"""Loaders: OpenStreetMap (local file or online), municipal layers, tag tables."""
