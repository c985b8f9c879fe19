"""The built-in ``exemplar`` engine: paints layouts from the studio's own labelled art boards.

How it paints (modules in reading order; ``engine.render`` calls the stages as numbered steps):

- ``plan``: the window to paint, the class plans (``boards``: each layout class is painted from
  itself, else from the first class of its fallback chain that a board shows, else from a palette
  derived from the boards; among boards showing it, those whose tags best match the direction
  win), the synthesis slots and scales (:class:`.plan.Plan`), the pyramid.
- ``synthesis``: the boards at the render's scale, the layout's ``guides`` (position-in-region
  + low-frequency noise against rows and tiling, side-aware distance to lines, line orientation),
  coarse-to-fine PatchMatch (``kernels``, numba, ``cache=True``) at about half the output size
  with a hard label constraint on every candidate, an occurrence penalty against re-using one
  board area, deterministic stripe-parallel search and gather-form match-weighted voting; the
  matches carried to full size and the boards' full-resolution paint voted, seams blended.
- ``compose``: palette classes (``painters``, ``structured``: man-made classes as flat faces from
  the board palette, shaded per face, with the board's grain, brushwork and crisp lines; derived
  surfaces; clouds), the layout's lines laid in, a retake put into its parent.
- ``variant``: re-votes the parent's correspondences over an aligned board repaint (no search),
  from the parent's plan.
- ``cache``: the one bounded cache type behind everything kept between renders.

Lines (``lines``, ``line_style``): the layout's strokes always steer light and shade through the
guides. ``paint`` (what ``auto`` picks unless the boards' own painting draws dark outlines along
their label borders) turns them into form, lighter on the side facing the light and darker on the
other (``line_form``), and lets man-made faces meet as tones; ``ink`` darkens natural paint along
them (``line_darkening``; the weight varies along the line like a hand-drawn one) and draws man-made
lines crisp in the palette's darkest colour (``structure_line_strength``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from haikei.engines.exemplar.engine import ExemplarEngine
from haikei.engines.exemplar.options import ExemplarOptions

__all__ = ["ExemplarEngine", "ExemplarOptions", "create"]


def create(config: Mapping[str, Any] | None = None) -> ExemplarEngine:
    """Entry-point factory; ``config`` is the ``[engines.exemplar]`` table (option defaults)."""
    return ExemplarEngine(dict(config or {}))
