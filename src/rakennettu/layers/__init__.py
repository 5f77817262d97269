"""Layers: morphological, social and cultural indicators computed from a Town."""
