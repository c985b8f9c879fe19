"""Black-box quality metrics of any painting against its layout and art boards, and the bench runner."""

from haikei.quality.ink import InkScore, ink_darkness
from haikei.quality.metrics import (
    QualityScores,
    Reference,
    line_f1,
    prepare_reference,
    region_miou,
    repetition_rate,
    score_painting,
    style_distance,
)

__all__ = [
    "InkScore",
    "QualityScores",
    "Reference",
    "ink_darkness",
    "line_f1",
    "prepare_reference",
    "region_miou",
    "repetition_rate",
    "score_painting",
    "style_distance",
]
