"""Bundled demo material: art boards with label maps, and procedurally drawn layouts."""

from haikei.demo.boards import BoardFile, board_files, load_boards
from haikei.demo.scenes import SCENES, DemoCut, Scene, demo_cuts, make_scene, write_demo_layouts

__all__ = [
    "SCENES",
    "BoardFile",
    "DemoCut",
    "Scene",
    "board_files",
    "demo_cuts",
    "load_boards",
    "make_scene",
    "write_demo_layouts",
]
