"""TMC's trainer (Li et al., section 3.3 and 4.3), on MMT's mean teacher (Ge et al. ICLR 2020):

* before every epoch, the inter-tracklet association (:mod:`reid_from_video.labels.tmc`: 32 consecutive
  frames of every (sub-)tracklet embedded by the Mean Net, pooled, DBSCAN on the k-reciprocal Jaccard
  distance with the data-dependent eps) gives hard pseudo labels; both classifiers are re-initialised from
  the clusters' normalised centroids, as MMT does, and the optimiser is rebuilt (K changes);
* every batch: Net and Mean Net see the same images; loss (eq. 6)
  ``(1 - l_id) CE + l_id softCE + (1 - l_tri) triplet + l_tri softTriplet``, the soft targets from the
  Mean Net; after every optimiser step the Mean Net moves towards the Net: ``E = a E + (1 - a) theta``;
* the Mean Net is the model that is evaluated and kept (MMT's choice).

The isolation / no-isolation ablation is ``tmc.isolation``: units are the sub-tracklets of ``rfv label``'s
isolation, or whole tracklets.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from reid_from_video.core.errors import ConfigError, SettingError
from reid_from_video.labels.quality import cross_camera_share, label_scores
from reid_from_video.labels.tmc import associate, association_windows, pooled_features
from reid_from_video.losses.identity import CrossEntropyLabelSmooth
from reid_from_video.losses.mmt import SoftCrossEntropyLoss, SoftTripletLoss
from reid_from_video.losses.triplet import BatchHardTripletLoss
from reid_from_video.models.reid_net import ReidNet, build_model, classifier_sizes
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import NOT_TRAINED, TrainFrames
from reid_from_video.train.distributed import Process, broadcast, gather
from reid_from_video.train.features import embed_paths
from reid_from_video.train.sampler import epoch_rng

log = logging.getLogger(__name__)


class TmcMethod:
    name = "tmc"
    balanced = False
    new_classifier_each_epoch = True  # the classifier is new every epoch

    def __init__(self, config: TrainConfig, frames: TrainFrames, process: Process) -> None:
        self.config = config
        self.frames = frames
        self.process = process
        self.units = frames.unit_rows()
        first = [rows[0] for rows in self.units]  # a unit's frames share its camera and given label
        self.unit_cameras = frames.camera[first]
        self.given = _dense(frames.label[first])
        known = np.isfinite(frames.gt_id)  # ground truth (synthetic world, simulated MARS): label quality
        self.identity = np.where(known, frames.gt_id, -1).astype(np.int64) if known.any() else None
        self.net: ReidNet = build_model(config.model, None)
        self.mean_net: ReidNet = copy.deepcopy(self.net)  # E(0)[theta] = theta
        for parameter in self.mean_net.parameters():
            parameter.requires_grad_(False)
        t = config.tmc
        self.id_loss = CrossEntropyLabelSmooth(t.label_smoothing)
        self.triplet = BatchHardTripletLoss(t.margin)
        self.soft_id = SoftCrossEntropyLoss()
        self.soft_triplet = SoftTripletLoss()
        self.labels = torch.full((len(frames),), NOT_TRAINED, dtype=torch.int64)
        self.association: dict[str, float | str] = {}  # the last begin_epoch's summary
        self.unit_labels: np.ndarray | None = None  # rank 0: the last epoch's, kept when an association fails

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net, "mean_net": self.mean_net}

    def load_state(self, state: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        size = classifier_sizes(state["net"])
        if isinstance(size, int):  # the classifier of the epoch the checkpoint was taken in
            for net in (self.net, self.mean_net):
                net.reset_classifier(torch.ones(size, net.feature_dim))
            self.mean_net.classifier.requires_grad_(False)  # type: ignore[union-attr]
        self.net.load_state_dict(state["net"])
        self.mean_net.load_state_dict(state["mean_net"])

    # ------------------------------------------------------------------------------------ pseudo labels

    def begin_epoch(self, epoch: int) -> np.ndarray:
        """Associate (rank 0; the labels are broadcast), reset both classifiers; the frames' labels."""
        result = self._associate(epoch) if self.process.main else None
        unit_labels, centroids, summary = broadcast(result, self.process)
        self.association = summary
        device = next(self.net.parameters()).device
        centroids = torch.from_numpy(centroids).to(device)
        for net in (self.net, self.mean_net):
            net.reset_classifier(centroids)
        self.mean_net.classifier.requires_grad_(False)  # type: ignore[union-attr]
        labels = unit_labels[self.frames.unit]
        self.labels = torch.tensor(labels)
        return labels

    def resume_epoch(self, labels: np.ndarray) -> None:
        """A run resumed inside an epoch: that epoch's labels (the classifiers come with the state)."""
        self.labels = torch.tensor(labels)

    def _associate(self, epoch: int) -> tuple[np.ndarray, np.ndarray, dict[str, float | str]]:
        """(label of every unit, classifier centroids, summary) from the Mean Net's pooled window features.
        Epoch 0 takes the labels of ``--labels`` when there are (``rfv label`` associated with its own
        model); an association that finds fewer than 2 clusters keeps the previous epoch's labels."""
        association = self.config.tmc.association
        windows = association_windows(self.units, association.frames, epoch_rng(self.config.seed, epoch, 1))
        flat = np.concatenate(windows)
        device = next(self.mean_net.parameters()).device
        features = embed_paths(
            self.mean_net,
            [self.frames.paths[i] for i in flat],
            device,
            workers=self.config.data.workers,
            threads=self.config.inference_threads,
        )
        offsets = np.cumsum([0] + [len(w) for w in windows])
        spans = [np.arange(a, b) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        pooled = pooled_features(features, spans)
        summary: dict[str, float | str] = {"units": len(pooled)}
        if epoch == 0 and self.config.tmc.first_labels == "given" and self.given.max() >= 1:
            unit_labels = self.given
            summary["source"] = "given"
        else:
            try:
                unit_labels, clustering = associate(pooled, association, self.unit_cameras)
            except SettingError as error:
                raise error.under("tmc.association.") from None
            summary.update(eps=float(clustering.eps), seconds=float(clustering.seconds))
            summary["source"] = "associated"
            if unit_labels.max() < 1:
                if self.unit_labels is None:
                    raise ConfigError(
                        f"epoch {epoch}: the association found {unit_labels.max() + 1} cluster(s) among "
                        f"{len(pooled)} tracklets: nothing to train on; raise tmc.association.cluster.rho "
                        "(or set eps), lower min_samples, or give --labels"
                    )
                log.warning("epoch %d: the association found < 2 clusters; keeping the last labels", epoch)
                unit_labels = self.unit_labels
                summary["source"] = "kept"
        self.unit_labels = unit_labels
        n_labels = int(unit_labels.max()) + 1
        centroids = np.stack([pooled[unit_labels == k].mean(axis=0) for k in range(n_labels)])
        summary.update(labels=n_labels, unclustered=int((unit_labels < 0).sum()))
        summary["cross_camera"] = round(cross_camera_share(unit_labels, self.unit_cameras), 4)
        summary.update(self._label_scores(unit_labels))
        log.info("epoch %d association: %s", epoch, summary)
        return unit_labels, centroids.astype(np.float32), summary

    def _label_scores(self, unit_labels: np.ndarray) -> dict[str, float]:
        """Purity, ARI and labelled share of the frames' labels against the ground truth, where the data
        has it: shows whether the association improves or drifts."""
        if self.identity is None:
            return {}
        scores = label_scores(unit_labels[self.frames.unit], self.identity)
        return {k: round(float(scores[k]), 4) for k in ("purity", "ari", "labelled_share")}

    # ----------------------------------------------------------------------------------------- training

    def losses(self, forward: Callable, images: torch.Tensor, rows: np.ndarray) -> dict[str, torch.Tensor]:
        output = forward(images)
        with torch.no_grad():
            teacher = self.mean_net(images)
        features = gather(output.features, self.process).float()
        logits = gather(output.logits, self.process).float()
        mean_features = gather(teacher.features, self.process).float()
        mean_logits = gather(teacher.logits, self.process).float()
        labels = self.labels[torch.from_numpy(rows)].to(features.device)
        t = self.config.tmc
        hard_id = self.id_loss(logits, labels)
        soft_id = self.soft_id(logits, mean_logits)
        hard_tri = self.triplet(features, labels)
        soft_tri = self.soft_triplet(features, mean_features, labels)
        total = (
            (1 - t.lambda_id) * hard_id
            + t.lambda_id * soft_id
            + (1 - t.lambda_tri) * hard_tri
            + t.lambda_tri * soft_tri
        )
        return {
            "loss": total,
            "id": hard_id,
            "soft_id": soft_id,
            "triplet": hard_tri,
            "soft_triplet": soft_tri,
        }

    @torch.no_grad()
    def after_step(self) -> None:
        """The Mean Net's temporal average of the Net's parameters, TMC eq. (1)."""
        alpha = self.config.tmc.alpha
        for mean, current in zip(self.mean_net.parameters(), self.net.parameters(), strict=True):
            mean.lerp_(current.detach(), 1.0 - alpha)

    def epoch_figures(self) -> dict[str, float | str]:
        """The epoch's association (labels, eps, clusters, label quality), as ``assoc_`` columns; none in an
        epoch resumed in its middle (its association ran before the checkpoint)."""
        return {f"assoc_{key}": value for key, value in self.association.items()}

    def final_model(self) -> ReidNet:
        return self.mean_net


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0 .. K-1 in order of value; NOT_TRAINED stays."""
    out = np.full(len(labels), NOT_TRAINED, np.int64)
    kept = labels != NOT_TRAINED
    out[kept] = np.unique(labels[kept], return_inverse=True)[1]
    return out
