"""The sd engine inside a production: configured in haikei.toml with tiny weights saved to disk,
it paints the demo production's layouts, a retake and a variant, and delivery signs what it made
as trainedAlgorithmicMedia. (Tiny random models: the pictures are noise; the plumbing is real.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from haikei.app import create_production, open_production
from haikei.demo.build import add_bundled_boards
from haikei.demo.scenes import write_demo_layouts
from haikei.domain.models import FrameSize
from haikei.imaging.io import atomic_write_bytes, load_rgb, png_bytes
from haikei.provenance.c2pa_sign import verify
from haikei.provenance.keys import init_keys
from haikei.services.delivery import export
from haikei.services.intake import import_folder
from haikei.services.rendering import RenderSpec, render_backgrounds, render_spec
from tests.engines import sd_tiny


@pytest.mark.slow
def test_sd_paints_the_demo_production_from_local_tiny_weights(tmp_path: Path) -> None:
    paths = sd_tiny.tiny_models(tmp_path / "models")
    root = tmp_path / "prod"
    ctx = create_production(root, "SD demo", FrameSize(128, 72), episode="ep01")
    ctx.settings.engines["sd"] = sd_tiny.engine_config(paths)
    atomic_write_bytes(root / "haikei.toml", ctx.settings.dump().encode())
    ctx.close()
    ctx = open_production(root)
    try:
        add_bundled_boards(ctx)  # both bundled boards record consent
        layouts = tmp_path / "layouts"
        layouts.mkdir()
        write_demo_layouts(layouts, 128, 72)
        import_folder(ctx, layouts, artist="Layout Artist")
        versions = render_backgrounds(ctx, None, engine="sd", candidates=2, seed=1, actor="aki")
        assert len(versions) == 12  # six BGs (one shared by two cuts), two candidates each
        pan = [v for v in versions if v.recipe["inputs"]["background"] == "c003"]
        assert load_rgb(ctx.blobs.get(pan[0].image_blob)).shape == (72, 256, 3)  # the PAN at full length
        v = versions[0]
        assert v.engine == "sd" and v.recipe["digital_source_type"].endswith("trainedAlgorithmicMedia")
        assert v.recipe["engine_recipe"]  # model hashes, prompts, steps ...
        # a regional retake: outside the mask identical to the parent
        mask = np.zeros((72, 128), np.uint8)
        mask[10:40, 20:80] = 255
        retake = render_spec(
            ctx,
            RenderSpec(
                bg="c001",
                engine="sd",
                kind="retake",
                parent_version_id=v.id,
                mask_blob=ctx.blobs.put(png_bytes(mask)),
                seed=3,
            ),
        )
        a, b = load_rgb(ctx.blobs.get(v.image_blob)), load_rgb(ctx.blobs.get(retake.image_blob))
        assert np.array_equal(a[mask < 128], b[mask < 128])
        # a winter variant of it: structure kept (img2img from the parent), direction changed
        variant = render_spec(
            ctx,
            RenderSpec(
                bg="c001",
                engine="sd",
                kind="variant",
                parent_version_id=retake.id,
                variant="winter",
                direction="冬の夕方",
                seed=1,
                options={"steps": 8},
            ),
        )
        assert variant.variant == "winter" and variant.parent_id == retake.id
        init_keys(root / "keys", org="SD Test Studio")
        res = export(ctx, tmp_path / "delivery", cuts=["c001", "c002"])
        png = next(p for p in res.files if p.name.startswith("ep01_c001") and p.suffix == ".png")
        rep = verify(png, trust_anchors=(root / "keys" / "root-ca.pem").read_bytes())
        assert rep.valid and rep.to_dict()["source_type"].endswith("trainedAlgorithmicMedia")
    finally:
        ctx.close()
