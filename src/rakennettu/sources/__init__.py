"""Loaders and source adapters: OSM features, tag tables, building attributes."""
