"""The exemplar engine's options: typed, bounded, described (CLI help and web forms use them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ExemplarOptions"]

PaletteWant = Literal[
    "darker",
    "lighter",
    "warmer",
    "cooler",
    "more_saturated",
    "greyer",
    "greener",
    "redder",
    "bluer",
    "yellower",
    "dry_earth",
]


class ExemplarOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    patch_size: int = Field(
        5, ge=3, le=7, description="Patch side in pixels (odd): 3 is fast, 7 copies larger strokes."
    )
    search_max_side: int = Field(
        1024,
        ge=128,
        le=4096,
        description="Patches are searched at about half the output size, with a long side between half this and "
        "this; matches are then carried to full size and the board's full-resolution paint is voted.",
    )
    iterations: int = Field(
        4, ge=1, le=12, description="PatchMatch passes on the coarsest level; finer levels use about half."
    )
    colour_weight: float = Field(
        1.0, ge=0.0, le=10.0, description="Weight of the current painting estimate (coherence)."
    )
    position_weight: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Weight of the position-in-region guide (sky gradients, peaks at the top).",
    )
    position_noise: float = Field(
        0.12,
        ge=0.0,
        le=0.5,
        description="Low-frequency noise added to the layout's position guide against rows and tiling.",
    )
    line_weight: float = Field(
        0.6, ge=0.0, le=10.0, description="Weight of the side-aware distance-to-line guide."
    )
    orientation_weight: float = Field(
        0.2, ge=0.0, le=10.0, description="Weight of the line-orientation guide."
    )
    line_falloff: float = Field(
        3.0, ge=0.5, le=20.0, description="Distance (working pixels) over which a line's guide fades."
    )
    board_edge_quantile: float = Field(
        0.9,
        ge=0.5,
        le=0.995,
        description="Board luminance edges stronger than this quantile count as its 'lines'.",
    )
    occurrence_weight: float = Field(
        0.15,
        ge=0.0,
        le=2.0,
        description="Penalty per over-use of one board pixel (against visible repetition).",
    )
    vote_sharpness: float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="How strongly good matches outweigh poor ones in voting (0 = plain average).",
    )
    light_angle: float = Field(
        135.0,
        ge=0.0,
        lt=360.0,
        description="Direction the light comes from, degrees counter-clockwise from +x (135 = upper left).",
    )
    # 0.6: at 0.45 the far, dense lines of a layout (paddy borders near the horizon) faded out of the
    # painting (rice_fields 1080p line recall .91); at 0.6 they read (.97) and still shade, not ink
    line_darkening: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="How much the layout's ink darkens natural areas (0 = lines vanish, 1 = full ink).",
    )
    line_style: Literal["auto", "paint", "ink"] = Field(
        "auto",
        description="How the layout's lines go into the painting: paint (region borders as colour / value edges, "
        "interior strokes as form: light on one side, shade on the other), ink (drawn lines: line_darkening, "
        "structure_line_strength), auto (ink only when the boards' own painting draws dark lines along their "
        "label borders).",
    )
    # 0.2 (with lines.FORM_SIGMA 1.0): at 0.1 the terrace borders of rice_terraces faded (line F1 .61,
    # under the baseline's .62); at 0.2 the bench's line F1 is within .07 of line_style ink's on every
    # case (rice_fields .79 against .86), ink .13-.76 L*; 0.24 gained .01-.05 F1 but cost region mIoU
    # (rice_terraces .67 -> .65) and looked embossed
    line_form: float = Field(
        0.2,
        ge=0.0,
        le=0.5,
        description="line_style paint: how much lighter / darker the two sides of a layout stroke are painted.",
    )
    glaze: float = Field(
        0.03,
        ge=0.0,
        le=0.3,
        description="Gentle low-frequency tonal variation over natural areas (a wash is never perfectly even).",
    )
    structure_line_strength: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Opacity of the crisp lines on man-made areas (in the palette's darkest colour).",
    )
    texture_strength: float = Field(
        1.0, ge=0.0, le=3.0, description="Board paper/brush texture laid over man-made flats."
    )
    seam_blend: int = Field(
        4,
        ge=0,
        le=16,
        description="Where neighbouring matches copy differently toned places of a board, blend their low "
        "tones over about this many working pixels instead of a hard step (0 = off).",
    )
    brush_strength: float = Field(
        1.0,
        ge=0.0,
        le=3.0,
        description="Brush strokes laid over areas painted from a palette (walls, roads, sand); 1 = as strong "
        "as the board's own fine tonal detail, 0 = none.",
    )
    board_scale: float | None = Field(
        None,
        gt=0.05,
        le=4.0,
        description="Scale applied to boards before copying; default: boards are treated as full frames and "
        "shrunk to the render size (never enlarged).",
    )
    refine_strength: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Refine pass (init without mask): how much the init image steers each level.",
    )
    seam_feather: int = Field(
        8, ge=1, le=128, description="Retake: width of the blend inside the mask edge, in pixels."
    )
    retake_margin: int = Field(
        24, ge=4, le=512, description="Retake: context around the mask's bounding box, in pixels."
    )
    palette_adjust: tuple[tuple[PaletteWant, Annotated[float, Field(ge=0.0, le=1.0)]], ...] = Field(
        (),
        description="Retake: a note's colour words as (want, amount 0..1): the masked area moves toward the part of "
        "its boards' paint that answers them (see engines.exemplar.adjust).",
    )
    min_class_pixels: int = Field(
        64, ge=1, le=100000, description="A board shows a class only with at least this many labelled pixels."
    )

    max_reuse: float = Field(
        6.0,
        ge=1.0,
        le=100.0,
        description="A board class paints a layout area only if its paint need not be re-used more than this "
        "many times over; smaller (an object on the board, not a surface) falls back or is derived.",
    )
    fallback_min_share: float = Field(
        0.02,
        ge=0.0,
        le=0.5,
        description="A fallback class must cover at least this share of a board's labelled area.",
    )

    @field_validator("patch_size")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("patch_size must be odd (3, 5 or 7)")
        return v
