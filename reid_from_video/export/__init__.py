"""Deployable models: export to TorchScript / ONNX, and the runtime that loads any of them."""
