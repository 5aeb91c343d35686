"""How each identity looks: clothing colours from one shared palette, patterns, bag, hat, build.

Colours come from a small palette shared by everybody, so looks overlap (many people wear navy or black
trousers) and identity is carried by the combination; a few pairs copy another person's look with a small
change, so that some identities are genuinely hard to tell apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Named BGR colours. Upper clothing draws from all of them, lower clothing mostly from the dark ones.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (30, 30, 32),
    "white": (225, 228, 230),
    "grey": (128, 128, 125),
    "navy": (90, 40, 30),
    "blue": (170, 90, 40),
    "light_blue": (215, 170, 120),
    "red": (45, 40, 190),
    "maroon": (50, 30, 110),
    "green": (60, 130, 50),
    "olive": (50, 110, 110),
    "khaki": (120, 170, 195),
    "brown": (40, 70, 110),
    "yellow": (40, 200, 225),
    "pink": (170, 140, 230),
    "purple": (120, 50, 110),
    "orange": (30, 120, 230),
}
UPPER = list(PALETTE)
LOWER = ["black", "navy", "blue", "grey", "khaki", "brown", "black", "navy", "olive", "white", "maroon"]
SKIN = [(180, 200, 240), (140, 170, 215), (100, 140, 190), (70, 100, 150), (50, 70, 105)]
HAIR = [(20, 20, 25), (30, 45, 70), (50, 90, 140), (140, 170, 190), (160, 160, 160)]
PATTERNS = ("plain", "stripes", "checks")
BAGS = ("none", "backpack", "handbag")


@dataclass(frozen=True)
class Look:
    """One identity's appearance; colours are BGR tuples, sizes relative to an average person."""

    upper: str
    upper_bgr: tuple[int, int, int]
    lower: str
    lower_bgr: tuple[int, int, int]
    pattern: str
    pattern_bgr: tuple[int, int, int]
    bag: str
    bag_bgr: tuple[int, int, int]
    hat: bool
    hat_bgr: tuple[int, int, int]
    skin_bgr: tuple[int, int, int]
    hair_bgr: tuple[int, int, int]
    shoes_bgr: tuple[int, int, int]
    height: float
    width: float
    speed: float  # preferred walking speed, metres per second

    def to_dict(self) -> dict:
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }


def _jitter(rng: np.random.Generator, bgr: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    shifted = np.asarray(bgr) + rng.integers(-amount, amount + 1, size=3)
    return tuple(int(v) for v in np.clip(shifted, 0, 255))


def _named(rng: np.random.Generator, names: list[str]) -> tuple[str, tuple[int, int, int]]:
    name = names[int(rng.integers(len(names)))]
    return name, _jitter(rng, PALETTE[name], 14)


def random_look(rng: np.random.Generator) -> Look:
    upper, upper_bgr = _named(rng, UPPER)
    lower, lower_bgr = _named(rng, LOWER)
    pattern = PATTERNS[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
    # The pattern's second colour contrasts with the first: the palette colour farthest among three tries.
    candidates = [_named(rng, UPPER)[1] for _ in range(3)]
    pattern_bgr = max(candidates, key=lambda c: float(np.abs(np.subtract(c, upper_bgr)).sum()))
    bag = BAGS[int(rng.choice(3, p=[0.55, 0.3, 0.15]))]
    return Look(
        upper=upper,
        upper_bgr=upper_bgr,
        lower=lower,
        lower_bgr=lower_bgr,
        pattern=pattern,
        pattern_bgr=pattern_bgr,
        bag=bag,
        bag_bgr=_named(rng, ["black", "brown", "navy", "grey", "red", "khaki"])[1],
        hat=bool(rng.random() < 0.2),
        hat_bgr=_named(rng, UPPER)[1],
        skin_bgr=_jitter(rng, SKIN[int(rng.integers(len(SKIN)))], 8),
        hair_bgr=_jitter(rng, HAIR[int(rng.integers(len(HAIR)))], 8),
        shoes_bgr=_named(rng, ["black", "white", "brown", "grey"])[1],
        height=float(np.clip(rng.normal(1.0, 0.055), 0.86, 1.14)),
        width=float(rng.uniform(0.85, 1.2)),
        speed=float(np.clip(rng.normal(1.3, 0.25), 0.7, 2.0)),
    )


def similar_look(rng: np.random.Generator, base: Look) -> Look:
    """``base`` with slightly shifted colours and at most one accessory or pattern changed."""
    change = int(rng.integers(4))
    fields = {
        "upper_bgr": _jitter(rng, base.upper_bgr, 10),
        "lower_bgr": _jitter(rng, base.lower_bgr, 10),
        "skin_bgr": _jitter(rng, base.skin_bgr, 20),
        "height": float(np.clip(base.height + rng.normal(0, 0.03), 0.86, 1.14)),
        "speed": float(np.clip(rng.normal(1.3, 0.25), 0.7, 2.0)),
    }
    if change == 0:
        fields["bag"] = BAGS[(BAGS.index(base.bag) + 1 + int(rng.integers(2))) % 3]
    elif change == 1:
        fields["hat"] = not base.hat
    elif change == 2:
        fields["pattern"] = "plain" if base.pattern != "plain" else "stripes"
    return Look(**{**asdict(base), **fields})


def make_looks(
    rng: np.random.Generator, count: int, similar_pairs: int
) -> tuple[list[Look], list[list[int]]]:
    """``count`` looks, and the 1-based identity pairs (a, b) where b was made to look like a."""
    looks = [random_look(rng) for _ in range(count)]
    pairs: list[list[int]] = []
    order = rng.permutation(count)
    for k in range(min(similar_pairs, count // 2)):
        a, b = int(order[2 * k]), int(order[2 * k + 1])
        looks[b] = similar_look(rng, looks[a])
        pairs.append(sorted([a + 1, b + 1]))
    return looks, sorted(pairs)
