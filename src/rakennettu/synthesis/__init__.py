"""Synthesis: analysis grid, normalised scores, synergy index and candidate ranking."""
