"""Kitsu's drawings (Fabric.js objects stored on the preview file) -> a retake mask at the BG's size."""

from __future__ import annotations

import numpy as np

from haikei.kitsu.annotations import annotation_mask, drawing_objects


def test_rectangle_drawn_on_a_smaller_canvas_is_scaled_to_the_bg() -> None:
    rect = {
        "type": "rect",
        "left": 100,
        "top": 50,
        "width": 200,
        "height": 100,
        "canvasWidth": 800,
        "canvasHeight": 450,
    }
    m = annotation_mask([rect], 1920, 1080, 1920, 1080)
    ys, xs = np.nonzero(m)
    # 800 -> 1920 is x2.4: the box 100..300 x 50..150 becomes 240..720 x 120..360
    assert abs(xs.min() - 240) <= 2 and abs(xs.max() - 720) <= 2
    assert abs(ys.min() - 120) <= 2 and abs(ys.max() - 360) <= 2
    assert m[200:300, 300:700].all()


def test_open_stroke_is_a_band_closed_loop_is_filled_text_is_not_an_area() -> None:
    stroke = {"type": "path", "path": [["M", 10, 50], ["L", 90, 50]], "strokeWidth": 2}
    loop = {
        "type": "path",
        "path": [["M", 20, 10], ["L", 40, 10], ["L", 40, 30], ["L", 20, 30], ["L", 21, 11]],
        "strokeWidth": 2,
    }
    text = {"type": "i-text", "text": "darker", "left": 60, "top": 5, "width": 30, "height": 10}
    m = annotation_mask([stroke, loop, text], 100, 100, 100, 100)
    assert m[50, 10:90].all() and not m[70, 50]  # a band along the stroke only
    assert m[20, 30]  # inside the loop: filled
    assert not m[8, 70]  # the text is a remark, not an area


def test_moved_and_scaled_path_follows_fabric_placement() -> None:
    # a path whose points are around (0, 0), moved to left/top 50/50 and scaled x2: it covers 50..90
    moved = {
        "type": "path",
        "path": [["M", -10, -10], ["L", 10, -10], ["L", 10, 10], ["L", -10, 10], ["L", -10, -9]],
        "pathOffset": {"x": 0, "y": 0},
        "left": 50,
        "top": 50,
        "width": 20,
        "height": 20,
        "scaleX": 2,
        "scaleY": 2,
    }
    m = annotation_mask([moved], 200, 200, 200, 200)
    assert m[70, 70] and not m[20, 20] and not m[120, 120]


def test_objects_of_every_annotated_time_are_read() -> None:
    anns = [
        {"time": 0, "drawing": {"objects": [{"type": "rect"}]}},
        {"time": 1.5, "drawing": {"objects": [{"type": "path"}]}},
    ]
    assert [o["type"] for o in drawing_objects(anns)] == ["rect", "path"]
    assert drawing_objects(None) == [] and drawing_objects([{"time": 0}]) == []
