"""Synthetic multi-camera worlds with ground truth at every level: the demo's data and the test bed.

``synthesize(SynthConfig(...), out)`` plans a world (:mod:`.world`), renders every camera (:mod:`.render`)
into a video and MOTChallenge gt with global identity ids, exports gt crops in the MARS layout
(:mod:`.mars_export`) and draws a contact sheet (:mod:`.contact_sheet`). Never imports torch.
"""

from reid_from_video.synth.config import MarsExportConfig, SynthConfig
from reid_from_video.synth.contact_sheet import make_contact_sheet
from reid_from_video.synth.mars_export import MarsExport, export_mars
from reid_from_video.synth.pipeline import SynthResult, synthesize
from reid_from_video.synth.world import World, plan_world

__all__ = [
    "MarsExport",
    "MarsExportConfig",
    "SynthConfig",
    "SynthResult",
    "World",
    "export_mars",
    "make_contact_sheet",
    "plan_world",
    "synthesize",
]
