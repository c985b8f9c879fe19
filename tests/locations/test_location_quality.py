"""The location-consistency figure: per shared class, colour + brushwork distance, area-weighted."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.errors import InputError
from haikei.quality.location import location_consistency
from tests.conftest import VOCAB
from tests.engines.contract import tiny_board


def _scene(seed: int, h: int = 96, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    b = tiny_board(seed, h=h, w=w)
    return b.image, b.labels


def test_same_paint_is_closer_than_other_paint() -> None:
    img, lab = _scene(1)
    same = location_consistency(img, lab, img, lab, VOCAB)
    assert same.shared == ["sky", "mountain", "grass"] and same.only_a == same.only_b == []
    assert same.distance is not None and same.distance < 1.0
    # the same place painted with the same hand from another seed (other texture, same colours)
    img2, lab2 = _scene(2)
    near = location_consistency(img, lab, img2, lab2, VOCAB)
    # ... and a repaint in other colours (a different hand): clearly farther
    other = img.astype(np.int16)
    other[..., 0] = 255 - other[..., 0]
    far = location_consistency(img, lab, np.clip(other, 0, 255).astype(np.uint8), lab, VOCAB)
    assert near.distance is not None and far.distance is not None
    assert same.distance < near.distance < far.distance
    assert far.distance > 3 * near.distance
    assert set(far.per_class) == {"sky", "mountain", "grass"}
    assert sum(v["weight"] for v in far.per_class.values()) == pytest.approx(1.0)
    # symmetric: a ~ b is b ~ a
    back = location_consistency(img2, lab2, img, lab, VOCAB)
    assert back.distance == pytest.approx(near.distance)


def test_only_shared_classes_count_and_none_when_nothing_is_shared() -> None:
    img, lab = _scene(1)
    sky_only = np.full_like(lab, VOCAB.id_of("sky"))
    fig = location_consistency(img, lab, img, sky_only, VOCAB)
    assert fig.shared == ["sky"] and fig.only_a == ["mountain", "grass"] and list(fig.per_class) == ["sky"]
    water = np.full_like(lab, VOCAB.id_of("water"))
    none = location_consistency(img, water, img, sky_only, VOCAB)
    assert none.distance is None and none.shared == [] and none.as_json()["distance"] is None


def test_bad_inputs_are_refused_with_the_fix() -> None:
    img, lab = _scene(1)
    with pytest.raises(InputError, match="painting b: the label map is 10x10"):
        location_consistency(img, lab, img, lab[:10, :10], VOCAB)
    with pytest.raises(InputError, match="painting a: need a uint8"):
        location_consistency(img.astype(np.float32), lab, img, lab, VOCAB)
