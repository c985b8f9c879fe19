"""The size limits haikei enforces, stated once (see specs/architecture.md, "Limits").

A production may change them in haikei.toml's ``[limits]`` (``haikei.settings.LimitsSection``, whose
defaults are these); every check in the code base reads them from here or from that section:

* ``max_frame_side``: a frame's width or height, in a cut sheet, ``haikei init --size`` or
  ``haikei paint --size`` (8192: twice a 4K frame);
* ``max_pan_length``: how far a PAN travels (the long side of a PAN BG), in a cut sheet;
  16384 at most, the largest side an engine paints (haikei.engines.base);
* ``max_pixels``: any image haikei reads (layouts, region maps, art boards, uploads, blobs) and any
  BG it would make. It is checked from an image's header, before decoding; haikei.imaging.io ties
  Pillow's decompression-bomb guard (89 Mpx by default) to this limit, so that one limit holds.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    max_frame_side: int = 8192
    max_pan_length: int = 16384
    max_pixels: int = 120_000_000  # ~ 16k x 7.5k: long PAN BGs fit, decompression bombs do not

    def describe_pixels(self) -> str:
        return f"{self.max_pixels / 1_000_000:g} Mpx"


DEFAULT_LIMITS = Limits()
