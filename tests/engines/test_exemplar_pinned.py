"""Today's pixels, pinned: sha256 of the image and source map of a render, a retake, a refine and
variants of the tiny test fixtures (and the baseline's and the tiny sd model's).

The painter's code is re-arranged (stages, caches, shared option parsing) without any intent to
change a pixel; these digests prove it. A change that is meant to change pixels updates the pin in
the same commit and says why. The digests are of this project's numba kernels on this CPU family;
a machine whose floating point differs (another SIMD width under fastmath) may need its own
(``pytest --pins`` is not offered on purpose: re-pin by hand, after looking at the pictures).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from haikei.engines.base import BoardInput, EngineContext, RenderRequest, RenderResult
from haikei.engines.baseline import BaselineEngine
from haikei.engines.exemplar import create
from tests.engines.contract import VOCAB, tiny_board, tiny_layout

# line_style ink draws the layout's strokes in the boards' own line colour and weight (issue 17 item 1,
# lines.lay_in_ink; the tiny fixture board draws no outlines: the fallback, each stroke as the layout
# drew it in the darker side's own tone) instead of darkening the paint: the ink digests changed.
PINS = {
    "render": "71d76fa7a2c63c92febb3bd54c697a47eed48034de22643590e3084206f8e0a2",
    "render_96x160": "0656309264c991844ad6482349040dde7cdd1c9c42fbafaef55483643dade026",
    "render_no_seam_blend": "4182c4d15d1e57ff626b3af5812b5dc64c5b96595ea4ab9ab22b063b900ffd1c",
    "render_palette_classes": "e313fd5084f499c648912f373d5105b3fe2d709d21ba39cb0216fe4105dd4f24",
    "retake": "eb7fc8a73039666f97091a0ea7ad9928525147bab5e02d4460f13645392223ec",
    "refine": "85ebc73187a95b1ae0bf5d7ffb80061fb18409408726979d6a1eacad0258f864",
    "variant_with_parent": "fbcc4c345c1fbc636fef5ced2e707e5aa4f7e93d32fe48f5aff0b9e2fef8d901",
    "variant_without_parent_image": "c537aa1fe8e4205f727695fe6627375eb5c14dbfeceab1b8081ae92d4a229b2f",
    "variant_palette_classes": "6b61952089244968d076d83a3674434622c33d6feb052d6668fb044f302b9dd6",
    "variant_board_scale": "ef0ae72e295130a8fc0f33fa39459b5322aee5c57a08f13533e018599a24b758",
    "baseline_render": "c283c2e74e1ddaba1d6a1d170c13f87ea290b439d9dd804cbc10e91b4ab70ab1",
    "baseline_retake": "9fe49184a19b64760cf225290c86e5e6d66bd38aa452da692d176c34d0b42f1c",
    "sd_tiny_render": "7792887259d31965768b930ab0c5c846b9b44017e86d3ec9435b6a0ffee4fced",
}

# the default line_style (auto: paint on the tiny fixture board, which draws no outlines) changed the
# picture: the layout's strokes became form instead of darkened lines (issue 17 item 1); PINS above are
# line_style=ink
PAINT_PINS: dict[str, str] = {
    "render": "acc5c7e53755e4f1031faf05894e921b94c201edba8dfe24714dc031360ca7c4",
    "render_96x160": "4b21b26d46228b2cc4eb64f2b4380ed68854e2b3045733c5c9a285b8a19c668e",
    "render_no_seam_blend": "76115a2d1e968387e0c51aadd7f9d58d76f637f96eb2a35b77be73dcf8acfb3b",
    "retake": "e237f11dc9b663d1827a6d074bd0e0ec1929f84794ff5a384ef7f6f630bc3944",
    "refine": "0e5d6ca98126e0161b669b95cba13e13baeb5afae7fb7deeb2b97f30c38cd0bb",
    "variant_with_parent": "91e76f1b414335ff4ad09e90b1760c72bc4acbdccc079919e4cf27c110253d0a",
    "variant_without_parent_image": "ef6cdee730d7b5f03d0be664cb5b689288b68af86dcc813041911150de33c8fd",
    "render_palette_classes": "08018f8f5baf2741a19f52fdf77e08784d1837be2fcab8b23967af1a7409d127",
    "variant_palette_classes": "f92c6babb6a06ac8326a6ede3513048594729940283ecb07f198f84977f8ef94",
    "variant_board_scale": "c1cf8839d5ada8539823daa3c5f11efcae16829d6d3cfb72662fbeffe3c11cd4",
    "baseline_render": PINS["baseline_render"],
    "baseline_retake": PINS["baseline_retake"],
    "sd_tiny_render": PINS["sd_tiny_render"],
}


def _digest(res: RenderResult) -> str:
    h = hashlib.sha256(np.ascontiguousarray(res.image).tobytes())
    if res.source_map is not None:
        h.update(np.ascontiguousarray(res.source_map, np.int32).tobytes())
    return h.hexdigest()


def _render(req: RenderRequest, engine: object | None = None) -> RenderResult:
    return (engine or create({})).render(req, EngineContext())  # type: ignore[attr-defined,no-any-return]


def _evening(b: BoardInput) -> BoardInput:
    evening = (b.image.astype(np.float32) * np.array([0.9, 0.6, 0.5])).astype(np.uint8)
    return BoardInput(key=b.key, image=b.image, labels=b.labels, variants={"evening": evening})


def _house_board() -> BoardInput:
    b = tiny_board()
    labels, img = b.labels.copy(), b.image.copy()
    labels[30:44, 10:40] = VOCAB.id_of("building")
    img[30:44, 10:40] = (180, 40, 40)
    evening = (img.astype(np.float32) * np.array([0.9, 0.6, 0.5])).astype(np.uint8)
    return BoardInput(key="withhouse", image=img, labels=labels, variants={"evening": evening})


def _palette_layout() -> tuple[np.ndarray, np.ndarray]:
    """Board classes, a fallback (field), a derived wall and path, a board building and a cloud."""
    lines, regions = tiny_layout(72, 120)
    regions, lines = regions.copy(), lines.copy()
    yy, xx = np.mgrid[0:72, 0:120]
    regions[((yy - 9) / 6.0) ** 2 + ((xx - 40) / 18.0) ** 2 < 1.0] = VOCAB.id_of("cloud")
    regions[40:62, 8:40] = VOCAB.id_of("building")
    regions[40:62, 60:100] = VOCAB.id_of("wall")
    lines[40:62, 24] = 0
    regions[-8:, :] = VOCAB.id_of("field")
    regions[-8:, 100:] = VOCAB.id_of("path")
    return lines, regions


def _req(lines: np.ndarray, regions: np.ndarray, **changes: object) -> RenderRequest:
    base: dict[str, object] = dict(
        lines=lines, regions=regions, boards=(tiny_board(),), seed=3, vocabulary=VOCAB
    )
    base.update(changes)
    return RenderRequest(**base)  # type: ignore[arg-type]


def _cases(config: dict[str, object] | None = None) -> dict[str, RenderResult]:
    """Every pinned case, rendered by exemplar engines made with ``config`` (``[engines.exemplar]``)."""
    config = config or {}
    out: dict[str, RenderResult] = {}
    eng = create(config)
    out["render"] = _render(_req(*tiny_layout(48, 72)), eng)
    out["render_96x160"] = _render(_req(*tiny_layout(96, 160)), eng)
    out["render_no_seam_blend"] = _render(
        _req(*tiny_layout(96, 160), options={"seam_blend": 0}), create(config)
    )
    lines, regions = tiny_layout(120, 200)
    parent = _render(_req(lines, regions), eng)
    mask = np.zeros(regions.shape, bool)
    mask[70:100, 20:60] = True
    out["retake"] = _render(
        _req(lines, regions, mask=mask, init=parent.image, seed=9, init_source_map=parent.source_map), eng
    )
    lines, regions = tiny_layout(64, 96)
    first = _render(_req(lines, regions, seed=1), eng).image
    out["refine"] = _render(_req(lines, regions, seed=2, init=first, options={"refine_strength": 0.8}), eng)

    # variants, on one engine (its caches in play) and with the parent image or its source map only
    board = _evening(tiny_board())
    lines, regions = tiny_layout(96, 160)
    parent = _render(_req(lines, regions, boards=(board,)), eng)
    var = _req(
        lines,
        regions,
        boards=(board,),
        variant="evening",
        init=parent.image,
        init_source_map=parent.source_map,
    )
    out["variant_with_parent"] = _render(var, eng)
    out["variant_without_parent_image"] = _render(replace(var, init=None), eng)
    house = _house_board()
    lines, regions = _palette_layout()
    hp = _render(_req(lines, regions, boards=(house,)), eng)
    out["render_palette_classes"] = hp
    out["variant_palette_classes"] = _render(
        _req(
            lines, regions, boards=(house,), variant="evening", init=hp.image, init_source_map=hp.source_map
        ),
        eng,
    )
    opts = {"board_scale": 0.75}
    lines, regions = tiny_layout(48, 72)
    sp = _render(_req(lines, regions, boards=(board,), options=opts), create(config))
    out["variant_board_scale"] = _render(
        _req(
            lines, regions, boards=(board,), options=opts, variant="evening", init=sp.image,
            init_source_map=sp.source_map,
        ),
        create(config),
    )  # fmt: skip

    base = BaselineEngine()
    lines, regions = tiny_layout(48, 72)
    bp = _render(_req(lines, regions), base)
    out["baseline_render"] = bp
    mask = np.zeros(regions.shape, bool)
    mask[20:40, 10:50] = True
    out["baseline_retake"] = _render(_req(lines, regions, mask=mask, init=bp.image, seed=4), base)
    return out


@pytest.fixture(scope="module")
def results() -> dict[str, RenderResult]:
    return _cases()


@pytest.fixture(scope="module")
def results_ink() -> dict[str, RenderResult]:
    return _cases({"line_style": "ink"})


@pytest.mark.parametrize("case", [c for c in PAINT_PINS if not c.startswith("sd_")])
def test_pixels_are_pinned(case: str, results: dict[str, RenderResult]) -> None:
    assert _digest(results[case]) == PAINT_PINS[case]


@pytest.mark.parametrize("case", [c for c in PINS if not c.startswith(("sd_", "baseline_"))])
def test_line_style_ink_pixels_are_pinned(case: str, results_ink: dict[str, RenderResult]) -> None:
    """line_style ink: the layout's strokes drawn in the boards' own line (PINS, see above)."""
    assert _digest(results_ink[case]) == PINS[case]


def test_sd_tiny_pixels_are_pinned(tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("diffusers")
    from haikei.engines.sd import create as create_sd
    from tests.engines import sd_tiny

    paths = sd_tiny.tiny_models(Path(tmp_path_factory.getbasetemp()) / "sd_tiny")
    engine = create_sd(sd_tiny.engine_config(paths))
    lines, regions = tiny_layout()
    res = _render(_req(lines, regions, seed=5), engine)
    assert _digest(res) == PINS["sd_tiny_render"]


if __name__ == "__main__":  # print the digests (to pin them after a change meant to change pixels)
    import sys

    for name, res in _cases({"line_style": "ink"} if "--ink" in sys.argv else None).items():
        print(f'    "{name}": "{_digest(res)}",')
    if "--sd" in sys.argv:
        import tempfile

        from haikei.engines.sd import create as create_sd
        from tests.engines import sd_tiny

        paths = sd_tiny.tiny_models(Path(tempfile.mkdtemp()) / "sd_tiny")
        lines, regions = tiny_layout()
        print(
            f'    "sd_tiny_render": "{_digest(_render(_req(lines, regions, seed=5), create_sd(sd_tiny.engine_config(paths))))}",'
        )
