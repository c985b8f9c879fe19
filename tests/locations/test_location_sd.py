"""The sd engine with an IP-Adapter paints a located BG in the style of its location board: the
location board comes first in the request (services/locations.py), and the engine's style
reference is its first board, so the pixels that reach the IP-Adapter's image encoder are the
approved BG of the place, not a production board. Tiny random sd models on CPU (the pictures are
noise; which image reaches the encoder is what is checked, with a forward hook on the real encoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from haikei.imaging.io import load_rgb  # noqa: E402
from haikei.store.tables import ArtBoardRow  # noqa: E402
from tests.engines import sd_tiny  # noqa: E402


def _clip_input(img: np.ndarray, size: int) -> Any:
    """An image as CLIP's image encoder takes it (resized square, CLIP's mean / std)."""
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
    x = torch.nn.functional.interpolate(
        x, size=(size, size), mode="bicubic", align_corners=False, antialias=True
    )
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073])[None, :, None, None]
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711])[None, :, None, None]
    return (x - mean) / std


@pytest.mark.slow
def test_the_location_board_is_the_ip_adapter_style_reference(place, tmp_path: Path) -> None:
    from haikei.services.rendering import render_backgrounds
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import get_user

    paths = sd_tiny.tiny_models(tmp_path / "sd_tiny")
    weights, encoder = sd_tiny.save_ip_adapter(tmp_path, paths["sd15"])
    place.settings.engines["sd"] = sd_tiny.engine_config(
        paths, ip_adapter={"path": str(weights), "image_encoder": str(encoder), "scale": 1.0}
    )
    # c001 painted and approved: it becomes the location board of 'house'
    (v1,) = render_backgrounds(place, ["c001"], engine="exemplar", candidates=1, actor="aki")
    approve(place, get_user(place, "haruka"), "c001", v1.id, bg_detail(place, "c001").bg.lock_version)
    with place.db.session() as s:
        board = s.query(ArtBoardRow).filter_by(source_version_id=v1.id).one()
        tiny = s.query(ArtBoardRow).filter_by(name="tiny").one()
        board_name, board_img = board.name, load_rgb(place.blobs.get(board.image_blob))
        tiny_img = load_rgb(place.blobs.get(tiny.image_blob))
    # watch what the real IP-Adapter image encoder is given while c002 (same place) is painted
    enc = place.engine("sd").models.image_encoder
    seen: list[Any] = []
    hook = enc.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().float().cpu()))
    try:
        (v2,) = render_backgrounds(place, ["c002"], engine="sd", candidates=1, actor="aki")
        (v3,) = render_backgrounds(place, ["c003"], engine="sd", candidates=1, actor="aki")  # elsewhere
    finally:
        hook.remove()
    assert len(seen) == 2
    size = int(enc.config.image_size)
    want, production = _clip_input(board_img, size), _clip_input(tiny_img, size)
    assert torch.allclose(seen[0], want, atol=1e-3), "c002's style reference is not its location board"
    assert not torch.allclose(seen[0], production, atol=1e-2)
    # a BG at no location keeps today's style reference: the production's board
    assert torch.allclose(seen[1], production, atol=1e-3)
    loc = v2.recipe["inputs"]["location"]
    assert [b["name"] for b in loc["boards"]] == [board_name] and v2.recipe["engine_recipe"][
        "ip_adapter"
    ] == {"scale": 1.0, "style_boards": [loc["boards"][0]["hash"]]}
    assert v2.recipe["inputs"]["artboards"][0]["name"] == board_name  # first in the request
    assert "location" not in v3.recipe["inputs"] or not v3.recipe["inputs"]["location"]
    assert v3.recipe["engine_recipe"]["ip_adapter"]["style_boards"] == [tiny.image_blob]

    # a second BG of the place approved: c002 is painted in the style of both location boards, one
    # image each in the IP-Adapter's multi-image input (every board's image tokens reach the UNet)
    from haikei.services.locations import set_location

    set_location(place, "c003", "house")
    approve(place, get_user(place, "haruka"), "c003", v3.id, bg_detail(place, "c003").bg.lock_version)
    with place.db.session() as s:
        board3 = s.query(ArtBoardRow).filter_by(source_version_id=v3.id).one()
        board3_img = load_rgb(place.blobs.get(board3.image_blob))
    proj = place.engine("sd").models.pipe.unet.encoder_hid_proj  # the adapter's image projection
    seen.clear()
    given: list[Any] = []
    hooks = [
        enc.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().float().cpu())),
        proj.register_forward_pre_hook(lambda _m, args: given.append(args[0][0].detach().float().cpu())),
    ]
    try:
        (v2b,) = render_backgrounds(place, ["c002"], engine="sd", candidates=1, actor="aki")
    finally:
        for h in hooks:
            h.remove()
    assert len(seen) == 1 and seen[0].shape[0] == 2, "one encoder call with both location boards"
    assert torch.allclose(seen[0][0:1], want, atol=1e-3)
    assert torch.allclose(seen[0][1:2], _clip_input(board3_img, size), atol=1e-3)
    with torch.inference_mode():
        e1, e3 = enc(seen[0].to(enc.dtype)).image_embeds.float()
    steps = given[0]
    assert steps.shape[1] == 2  # (batch, boards, D): both boards' embeddings, no production board
    cond = steps[-1]  # the conditional half (the first half is classifier-free guidance's zeros)
    assert torch.allclose(cond[0], e1, atol=1e-4) and torch.allclose(cond[1], e3, atol=1e-4)
    loc_b = v2b.recipe["inputs"]["location"]["boards"]
    assert [b["id"] for b in loc_b] == [board.id, board3.id]
    assert v2b.recipe["engine_recipe"]["ip_adapter"]["style_boards"] == [b["hash"] for b in loc_b]
    # the second board changes the painting (v2's seed, the same layout and prompt; a new render
    # key: the request now names both boards)
    assert (
        np.abs(
            load_rgb(place.blobs.get(v2b.image_blob)).astype(float)
            - load_rgb(place.blobs.get(v2.image_blob)).astype(float)
        ).mean()
        > 0.0
    )
