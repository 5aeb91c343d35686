"""Synthetic multi-camera worlds with ground truth at every level: the demo's data and the test bed.

``synthesize(SynthConfig(...), out)`` plans a world (:mod:`.world`), renders every camera (:mod:`.render`)
into a video and MOTChallenge gt with global identity ids, exports gt crops in the MARS layout
(:mod:`.mars_export`) and draws a contact sheet (:mod:`.contact_sheet`). Never imports torch.
"""
