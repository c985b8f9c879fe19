"""Direction -> (prompt, negative prompt) in the text encoder's language.

The words come from the direction glossary (haikei.domain.direction.prompt_terms): English
phrases for an English CLIP encoder, the direction as written for a Japanese encoder. The
engine adds only what the request itself asks for (extra prompt text, the variant's tag).
"""

from __future__ import annotations

from typing import Literal

from haikei.domain.direction import Direction, prompt_terms

__all__ = ["direction_prompt"]


def direction_prompt(
    d: Direction, lang: Literal["en", "ja"], extra: str = "", extra_negative: str = ""
) -> tuple[str, str]:
    prompt, negative = prompt_terms(d, lang)
    sep = "、" if lang == "ja" else ", "
    return sep.join(p for p in (prompt, extra) if p), sep.join(p for p in (negative, extra_negative) if p)
