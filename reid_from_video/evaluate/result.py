"""What ``rfv evaluate`` measured: ``evaluate.json`` in the evaluate folder (fractions, not percent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.io.results import JsonObject, StageResult, encode_fields, omitted_when_none

RANK = "rank"  # the CMC at rank k is stored as "rank<k>"


@dataclass(frozen=True)
class EvaluateResult(StageResult):
    """``evaluate.json``: the data and protocol, mAP, the CMC at the reported ranks and the whole CMC curve
    (from rank 1), the distance, the AP mode and, when a model file was scored, its path."""

    FILE = "evaluate.json"

    source: str
    mAP: float  # noqa: N815  (the name every re-ID table uses)
    protocol: str = ""
    tracklets: int = 0
    queries: int = 0
    gallery: int = 0
    query_identities: int = 0
    valid_queries: int = 0
    ranks: dict[int, float] = field(default_factory=dict)
    metric: str = ""
    ap: str = ""
    cmc: tuple[float, ...] = ()
    model: str | None = omitted_when_none()

    def rank(self, k: int) -> float | None:
        return self.ranks.get(k)

    def to_json(self) -> JsonObject:
        fields = encode_fields(self)
        ranks = {f"{RANK}{k}": v for k, v in fields.pop("ranks").items()}
        head = ("source", "protocol", "tracklets", "queries", "gallery", "query_identities", "valid_queries")
        out = {key: fields.pop(key) for key in (*head, "mAP")}
        return {**out, **ranks, **fields}

    @classmethod
    def from_json(cls, data: JsonObject) -> EvaluateResult:
        ranks = {k: v for k, v in data.items() if k.startswith(RANK) and k[len(RANK) :].isdigit()}
        plain = {k: v for k, v in data.items() if k not in ranks}
        plain["ranks"] = {int(k[len(RANK) :]): v for k, v in ranks.items()}
        return super().from_json(plain)

    def summary(self) -> str:
        rank1 = self.rank(1)
        return f"mAP {100 * self.mAP:.1f}  rank-1 {100 * (rank1 or 0):.1f}  ({self.source})"

    def report(self) -> str:
        """The lines ``rfv evaluate`` prints."""
        ranks = "  ".join(f"{RANK}{k} {100 * v:.2f}" for k, v in self.ranks.items())
        return (
            f"{self.source}: {self.queries} queries ({self.valid_queries} valid), {self.gallery} gallery "
            f"tracklets, {self.metric} distance\nmAP {100 * self.mAP:.2f}  {ranks}"
        )
