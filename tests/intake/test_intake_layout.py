"""Scanned-layout clean-up on synthetic scans whose true lines and frame are known."""

from __future__ import annotations

import numpy as np
import pytest
from _intake_synth import draw_sheet, f1_within, simulate_scan

from haikei.errors import ImageError
from haikei.imaging.layout import clean_scan, is_scan


def _cleaned_in_sheet(result, shape: tuple[int, int]) -> np.ndarray:  # type: ignore[no-untyped-def]
    pred = np.zeros(shape, bool)
    x0, y0, x1, y1 = result.crop_box
    pred[y0:y1, x0:x1] = result.lines == 0
    return pred


@pytest.mark.parametrize(
    ("angle", "kw"),
    [
        (0.0, {}),
        (1.2, {}),
        (-2.5, {"noise": 8.0}),
        (1.7, {"noise": 12.0, "pencil_grey": 140.0, "pressure": 0.7}),  # faint, fading pencil on noisy paper
    ],
)
def test_clean_scan_recovers_lines_angle_and_frame(angle: float, kw: dict[str, float]) -> None:
    sheet = draw_sheet()
    scan = simulate_scan(sheet.truth, angle, seed=7, **kw)
    result = clean_scan(scan)
    # the skew is measured and undone only when it matters
    assert result.angle_deg == pytest.approx(angle, abs=0.1)
    assert result.deskewed == (abs(angle) > 0.2)
    # the crop is the inside of the drawn frame, within a few pixels
    assert result.crop_box is not None
    assert np.abs(np.subtract(result.crop_box, sheet.inner_box)).max() <= 3
    # the measured line is the thresholded pencil's width: the drawn width plus its blur
    assert sheet.frame_width - 1 <= result.frame_thickness <= sheet.frame_width + 5
    # the lines inside the frame match the drawing; dust and the margin notes are gone
    p, r, f1 = f1_within(_cleaned_in_sheet(result, sheet.truth.shape), sheet.truth, sheet.inner_box)
    assert f1 > 0.9, (p, r)
    assert result.lines.dtype == np.uint8 and set(np.unique(result.lines)) <= {0, 255}
    assert len(result.report()) == 4


def test_uncorrected_scan_scores_worse() -> None:
    """The F1 measure is able to fail: the raw skewed sheet, thresholded naively, does not pass."""
    sheet = draw_sheet()
    scan = simulate_scan(sheet.truth, 2.5, seed=3)
    naive = scan < 128
    assert f1_within(naive, sheet.truth, sheet.inner_box)[2] < 0.6


def test_no_frame_keeps_the_whole_sheet_or_refuses() -> None:
    sheet = draw_sheet()
    x0, y0, x1, y1 = sheet.inner_box
    truth = sheet.truth.copy()
    # erase the frame line: only the drawing remains
    fw = sheet.frame_width
    truth[y0 - fw : y0, :] = False
    truth[y1 : y1 + fw, :] = False
    truth[:, x0 - fw : x0] = False
    truth[:, x1 : x1 + fw] = False
    scan = simulate_scan(truth, 0.0, seed=2)
    result = clean_scan(scan)
    assert result.crop_box is None and result.lines.shape == scan.shape
    assert "no frame found" in result.report()[-1]
    with pytest.raises(ImageError, match="no drawn frame"):
        clean_scan(scan, require_frame=True, name="c012.png")


def test_blank_and_wrong_inputs_are_refused() -> None:
    rng = np.random.default_rng(0)
    blank = np.clip(rng.normal(220, 3, (400, 600)), 0, 255).astype(np.uint8)
    with pytest.raises(ImageError, match="no ink found"):
        clean_scan(blank, name="c012.png")
    with pytest.raises(ImageError, match="2-D uint8"):
        clean_scan(np.zeros((400, 600, 3), np.uint8))
    with pytest.raises(ImageError, match="too small"):
        clean_scan(np.zeros((20, 20), np.uint8))


def test_is_scan_tells_paper_from_digital_line_art() -> None:
    sheet = draw_sheet(700, 500)
    digital = np.where(sheet.truth, 0, 255).astype(np.uint8)
    assert not is_scan(digital)
    assert is_scan(simulate_scan(sheet.truth, 0.8, seed=1))
    # a digital drawing with soft antialiased lines is still digital
    from scipy import ndimage

    soft = np.clip(255 - ndimage.gaussian_filter(sheet.truth.astype(np.float32), 1.0) * 400, 0, 255).astype(
        np.uint8
    )
    assert not is_scan(soft)
    # a clean, evenly lit scan still has grainy paper
    quiet = simulate_scan(sheet.truth, 0.0, seed=4, noise=2.0)
    assert is_scan(quiet)


@pytest.mark.slow
def test_a4_scan_at_300_dpi() -> None:
    """Full-size sheet (3508x2480): quality holds at scale; prints the time for specs/intake.md."""
    import time

    from haikei.imaging.regions import derive_regions

    sheet = draw_sheet(3508, 2480, line=8, frame_width=10)
    scan = simulate_scan(sheet.truth, 1.3, seed=5, noise=8.0, pencil_grey=110.0, pressure=0.5)
    t0 = time.perf_counter()
    result = clean_scan(scan)
    seconds = time.perf_counter() - t0
    assert result.angle_deg == pytest.approx(1.3, abs=0.1)
    assert np.abs(np.subtract(result.crop_box, sheet.inner_box)).max() <= 4
    p, r, f1 = f1_within(_cleaned_in_sheet(result, sheet.truth.shape), sheet.truth, sheet.inner_box)
    assert f1 > 0.9, (p, r)
    t0 = time.perf_counter()
    _, count = derive_regions(result.lines)
    print(
        f"\nclean_scan 3508x2480: {seconds:.2f} s, F1 {f1:.3f}; derive_regions "
        f"{result.lines.shape[1]}x{result.lines.shape[0]}: {time.perf_counter() - t0:.2f} s, {count} areas"
    )
    assert count >= 10


def test_scanner_bed_around_a_smaller_sheet_is_not_taken_for_the_frame() -> None:
    sheet = draw_sheet()
    scan = simulate_scan(sheet.truth, 1.0, seed=3)
    scan[:, :40] = 50  # the sheet did not reach the left edge of the bed ...
    scan[-30:, :] = 50  # ... nor the bottom
    result = clean_scan(scan)
    assert result.bed_px >= 40 * scan.shape[0]
    assert "scanner bed" in result.report()[2]
    assert np.abs(np.subtract(result.crop_box, sheet.inner_box)).max() <= 3
