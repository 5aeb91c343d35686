"""Deployable models: export to TorchScript / ONNX, and the runtime that loads any of them.

* ``runtime.py``: :class:`ReidModel` (``load(path).embed(crops)``) for ONNX (onnxruntime alone), TorchScript
  and ``rfv train``'s model files; ``card.py``: the JSON model card beside a model;
* ``source.py``: a training checkpoint read safely and rebuilt as the eval-mode network;
* ``torchscript.py``, ``onnx.py``: the two exporters; ``parity.py``: exported against PyTorch features;
  ``pipeline.py``: ``rfv export``;
* ``crops.py``, ``embedding.py``: ``rfv embed`` (a crop folder or a tracklet store -> features + index).
"""
