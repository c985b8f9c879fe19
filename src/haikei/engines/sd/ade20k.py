"""Region classes -> ADE20K colours, the palette the segmentation ControlNets were trained on.

The seg ControlNets (lllyasviel/sd-controlnet-seg, control_v11p_sd15_seg and their SDXL
cousins) were trained on UperNet/OneFormer predictions drawn in the ADE20K 150-class palette.
A region map is shown to them in that palette; a class the palette has no word for goes along
its vocabulary fallback chain, and past that the render is refused (never guessed).
"""

from __future__ import annotations

import numpy as np

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import RenderRefused

__all__ = ["ADE20K", "HAIKEI_TO_ADE20K", "ade20k_class_for", "seg_condition"]

# ADE20K class name -> (index in the 150-class list, RGB colour of the standard palette).
ADE20K: dict[str, tuple[int, tuple[int, int, int]]] = {
    "wall": (0, (120, 120, 120)),
    "building": (1, (180, 120, 120)),
    "sky": (2, (6, 230, 230)),
    "tree": (4, (4, 200, 3)),
    "road": (6, (140, 140, 140)),
    "windowpane": (8, (230, 230, 230)),
    "grass": (9, (4, 250, 7)),
    "earth": (13, (120, 120, 70)),
    "mountain": (16, (143, 255, 140)),
    "plant": (17, (204, 255, 4)),
    "water": (21, (61, 230, 250)),
    "house": (25, (255, 9, 224)),
    "sea": (26, (9, 7, 230)),
    "field": (29, (112, 9, 255)),
    "fence": (32, (255, 184, 6)),
    "rock": (34, (255, 41, 10)),
    "sand": (46, (160, 150, 20)),
    "path": (52, (255, 31, 0)),
    "river": (60, (11, 200, 200)),
    "bridge": (61, (255, 82, 0)),
    "flower": (66, (255, 0, 0)),
    "hill": (68, (255, 102, 0)),
    "pole": (93, (51, 0, 255)),
    "land": (94, (0, 194, 255)),
}

# haikei.domain.vocabulary default class name -> ADE20K class name.
# ADE20K has no cloud, snow, cliff or roof: they map to the nearest thing the net knows.
HAIKEI_TO_ADE20K: dict[str, str] = {
    "sky": "sky",
    "cloud": "sky",
    "mountain_far": "mountain",
    "mountain": "mountain",
    "hill": "hill",
    "forest": "tree",
    "tree": "tree",
    "bush": "plant",
    "grass": "grass",
    "field": "field",
    "rice_paddy": "field",
    "water": "water",
    "river": "river",
    "sea": "sea",
    "sand": "sand",
    "ground": "earth",
    "road": "road",
    "path": "path",
    "rock": "rock",
    "cliff": "rock",
    "snow": "land",
    "building": "building",
    "roof": "house",
    "wall": "wall",
    "window": "windowpane",
    "fence": "fence",
    "pole": "pole",
    "bridge": "bridge",
    "flower": "flower",
}


def ade20k_class_for(name: str, vocabulary: Vocabulary) -> str:
    """The ADE20K class a haikei class is drawn as, following the fallback chain if needed."""
    if name in HAIKEI_TO_ADE20K:
        return HAIKEI_TO_ADE20K[name]
    for fb in vocabulary.fallback_chain(name):
        if fb in HAIKEI_TO_ADE20K:
            return HAIKEI_TO_ADE20K[fb]
    raise RenderRefused(
        f"region class {name!r} has no ADE20K colour for the seg ControlNet and none of its fallbacks "
        f"({', '.join(vocabulary.fallback_chain(name)) or 'none'}) has one; give it a fallback to a "
        "standard class in haikei.toml or remove the seg ControlNet from [engines.sd]"
    )


def seg_condition(regions: np.ndarray, vocabulary: Vocabulary) -> np.ndarray:
    """HxW class ids -> HxWx3 uint8 in the ADE20K palette. UNLABELLED stays black (no class)."""
    lut = np.zeros((256, 3), np.uint8)
    for cid in np.unique(regions):
        if int(cid) == UNLABELLED:
            continue
        ade = ade20k_class_for(vocabulary.name_of(int(cid)), vocabulary)
        lut[int(cid)] = ADE20K[ade][1]
    return lut[regions]
