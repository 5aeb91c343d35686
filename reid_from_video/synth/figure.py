"""An articulated walking person, drawn anti-aliased into its own small canvas with an alpha channel.

Seen from the side (people mostly walk across a surveillance view): head with hair or a hat, a torso in
the upper-clothing colour or pattern, legs that swing with the walking phase and bend at the knee, arms
swinging against the legs, shoes, and a backpack or a handbag. Far limbs are drawn darker and behind the
torso. The canvas holds premultiplied colour and alpha, composited with the "over" operator, so the caller
can paste it onto a frame and knows exactly which pixels the person covers (alpha >= 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from reid_from_video.synth.appearance import Look

SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions, so slow walkers glide instead of jumping pixels
ONE = 1 << SHIFT
FAR_SHADE = 0.7
COVERED = 0.5  # a pixel belongs to the person where alpha >= COVERED


@dataclass
class Figure:
    """Premultiplied BGR ``color`` (HxWx3), ``alpha`` (HxW), float32; ``(x0, y0)``: top-left in the frame."""

    color: np.ndarray
    alpha: np.ndarray
    x0: int
    y0: int

    @property
    def mask(self) -> np.ndarray:
        return self.alpha >= COVERED


class _Canvas:
    def __init__(self, height: int, width: int):
        self.color = np.zeros((height, width, 3), np.float32)
        self.alpha = np.zeros((height, width), np.float32)
        self.layer = np.zeros((height, width), np.uint8)

    def paint(self, bgr: tuple[float, ...] | np.ndarray, draw) -> None:
        """Draw a shape with ``draw(layer)`` (cv2 calls, value 255) and composite it in colour ``bgr``."""
        self.layer[:] = 0
        draw(self.layer)
        ys, xs = np.nonzero(self.layer)
        if ys.size == 0:
            return
        sl = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        a = self.layer[sl].astype(np.float32) * (1.0 / 255.0)
        pattern = isinstance(bgr, np.ndarray) and bgr.ndim == 3
        col = bgr[sl] if pattern else np.asarray(bgr, np.float32)
        keep = 1.0 - a
        self.color[sl] = self.color[sl] * keep[..., None] + col * a[..., None]
        self.alpha[sl] = self.alpha[sl] * keep + a


def _p(x: float, y: float) -> tuple[int, int]:
    return int(round(x * ONE)), int(round(y * ONE))


def _line(a: tuple[float, float], b: tuple[float, float], thickness: float):
    t = max(1, int(round(thickness)))
    return lambda img: cv2.line(img, _p(*a), _p(*b), 255, t, cv2.LINE_AA, SHIFT)


def _disc(c: tuple[float, float], r: float):
    return lambda img: cv2.circle(img, _p(*c), max(1, int(round(r * ONE))), 255, -1, cv2.LINE_AA, SHIFT)


def _ellipse(c, axes, angle, start, end):
    ax = (max(1, int(round(axes[0] * ONE))), max(1, int(round(axes[1] * ONE))))
    return lambda img: cv2.ellipse(img, _p(*c), ax, angle, start, end, 255, -1, cv2.LINE_AA, SHIFT)


def _poly(points):
    pts = np.array([_p(x, y) for x, y in points], np.int32)
    return lambda img: cv2.fillConvexPoly(img, pts, 255, cv2.LINE_AA, SHIFT)


def _shade(bgr, factor: float = FAR_SHADE) -> tuple[float, float, float]:
    return tuple(float(c) * factor for c in bgr)


def _pattern(look: Look, shape: tuple[int, int], period: float, y_offset: float) -> np.ndarray | tuple:
    if look.pattern == "plain":
        return tuple(float(c) for c in look.upper_bgr)
    ys = (np.arange(shape[0], dtype=np.float32)[:, None] - y_offset) / period
    xs = np.arange(shape[1], dtype=np.float32)[None, :] / period
    band = (np.floor(ys) % 2).astype(bool)
    if look.pattern == "checks":
        band = band ^ (np.floor(xs) % 2).astype(bool)
    else:
        band = np.broadcast_to(band, shape)
    out = np.empty((*shape, 3), np.float32)
    out[:] = np.asarray(look.upper_bgr, np.float32)
    out[band] = np.asarray(look.pattern_bgr, np.float32)
    return out


def draw_figure(
    look: Look, foot_x: float, foot_y: float, height_px: float, phase: float, swing: float, facing: int
) -> Figure:
    """The person standing with feet at ``(foot_x, foot_y)`` (frame pixels), ``height_px`` tall for 1.7 m.

    ``phase`` is the walking phase (radians, 2*pi per two steps), ``swing`` the leg swing amplitude (radians,
    0 when standing), ``facing`` +1 when walking to the right of the image and -1 to the left.
    """
    u = height_px * look.height  # this person's height in pixels
    wf = look.width
    margin = 3
    cw = int(math.ceil(0.9 * u)) + 2 * margin
    ch = int(math.ceil(1.04 * u)) + 2 * margin
    x0 = int(math.floor(foot_x)) - cw // 2
    y0 = int(math.floor(foot_y - u)) - margin
    lx, ly = foot_x - x0, foot_y - y0  # the feet in canvas coordinates
    canvas = _Canvas(ch, cw)
    f = 1 if facing >= 0 else -1

    # Legs: thigh and shin; the knee bends while the leg swings forward. The hip rises and falls so that
    # the lower foot always touches the ground.
    leg = 0.47 * u

    def leg_points(angle: float, bend: float) -> tuple[tuple[float, float], tuple[float, float]]:
        knee = (0.5 * leg * math.sin(angle) * f, 0.5 * leg * math.cos(angle))
        foot = (
            knee[0] + 0.5 * leg * math.sin(angle - bend) * f,
            knee[1] + 0.5 * leg * math.cos(angle - bend),
        )
        return knee, foot

    theta = swing * math.sin(phase)
    bend_near = 0.6 * swing * max(0.0, math.cos(phase))
    bend_far = 0.6 * swing * max(0.0, -math.cos(phase))
    near_leg = leg_points(theta, bend_near)
    far_leg = leg_points(-theta, bend_far)
    drop = max(near_leg[1][1], far_leg[1][1])
    hip = (lx, ly - drop)
    top = hip[1] - 0.5 * u  # top of the head
    shoulder = (lx, top + 0.17 * u)
    tw = 0.19 * u * wf  # torso depth seen from the side
    leg_t = 0.085 * u * wf
    arm_t = 0.062 * u * wf
    upper = tuple(float(c) for c in look.upper_bgr)
    lower = tuple(float(c) for c in look.lower_bgr)

    def limb(base, points, bgr, thickness):
        (k, e) = points
        a = (base[0] + k[0], base[1] + k[1])
        b = (base[0] + e[0], base[1] + e[1])
        canvas.paint(bgr, lambda img: (_line(base, a, thickness)(img), _line(a, b, thickness)(img)))
        return b

    def shoe(at, bgr):
        canvas.paint(
            bgr, _ellipse((at[0] + 0.025 * u * f, at[1] - 0.012 * u), (0.05 * u, 0.022 * u), 0, 0, 360)
        )

    arm = 0.34 * u
    arm_angle = -0.8 * theta

    def arm_points(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
        elbow = (0.5 * arm * math.sin(angle) * f, 0.5 * arm * math.cos(angle))
        fore = angle + 0.25 + 0.4 * max(0.0, angle * f)
        hand = (elbow[0] + 0.5 * arm * math.sin(fore) * f, elbow[1] + 0.5 * arm * math.cos(fore))
        return elbow, hand

    sh = (shoulder[0], shoulder[1] + 0.02 * u)
    if look.bag == "backpack":
        bx = lx - f * (tw / 2 + 0.075 * u)
        canvas.paint(
            look.bag_bgr,
            _poly(
                [
                    (bx, sh[1]),
                    (lx - f * tw * 0.3, sh[1]),
                    (lx - f * tw * 0.3, sh[1] + 0.24 * u),
                    (bx, sh[1] + 0.22 * u),
                ]
            ),
        )
    far_hand = limb(sh, arm_points(-arm_angle), _shade(upper), arm_t)
    canvas.paint(_shade(look.skin_bgr), _disc(far_hand, 0.028 * u))
    far_foot = limb(hip, far_leg, _shade(lower), leg_t)
    shoe(far_foot, _shade(look.shoes_bgr))
    near_foot = limb(hip, near_leg, lower, leg_t)
    shoe(near_foot, look.shoes_bgr)

    # Torso: shoulders to hips, slightly narrower at the waist; the pattern is aligned to the body.
    hip_w = tw * 0.85
    torso = [
        (lx - tw / 2, shoulder[1] + 0.03 * u),
        (lx - tw / 2 + 0.03 * u, shoulder[1] - 0.01 * u),
        (lx + tw / 2 - 0.03 * u, shoulder[1] - 0.01 * u),
        (lx + tw / 2, shoulder[1] + 0.03 * u),
        (lx + hip_w / 2, hip[1] + 0.03 * u),
        (lx - hip_w / 2, hip[1] + 0.03 * u),
    ]
    canvas.paint(_pattern(look, (ch, cw), max(2.0, 0.045 * u), shoulder[1]), _poly(torso))
    canvas.paint(
        lower,
        _poly(
            [
                (lx - hip_w / 2, hip[1] - 0.02 * u),
                (lx + hip_w / 2, hip[1] - 0.02 * u),
                (lx + hip_w / 2, hip[1] + 0.06 * u),
                (lx - hip_w / 2, hip[1] + 0.06 * u),
            ]
        ),
    )

    # Head: neck, face, then hair over the back and top (or a cap with its brim to the front).
    r = 0.062 * u
    head = (lx + 0.015 * u * f, top + r + 0.005 * u)
    canvas.paint(look.skin_bgr, _line((lx, shoulder[1]), (head[0], head[1] + r * 0.6), 0.05 * u))
    canvas.paint(look.skin_bgr, _disc(head, r))
    start, end = (165, 345) if f > 0 else (195, 375)
    if look.hat:
        canvas.paint(look.hat_bgr, _ellipse(head, (r * 1.08, r * 1.08), 0, 180, 360))
        canvas.paint(look.hat_bgr, _line(head, (head[0] + f * r * 1.7, head[1]), 0.02 * u))
    else:
        canvas.paint(
            look.hair_bgr, _ellipse((head[0], head[1] - 0.004 * u), (r * 1.05, r * 1.05), 0, start, end)
        )

    near_hand = limb(sh, arm_points(arm_angle), upper, arm_t)
    canvas.paint(look.skin_bgr, _disc(near_hand, 0.03 * u))
    if look.bag == "handbag":
        strap_end = (near_hand[0] - 0.01 * u * f, near_hand[1] + 0.01 * u)
        canvas.paint(look.bag_bgr, _line(near_hand, strap_end, 0.015 * u))
        bw, bh = 0.1 * u, 0.085 * u
        canvas.paint(
            look.bag_bgr,
            _poly(
                [
                    (strap_end[0] - bw / 2, strap_end[1]),
                    (strap_end[0] + bw / 2, strap_end[1]),
                    (strap_end[0] + bw / 2, strap_end[1] + bh),
                    (strap_end[0] - bw / 2, strap_end[1] + bh),
                ]
            ),
        )
    return Figure(canvas.color, canvas.alpha, x0, y0)
