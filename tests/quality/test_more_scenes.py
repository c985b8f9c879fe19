"""The three bench layouts that need classes the bundled boards lack: well-formed layouts, and
really made of classes no bundled board shows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.demo import boards as demo_boards
from haikei.demo.more_scenes import MORE_SCENES, make_more_scene
from haikei.demo.scenes import SCENES
from haikei.errors import InputError
from haikei.quality.bench import ONE_BOARD_CASES, demo_cases, run_bench
from tests.quality.synth import VOCAB, borders

# what each place is made of that no bundled board shows
NEEDS = {
    "village_trees": {"roof", "wall", "window", "fence", "path", "flower"},
    "rice_terraces": {"rice_paddy", "roof", "wall", "field", "path"},
    "beach": {"sea", "sand", "bridge", "cloud"},
}


@pytest.mark.parametrize("name", MORE_SCENES)
def test_more_scenes_are_full_layouts(name: str) -> None:
    s = make_more_scene(name, 480, 270)
    assert s.lines.shape == s.regions.shape == (270, 480) and s.lines.dtype == np.uint8
    assert not (s.regions == 255).any()
    assert 0.005 < (s.lines < 128).mean() < 0.25
    near_ink = ndimage.binary_dilation(s.lines < 160, iterations=2)
    assert near_ink[borders(s.regions)].mean() > 0.99  # every region border is drawn
    again = make_more_scene(name, 480, 270)
    assert np.array_equal(again.regions, s.regions) and np.array_equal(again.lines, s.lines)
    assert not np.array_equal(make_more_scene(name, 480, 270, seed=1).regions, s.regions)


@pytest.mark.parametrize("name", MORE_SCENES)
def test_more_scenes_need_classes_the_bundled_boards_lack(name: str) -> None:
    on_boards = {VOCAB.name_of(int(c)) for b in demo_boards.load_boards() for c in np.unique(b.labels)}
    present = {VOCAB.name_of(int(c)) for c in np.unique(make_more_scene(name, 960, 540).regions)}
    assert NEEDS[name] <= present - on_boards, (name, present - on_boards)


def test_more_scenes_are_bench_cases_apart_from_the_demo_production() -> None:
    assert not set(MORE_SCENES) & set(SCENES)  # the demo production's scenes are unchanged
    cases = demo_cases(None, [(160, 90)])
    assert [c.name for c in cases] == [*SCENES, *MORE_SCENES, *ONE_BOARD_CASES]
    beach = demo_cases(["beach"], [(160, 90)])[0]
    assert np.array_equal(beach.regions, make_more_scene("beach", 160, 90).regions)
    with pytest.raises(InputError, match="unknown scene"):
        make_more_scene("moon_base", 480, 270)
    with pytest.raises(InputError, match="outside"):
        make_more_scene("beach", 10, 270)


def test_a_layout_painted_from_one_board_that_lacks_its_classes() -> None:
    """village_trees from Altai alone: the board shows no grass, tree, roof or wall. Whatever an engine
    does with it (refuses today; paints with a flag once it can), the bench records it and goes on."""
    (case,) = demo_cases(["village_trees_altai"], [(160, 90)])
    assert [b.name for b in case.boards] == ["altai"]
    assert np.array_equal(case.regions, make_more_scene("village_trees", 160, 90).regions)
    on_board = {VOCAB.name_of(int(c)) for c in np.unique(case.boards[0].labels)}
    assert not {"grass", "tree", "roof", "wall"} & on_board
    (run,) = run_bench([case], "baseline", repeat=1).runs
    if run.status == "refused":
        assert "grass" in (run.error or "") and run.metrics == {}
    else:
        assert run.status == "ok" and run.metrics["line_f1"] is not None
