"""Re-ID networks: backbones (ResNet-50, ResNet-18, OSNet, a tiny CPU net), pooling (avg, GeM), heads
(BN-neck, identity classifier, TAUDL's per-camera branches) and :class:`ReidNet` built from a
:class:`ModelConfig`, started from ``model.init`` (an OSNet ONNX file, an rfv model.pt or a state dict)
when given."""

from reid_from_video.models.backbones import BACKBONES, IMAGENET, NO_WEIGHTS, BackboneSpec, build_backbone
from reid_from_video.models.heads import BNNeck, CameraClassifiers, Classifier, embedding_layer
from reid_from_video.models.init import load_init
from reid_from_video.models.osnet import OSNET_WIDTHS, OSNet
from reid_from_video.models.pooling import GEM_EPS, GEM_P, AvgPool, GeM, build_pooling
from reid_from_video.models.reid_net import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelConfig,
    ReidNet,
    ReidOutput,
    build_model,
    classifier_sizes,
    model_from_state,
)

__all__ = [
    "BACKBONES",
    "GEM_EPS",
    "GEM_P",
    "IMAGENET",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NO_WEIGHTS",
    "OSNET_WIDTHS",
    "AvgPool",
    "BNNeck",
    "BackboneSpec",
    "CameraClassifiers",
    "Classifier",
    "GeM",
    "ModelConfig",
    "OSNet",
    "ReidNet",
    "ReidOutput",
    "build_backbone",
    "build_model",
    "build_pooling",
    "classifier_sizes",
    "embedding_layer",
    "load_init",
    "model_from_state",
]
