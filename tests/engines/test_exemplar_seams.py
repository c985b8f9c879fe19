"""Seam blending in the full-size vote (kernels.vote_blended): a coherent copy is left exactly as
the plain vote paints it; a hard tone step between two copies becomes a soft ramp, and the fine
texture survives it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from haikei.engines.base import EngineContext
from haikei.engines.exemplar import create
from haikei.engines.exemplar import kernels as K
from tests.engines.test_exemplar import _request

H, W = 40, 64


def _setup(step: float) -> tuple[np.ndarray, ...]:
    """Source: fine texture over a tone that is ``step`` higher in its right half. Target: its left
    half copies the source's left 32 columns, its right half the source's right 32, so the target
    has a hard tone step at x = 32 (the seam) and coherent copies on both sides of it."""
    rng = np.random.default_rng(0)
    texture = rng.normal(0.0, 3.0, (H, W)).astype(np.float32)
    tone = np.where(np.arange(W) < 32, 100.0, 100.0 + step).astype(np.float32)[None, :]
    paint = np.repeat((texture + tone)[..., None], 3, axis=2)
    low = np.repeat(np.broadcast_to(tone, (H, W))[..., None], 3, axis=2)  # its low-pass: the tone
    src = np.ascontiguousarray(np.concatenate([paint, low], axis=2), np.float32)  # both, for the plain vote
    yy, xx = np.mgrid[0:H, 0:W]
    nnf = np.ascontiguousarray(np.stack([yy, xx], axis=-1), np.int32)
    skey = np.zeros((H, W), np.int32)
    allowed = np.ones((1, 256), np.uint8)
    tcls = np.zeros((H, W), np.int32)
    weight = np.ones((H, W), np.float32)
    return src, skey, allowed, tcls, nnf, weight


def _paint(src: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(src[..., :3])


def _low(src: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(src[..., 3:])


def _coarse_classes(rest: list[np.ndarray]) -> np.ndarray:
    """The class map at the wide vote's half size (``rest``: skey, allowed, tcls, nnf, weight)."""
    return np.ascontiguousarray(rest[2][::2, ::2])


def _plain(src: np.ndarray, *args: np.ndarray) -> np.ndarray:
    out = np.zeros((H, W, 6), np.float32)
    K.vote(src, *args, 0, 2, out)
    return out


def test_a_coherent_copy_is_painted_as_the_plain_vote_paints_it() -> None:
    """Without a seam, the wide low-pass equals the narrow one and the paint comes out unchanged."""
    src, *rest = _setup(step=0.0)
    plain = _plain(src, *rest)
    wide = np.full((H // 2, W // 2, 3), 100.0, np.float32)  # the (flat) tone, at half size
    out = np.zeros((H, W, 3), np.float32)
    K.vote_blended(_paint(src), _low(src), *rest, 0, 2, wide, _coarse_classes(rest), 2, out)
    assert np.allclose(out, plain[..., :3], atol=1e-3)


def test_a_tone_step_between_two_copies_becomes_a_ramp_and_keeps_the_texture() -> None:
    src, *rest = _setup(step=60.0)
    plain = _plain(src, *rest)
    # the wide vote of the low-pass: the step spread over 24 pixels (what a wide vote gives)
    ramp = np.clip((np.arange(W // 2) * 2 + 0.5 - 20.0) / 24.0, 0.0, 1.0)
    wide = (
        np.repeat((100.0 + 60.0 * ramp)[None, :, None], 3, axis=2).repeat(H // 2, axis=0).astype(np.float32)
    )
    out = np.zeros((H, W, 3), np.float32)
    K.vote_blended(_paint(src), _low(src), *rest, 0, 2, wide, _coarse_classes(rest), 2, out)

    def tone_step(img: np.ndarray) -> float:  # the largest step of the column means near the seam
        cols = img[..., 0].mean(axis=0)
        return float(np.abs(np.diff(cols[20:44])).max())

    assert tone_step(plain[..., :3]) > 10.0  # the plain vote: a hard step
    assert tone_step(out) < 6.0  # blended: a ramp (60 over 24 pixels, 2.5 a pixel)
    fine = lambda a: a[..., 0] - ndimage.uniform_filter(a[..., 0], 5)  # noqa: E731
    # the texture inside the ramp, clear of the seam itself (which the plain vote's step dominates),
    # is the plain vote's to within a fraction of a level (texture deviation: 3 levels)
    for cols in (slice(22, 29), slice(36, 43)):
        assert np.abs(fine(out) - fine(plain[..., :3]))[2:-2, cols].max() < 0.5


def test_no_tone_bleeds_across_a_region_border() -> None:
    """Two regions (classes) meet at x = 32, each copied coherently from its own class of the
    source. The wide low-pass is sampled only from the pixel's own class: next to the border each
    region keeps its own tone (reading the other class's samples pulled the tone 25 levels over)."""
    src, skey, allowed, tcls, nnf, weight = _setup(step=100.0)
    right = np.arange(W)[None, :] >= 32
    tcls = np.ascontiguousarray(np.broadcast_to(right, (H, W)).astype(np.int32))
    skey = tcls.copy()  # the source's class = its side
    allowed = np.zeros((2, 256), np.uint8)
    allowed[0, 0] = allowed[1, 1] = 1
    rest = [skey, allowed, tcls, nnf, weight]
    plain = _plain(src, *rest)
    wide = np.ascontiguousarray(_low(src)[::2, ::2])  # each region's own tone, at half size
    out = np.zeros((H, W, 3), np.float32)
    K.vote_blended(_paint(src), _low(src), *rest, 0, 2, wide, _coarse_classes(rest), 2, out)
    assert np.abs(out - plain[..., :3])[:, 28:36].max() < 0.5
    # the ramp still forms inside a region: a step within one class is still blended (first test)


def test_the_engine_blends_seams_by_default_and_can_turn_it_off() -> None:
    engine = create({})
    on = engine.render(_request(), EngineContext()).image
    off = engine.render(_request(options={"seam_blend": 0}), EngineContext()).image
    assert on.shape == off.shape and not np.array_equal(on, off)
    again = engine.render(_request(), EngineContext()).image
    assert np.array_equal(on, again)
