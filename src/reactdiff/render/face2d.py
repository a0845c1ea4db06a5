"""The default face renderer: a clean 2-D cartoon face drawn from the 25-d REACT emotion vector.

No licensed asset, no GPU. Each frame's face is driven by the emotion columns (see
``reactdiff.constants.EMOTION_COLUMNS``):

- brows: inner raise AU1, outer raise AU2, lowerer AU4 (with frown lines);
- eyes and cheeks: cheek raiser AU6 (lifts the lower lid, crow's feet), lid tightener AU7;
- nose: wrinkler AU9 (raised nostrils, bridge wrinkles);
- mouth: upper-lip raiser AU10, lip-corner puller AU12, dimpler AU14, corner depressor AU15,
  chin raiser AU17, lip tightener AU23, lip pressor AU24, lips part AU25, jaw drop AU26;
- the expression probabilities add their prototype movements at half strength (Happy smiles,
  Surprise widens the eyes and drops the jaw...), skin tint follows Anger/Fear/Sad/Disgust, the
  background is warm for positive valence and cool for negative, saturated by arousal;
- head rotation (pitch, yaw, roll) from 3DMM columns 52-54 when given: features live on an
  ellipsoid and are rotated in 3-D, then projected orthographically.

The geometry of all frames is computed at once with numpy; Pillow draws each frame at 2x and
averages each 2x2 block of pixels (supersampling anti-aliasing).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from reactdiff.constants import AU_NAMES, EXPRESSION_NAMES, EXPRESSION_SLICE, VA_SLICE
from reactdiff.render.geometry import check_inputs, euler_to_matrix, head_angles, smooth_emotion

#: Drawing happens at this multiple of the output size, then is downsampled (anti-aliasing).
SUPERSAMPLE = 2
#: Points per curve; enough for smooth lips and lids at 512 px.
CURVE_POINTS = 17

SKIN = np.array([238.0, 200.0, 172.0])
HAIR = (92, 64, 48)
SHIRT = (78, 108, 158)
LINE = np.array([120.0, 70.0, 60.0])
LIP = np.array([196.0, 96.0, 98.0])
MOUTH_INSIDE = (96, 30, 38)
TEETH = (250, 248, 240)
IRIS = (84, 112, 140)
PUPIL = (28, 24, 26)
EYE_WHITE = (252, 252, 250)
BROW = (86, 58, 44)


def _column(emotion: np.ndarray, name: str) -> np.ndarray:
    if name in AU_NAMES:
        return emotion[:, AU_NAMES.index(name)]
    return emotion[:, EXPRESSION_SLICE.start + EXPRESSION_NAMES.index(name)]


def face_controls(emotion: np.ndarray) -> dict[str, np.ndarray]:
    """Map a (T, 25) emotion sequence to named facial movements, each (T,) in about [0, 1.3].

    AUs are the primary drivers; expression probabilities add their prototypical AUs at half
    strength, so a face labelled Happy smiles even when the AU detector missed AU12.
    """
    emotion = np.array(emotion, dtype=np.float64)
    emotion[:, : len(AU_NAMES)] = np.clip(emotion[:, : len(AU_NAMES)], 0.0, 1.0)
    emotion[:, EXPRESSION_SLICE] = np.clip(emotion[:, EXPRESSION_SLICE], 0.0, 1.0)
    au = {name: _column(emotion, name) for name in AU_NAMES}
    expr = {name: _column(emotion, name) for name in EXPRESSION_NAMES}
    valence, arousal = np.clip(emotion[:, VA_SLICE], -1.0, 1.0).T

    def clip(x: np.ndarray, high: float = 1.3) -> np.ndarray:
        return np.clip(x, 0.0, high)

    return {
        "inner_brow_raise": clip(au["AU1"] + 0.5 * (expr["Sad"] + expr["Fear"] + expr["Surprise"])),
        "outer_brow_raise": clip(au["AU2"] + 0.5 * expr["Surprise"] + 0.2 * expr["Fear"]),
        "brow_lower": clip(au["AU4"] + 0.5 * expr["Anger"] + 0.2 * (expr["Disgust"] + expr["Sad"])),
        "cheek_raise": clip(au["AU6"] + 0.3 * expr["Happy"]),
        "lid_tighten": clip(au["AU7"] + 0.3 * expr["Anger"]),
        "eye_widen": clip(0.6 * expr["Surprise"] + 0.5 * expr["Fear"]),
        "nose_wrinkle": clip(au["AU9"] + 0.5 * expr["Disgust"]),
        "upper_lip_raise": clip(au["AU10"] + 0.3 * expr["Disgust"]),
        "smile": clip(au["AU12"] + 0.5 * expr["Happy"] + 0.15 * np.maximum(valence, 0.0)),
        "dimple": clip(au["AU14"]),
        "contempt": clip(expr["Contempt"]),
        "frown": clip(au["AU15"] + 0.5 * expr["Sad"] + 0.15 * np.maximum(-valence, 0.0)),
        "chin_raise": clip(au["AU17"]),
        "lip_tighten": clip(au["AU23"] + 0.2 * expr["Anger"]),
        "lip_press": clip(au["AU24"]),
        "lips_part": clip(au["AU25"] + 0.4 * expr["Surprise"]),
        "jaw_drop": clip(au["AU26"] + 0.6 * expr["Surprise"] + 0.3 * expr["Fear"]),
        "valence": valence,
        "arousal": arousal,
        "anger": expr["Anger"],
        "pale": clip(0.6 * expr["Fear"] + 0.4 * expr["Sad"], 1.0),
        "disgust": expr["Disgust"],
        "happy": expr["Happy"],
    }


def _col(x: np.ndarray) -> np.ndarray:
    """(T,) -> (T, 1) so per-frame controls broadcast over curve points."""
    return np.asarray(x, dtype=np.float64)[:, None]


def _points(x: np.ndarray, y: np.ndarray, depth_boost: np.ndarray | float = 0.0) -> np.ndarray:
    """Stack face-plane curves (T, n) into 3-D points on the head ellipsoid (T, n, 3).

    The head is an ellipsoid of half-axes 1 (x) and 1.35 (y); a feature's depth is where it sits
    on that surface, so yaw and pitch slide it sideways the way a real turning head does.
    """
    x, y = np.broadcast_arrays(x, y)
    z = 0.95 * np.sqrt(np.clip(1.0 - x**2 - (y / 1.35) ** 2, 0.02, 1.0)) + depth_boost
    return np.stack([x, y, z], axis=-1)


def _mirror(points: np.ndarray) -> np.ndarray:
    mirrored = points.copy()
    mirrored[..., 0] *= -1
    return mirrored


def _face_shapes(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All rotating features of all frames, in face coordinates (x right, y up, z to viewer)."""
    num_frames = len(c["smile"])
    s = np.linspace(-1.0, 1.0, CURVE_POINTS)[None, :]  # position along a curve, corner to corner
    bulge = np.sqrt(1.0 - s**2)  # 0 at the corners, 1 in the middle
    shapes: dict[str, np.ndarray] = {}

    # Brows: inner end raised by AU1, outer by AU2, both lowered and drawn together by AU4.
    u = np.linspace(0.0, 1.0, CURVE_POINTS)[None, :]  # 0 at the inner end, 1 at the outer end
    inner_x = 0.17 * (1.0 - 0.3 * _col(c["brow_lower"]))
    inner_y = 0.47 + 0.11 * _col(c["inner_brow_raise"]) - 0.08 * _col(c["brow_lower"])
    outer_y = 0.47 + 0.09 * _col(c["outer_brow_raise"]) - 0.03 * _col(c["brow_lower"])
    arch = 0.06 + 0.03 * _col(c["outer_brow_raise"]) - 0.02 * _col(c["inner_brow_raise"])
    centre_x = inner_x + (0.64 - inner_x) * u
    centre_y = inner_y + (outer_y - inner_y) * u + arch * 4.0 * u * (1.0 - u)
    half_thick = 0.035 * (1.0 - 0.6 * u)  # tapers towards the temple
    brow = np.concatenate([_points(centre_x, centre_y + half_thick), _points(centre_x, centre_y - half_thick)[:, ::-1]], 1)
    shapes["brow_right"], shapes["brow_left"] = brow, _mirror(brow)

    # Frown lines between the brows (AU4) and horizontal bridge wrinkles (AU9).
    ones = np.ones((num_frames, 1))
    frown_x = np.array([[0.06, 0.05]]) * ones
    frown_y = np.array([[0.46, 0.34]]) - 0.05 * _col(c["brow_lower"])
    shapes["frown_line_right"] = _points(frown_x, frown_y)
    shapes["frown_line_left"] = _mirror(shapes["frown_line_right"])
    wrinkle_x = np.linspace(-0.09, 0.09, 5)[None, :] * ones
    for k, height in enumerate((0.10, 0.15)):
        wrinkle_y = height - 2.0 * wrinkle_x**2  # arcs following the bridge
        shapes[f"nose_wrinkle_{k}"] = _points(wrinkle_x, wrinkle_y, 0.12)

    # Eyes: upper lid opened by widening, closed by AU7/AU6; lower lid pushed up by AU6.
    eye_x, eye_y, eye_half_width = 0.38, 0.22, 0.17
    openness = np.clip(1.0 + 0.7 * _col(c["eye_widen"]) - 0.45 * _col(c["lid_tighten"]) - 0.25 * _col(c["cheek_raise"])
                       - 0.15 * _col(c["brow_lower"]), 0.12, 1.8)
    upper_height = 0.095 * openness
    lower_height = 0.055 * (1.0 - 0.55 * _col(c["cheek_raise"]) - 0.3 * _col(c["lid_tighten"])) + 0.02 * _col(c["eye_widen"])
    lid_x = eye_x + eye_half_width * s
    upper_lid = eye_y + upper_height * bulge**1.2
    lower_lid = eye_y - lower_height * bulge**1.2
    eye = np.concatenate([_points(lid_x, upper_lid), _points(lid_x, lower_lid)[:, ::-1]], 1)
    shapes["eye_right"], shapes["eye_left"] = eye, _mirror(eye)
    shapes["lid_right"], shapes["lid_left"] = _points(lid_x, upper_lid), _mirror(_points(lid_x, upper_lid))
    # Iris and pupil are circles clipped to the lids, so a narrowed eye hides part of the iris.
    angle = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)[None, :]
    for name, radius in (("iris", 0.07), ("pupil", 0.032)):
        circle_x = eye_x + radius * np.cos(angle) * ones
        lid_s = np.clip((circle_x - eye_x) / eye_half_width, -1.0, 1.0)
        lid_bulge = np.sqrt(1.0 - lid_s**2) ** 1.2
        circle_y = np.clip(eye_y - 0.005 + radius * np.sin(angle), eye_y - lower_height * lid_bulge, eye_y + upper_height * lid_bulge)
        shapes[f"{name}_right"] = _points(circle_x, circle_y, 0.01)
        shapes[f"{name}_left"] = _mirror(shapes[f"{name}_right"])
    # Crow's feet at the outer eye corners (AU6).
    crow_u = np.linspace(0.0, 1.0, 3)[None, :]
    shapes["crows_feet_right"] = _points(0.6 + 0.06 * crow_u * ones, 0.2 - 0.05 * crow_u * ones)
    shapes["crows_feet_left"] = _mirror(shapes["crows_feet_right"])

    # Nose: tip and nostrils, lifted by the wrinkler (AU9) and the upper-lip raiser (AU10).
    lift = 0.04 * _col(c["nose_wrinkle"]) + 0.015 * _col(c["upper_lip_raise"])
    nose_u = np.linspace(-1.0, 1.0, 9)[None, :]
    nose_x = 0.11 * nose_u * (1.0 + 0.1 * _col(c["nose_wrinkle"]))
    nose_y = -0.22 + lift - 0.05 * np.sqrt(1.0 - nose_u**2)
    shapes["nose_tip"] = _points(nose_x, nose_y, 0.3 * np.sqrt(1.0 - nose_u**2) + 0.1)
    bridge_u = np.linspace(0.0, 1.0, 6)[None, :]
    shapes["nose_side_right"] = _points(0.05 + 0.07 * bridge_u**2 * ones, 0.12 - 0.3 * bridge_u + bridge_u * lift, 0.12 * bridge_u)
    shapes["nose_side_left"] = _mirror(shapes["nose_side_right"])

    # Mouth. Both lips follow a parabola through the corners: corners up for a smile (AU12),
    # down for AU15; the lower lip follows the jaw (AU26) and parts with AU25.
    press = _col(c["lip_press"])
    opening = (0.035 * _col(c["lips_part"]) + 0.13 * _col(c["jaw_drop"]) * np.maximum(_col(c["lips_part"]), 0.4)) * (1.0 - 0.8 * press)
    half_width = 0.27 * (1.0 + 0.22 * _col(c["smile"]) + 0.1 * _col(c["dimple"]) - 0.15 * _col(c["lip_tighten"]) - 0.1 * press)
    corner_y = 0.11 * _col(c["smile"]) - 0.09 * _col(c["frown"]) + 0.02 * _col(c["dimple"])
    # Contempt pulls up one corner only (the subject's right, drawn at the viewer's left).
    corner_y = corner_y + 0.06 * _col(c["contempt"]) * (s < 0)
    mouth_y = -0.6 + 0.03 * _col(c["chin_raise"]) + 0.02 * _col(c["upper_lip_raise"])
    mouth_x = half_width * s
    centre_line = mouth_y + corner_y * s**2
    inner_upper = centre_line + 0.2 * opening * bulge + 0.025 * _col(c["upper_lip_raise"]) * bulge
    inner_lower = centre_line - 0.8 * opening * bulge
    thin = np.clip(1.0 - 0.45 * _col(c["lip_tighten"]) - 0.5 * press, 0.25, 1.0)
    cupids_bow = 0.012 * np.exp(-((s / 0.15) ** 2))
    outer_upper = inner_upper + (0.055 * thin * bulge**0.6 - cupids_bow)
    outer_lower = inner_lower - 0.075 * thin * np.clip(1.0 - 0.3 * _col(c["chin_raise"]), 0.5, 1.0) * bulge**0.6
    teeth_lower = np.maximum(inner_upper - 0.05, inner_lower)
    shapes["upper_lip"] = np.concatenate([_points(mouth_x, outer_upper), _points(mouth_x, inner_upper)[:, ::-1]], 1)
    shapes["lower_lip"] = np.concatenate([_points(mouth_x, inner_lower), _points(mouth_x, outer_lower)[:, ::-1]], 1)
    shapes["mouth_inside"] = np.concatenate([_points(mouth_x, inner_upper), _points(mouth_x, inner_lower)[:, ::-1]], 1)
    shapes["teeth"] = np.concatenate([_points(mouth_x * 0.8, inner_upper), _points(mouth_x * 0.8, teeth_lower)[:, ::-1]], 1)
    shapes["lip_line"] = _points(mouth_x, (inner_upper + inner_lower) / 2.0)

    # Nasolabial folds from the nose wings to just outside the mouth corners, deeper when smiling.
    fold_u = np.linspace(0.0, 1.0, 7)[None, :]
    fold_x = 0.16 + (half_width + 0.05 - 0.16) * fold_u + 0.04 * np.sin(np.pi * fold_u)
    fold_y = -0.2 + (mouth_y + corner_y[:, -1:] - 0.02 + 0.2) * fold_u
    shapes["fold_right"] = _points(fold_x, fold_y)
    shapes["fold_left"] = _mirror(shapes["fold_right"])
    # Chin-raiser (AU17) dimple and the cheeks (blush centres).
    chin_u = np.linspace(-1.0, 1.0, 5)[None, :]
    shapes["chin_crease"] = _points(0.1 * chin_u * ones, -0.92 + 0.02 * chin_u**2 + 0.03 * _col(c["chin_raise"]))
    cheek_angle = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)[None, :]
    cheek_y = -0.12 + 0.05 * _col(c["cheek_raise"]) + 0.03 * _col(c["smile"])
    shapes["cheek_right"] = _points(0.55 + 0.15 * np.cos(cheek_angle) * ones, cheek_y + 0.1 * np.sin(cheek_angle))
    shapes["cheek_left"] = _mirror(shapes["cheek_right"])

    # Hair fringe and ears rotate with the head as well.
    hair_u = np.linspace(-1.0, 1.0, 15)[None, :]
    shapes["fringe"] = _points(0.98 * hair_u * ones, 0.72 + 0.12 * np.cos(hair_u * np.pi / 2) ** 0.5 * ones)
    ear_angle = np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False)[None, :]
    # Ears sit slightly behind the silhouette plane so a turning head hides the far one.
    ear = np.stack(np.broadcast_arrays(1.0 + 0.09 * np.cos(ear_angle), 0.1 + 0.2 * np.sin(ear_angle), -0.05), -1)
    shapes["ear_right"] = np.repeat(ear, num_frames, axis=0)
    shapes["ear_left"] = _mirror(shapes["ear_right"])
    return shapes


def _outline(c: dict[str, np.ndarray], points: int = 64) -> np.ndarray:
    """The head silhouette (T, n, 3): an egg shape whose chin drops with the jaw (AU26)."""
    theta = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)[None, :]
    lower = np.sin(theta) < 0
    x = np.cos(theta) * (1.0 - 0.16 * lower * np.abs(np.sin(theta)) ** 2)
    y = np.sin(theta) * np.where(lower, 1.35 + 0.1 * _col(c["jaw_drop"]), 1.35)
    x, y = np.broadcast_arrays(x, y)
    return np.stack([x, y, np.zeros_like(x)], -1)


def _blend(base: np.ndarray, other, weight) -> tuple[int, int, int]:
    """``base`` moved ``weight`` of the way to ``other``, as an RGB tuple (Pillow has no alpha on RGB)."""
    weight = float(np.clip(weight, 0.0, 1.0))
    return tuple(int(round(v)) for v in (1.0 - weight) * np.asarray(base) + weight * np.asarray(other, dtype=np.float64))


def _frame_colours(c: dict[str, np.ndarray], t: int) -> dict[str, tuple[int, int, int]]:
    """Per-frame colours: skin tint from expression probabilities, background from valence/arousal."""
    # Tints stack: anger reddens, fear/sadness pale, disgust turns the skin sallow.
    skin = np.asarray(_blend(SKIN, (236, 150, 128), 0.55 * c["anger"][t]))
    skin = np.asarray(_blend(skin, (222, 214, 208), 0.5 * c["pale"][t]))
    skin = np.asarray(_blend(skin, (212, 206, 150), 0.35 * c["disgust"][t]))
    valence, arousal = c["valence"][t], c["arousal"][t]
    mood = (252, 226, 170) if valence >= 0 else (178, 202, 240)
    background = _blend((232, 232, 232), mood, abs(valence) * (0.45 + 0.35 * (arousal + 1.0) / 2.0))
    blush = 0.2 * c["happy"][t] + 0.25 * c["cheek_raise"][t] + 0.15 * max(arousal, 0.0) + 0.2 * c["anger"][t]
    return {
        "skin": tuple(int(v) for v in skin),
        "skin_shade": _blend(skin, LINE, 0.25),
        "background": background,
        "blush": _blend(skin, (232, 120, 120), min(blush, 0.6)),
        "blush_weight": blush,
        "lip": _blend(LIP, skin, 0.15),
        "lip_dark": _blend(LIP, LINE, 0.5),
    }


def _line_colour(skin, weight: float) -> tuple[int, int, int]:
    """A crease drawn with ``weight`` in [0, 1]: fades into the skin when the movement is absent."""
    return _blend(skin, LINE, 0.15 + 0.7 * float(np.clip(weight, 0.0, 1.0)))


def _polygon(points: np.ndarray) -> list[tuple[float, float]]:
    return [tuple(p) for p in points.tolist()]


def _draw_frame(t: int, px: dict[str, np.ndarray], c: dict[str, np.ndarray], canvas: int) -> Image.Image:
    """Draw frame ``t`` back to front from its pixel-space shapes ``px`` and controls ``c``."""
    colours = _frame_colours(c, t)
    skin = colours["skin"]
    image = Image.new("RGB", (canvas, canvas), colours["background"])
    draw = ImageDraw.Draw(image)
    unit = canvas / 200.0  # stroke widths scale with the canvas
    stroke = max(1, round(2.2 * unit))

    # Neck and shoulders first, then ears (behind the head), the head, and the hair.
    draw.polygon(_polygon(px["neck"][t]), fill=colours["skin_shade"])
    draw.polygon(_polygon(px["shoulders"][t]), fill=SHIRT)
    for side in ("right", "left"):
        draw.polygon(_polygon(px[f"ear_{side}"][t]), fill=colours["skin_shade"])
    draw.polygon(_polygon(px["outline"][t]), fill=skin, outline=colours["skin_shade"], width=stroke)
    draw.polygon(_polygon(px["hair"][t]), fill=HAIR)

    # Cheek blush and creases whose darkness follows the movement that makes them.
    if colours["blush_weight"] > 0.02:
        for side in ("right", "left"):
            draw.polygon(_polygon(px[f"cheek_{side}"][t]), fill=colours["blush"])
    fold = max(c["smile"][t], c["upper_lip_raise"][t])
    for side in ("right", "left"):
        if fold > 0.05:
            draw.line(_polygon(px[f"fold_{side}"][t]), fill=_line_colour(skin, 0.8 * fold), width=stroke, joint="curve")
        if c["cheek_raise"][t] > 0.05:
            draw.line(_polygon(px[f"crows_feet_{side}"][t]), fill=_line_colour(skin, c["cheek_raise"][t]), width=stroke)
        if c["brow_lower"][t] > 0.05:
            draw.line(_polygon(px[f"frown_line_{side}"][t]), fill=_line_colour(skin, c["brow_lower"][t]), width=stroke)
    if c["nose_wrinkle"][t] > 0.05:
        for k in range(2):
            draw.line(_polygon(px[f"nose_wrinkle_{k}"][t]), fill=_line_colour(skin, c["nose_wrinkle"][t]), width=stroke)
    if c["chin_raise"][t] > 0.05:
        draw.line(_polygon(px["chin_crease"][t]), fill=_line_colour(skin, c["chin_raise"][t]), width=stroke)

    # Eyes: white, iris, pupil (already clipped to the lids), then the upper lid line.
    for side in ("right", "left"):
        draw.polygon(_polygon(px[f"eye_{side}"][t]), fill=EYE_WHITE, outline=colours["skin_shade"])
        draw.polygon(_polygon(px[f"iris_{side}"][t]), fill=IRIS)
        draw.polygon(_polygon(px[f"pupil_{side}"][t]), fill=PUPIL)
        draw.line(_polygon(px[f"lid_{side}"][t]), fill=PUPIL, width=stroke + 1, joint="curve")
        draw.polygon(_polygon(px[f"brow_{side}"][t]), fill=BROW)

    # Nose.
    draw.line(_polygon(px["nose_tip"][t]), fill=_line_colour(skin, 0.3), width=stroke, joint="curve")
    for side in ("right", "left"):
        draw.line(_polygon(px[f"nose_side_{side}"][t]), fill=_blend(skin, LINE, 0.1), width=stroke, joint="curve")

    # Mouth: inside, teeth, then both lips and the line where they meet.
    draw.polygon(_polygon(px["mouth_inside"][t]), fill=MOUTH_INSIDE)
    if c["lips_part"][t] > 0.05 or c["jaw_drop"][t] > 0.05:
        draw.polygon(_polygon(px["teeth"][t]), fill=TEETH)
    draw.polygon(_polygon(px["upper_lip"][t]), fill=colours["lip"])
    draw.polygon(_polygon(px["lower_lip"][t]), fill=colours["lip"])
    draw.line(_polygon(px["lip_line"][t]), fill=colours["lip_dark"], width=stroke, joint="curve")
    return image


def _body_shapes(num_frames: int) -> dict[str, np.ndarray]:
    """Neck and shoulders (T, n, 3): they do not turn with the head."""
    neck = np.array([[-0.38, -0.9], [0.38, -0.9], [0.45, -1.75], [-0.45, -1.75]])
    shoulder_u = np.linspace(0.0, np.pi, 20)
    shoulders = np.stack([1.75 * np.cos(shoulder_u), -1.6 + 0.3 * np.sin(shoulder_u)], -1)
    shoulders = np.concatenate([shoulders, [[-1.9, -2.3], [1.9, -2.3]]])
    result = {}
    for name, flat in (("neck", neck), ("shoulders", shoulders)):
        points = np.concatenate([flat, np.zeros((len(flat), 1))], 1)
        result[name] = np.repeat(points[None], num_frames, axis=0)
    return result


def _hair(outline: np.ndarray, fringe: np.ndarray) -> np.ndarray:
    """The hair: the top arc of the (roll-rotated) silhouette closed by the (rotated) fringe."""
    top = outline[:, : outline.shape[1] // 2 + 1]  # theta from 0 to pi: the upper half
    return np.concatenate([top, fringe], axis=1)


def render_faces(emotion: np.ndarray, coeffs_3dmm: np.ndarray | None = None, size: int = 256) -> np.ndarray:
    """Render a (T, 25) emotion sequence (and optional (T, 58) 3DMM for head pose) as frames.

    Returns uint8 frames (T, size, size, 3). Deterministic: the same input gives the same pixels.
    3DMM rows must be mean-face subtracted (as stored by ``reactdiff prepare`` and predicted by the
    models); only the rotation columns 52-54 are used.
    """
    emotion, coeffs_3dmm = check_inputs(emotion, coeffs_3dmm)
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    num_frames = emotion.shape[0]
    controls = face_controls(smooth_emotion(emotion))
    angles = head_angles(coeffs_3dmm, num_frames)

    # Rotate every feature of every frame in one einsum; the silhouette, hair top and body only
    # roll (the head outline of a turning ellipsoid barely changes; its features move).
    rotation = euler_to_matrix(angles)
    roll_only = euler_to_matrix(angles * np.array([0.0, 0.0, 1.0]))
    shapes = _face_shapes(controls)
    outline = np.einsum("tij,tnj->tni", roll_only, _outline(controls))
    rotated = {name: np.einsum("tij,tnj->tni", rotation, points) for name, points in shapes.items()}
    rotated["outline"] = outline
    rotated["hair"] = _hair(outline, rotated.pop("fringe"))
    rotated.update(_body_shapes(num_frames))

    canvas = size * SUPERSAMPLE
    scale, centre_x, centre_y = canvas * 0.29, canvas * 0.5, canvas * 0.44
    pixels = {
        name: np.stack([centre_x + scale * points[..., 0], centre_y - scale * points[..., 1]], -1)
        for name, points in rotated.items()
    }
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    for t in range(num_frames):
        image = _draw_frame(t, pixels, controls, canvas)
        # Box-averaging the 2x canvas is the classic supersampling resolve; at 512 -> 256 px it takes
        # 0.5 ms against 8 ms for a Lanczos resize (measured on the 2-core dev machine).
        frames[t] = np.asarray(image.reduce(SUPERSAMPLE))
    return frames
