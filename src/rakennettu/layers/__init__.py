"""Indicator layers: morphological, social and cultural dimensions of the town."""
