"""Re-ID networks: backbones (ResNet-50, ResNet-18, OSNet, a tiny CPU net), pooling (avg, GeM), heads
(BN-neck, identity classifier, TAUDL's per-camera branches) and :class:`ReidNet` built from a
:class:`ModelConfig`, started from ``model.init`` (an OSNet ONNX file, an rfv model.pt or a state dict)
when given."""
