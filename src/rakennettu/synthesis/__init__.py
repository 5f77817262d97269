"""Synthesis: analysis units, normalisation, scores, synergy and candidate ranking."""
