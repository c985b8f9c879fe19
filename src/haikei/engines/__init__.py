"""Engines turn (layout, art boards, direction, seed, optional mask/init) into an image."""
