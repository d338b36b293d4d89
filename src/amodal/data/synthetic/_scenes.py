"""A small generative grammar of scenes, rendered as images (PIL) and described by captions.

A scene is a background plus one to three objects, each with a category, a colour, a size and a position.
The image and the caption are two views of the same scene graph. Every scene also has a latent semantic
vector (what the scene *means*: which categories, colours, sizes, positions, which background), an
appearance vector (pixels of the rendered image) and a text vector (the words of the caption, wording
included). The synthetic brains read these three vectors.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

CATEGORIES = ("ball", "box", "pyramid", "star", "diamond", "cross", "house", "tree")
COLOURS = {
    "red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (240, 210, 40),
    "purple": (140, 60, 180), "orange": (245, 140, 30), "white": (245, 245, 245), "black": (25, 25, 25),
}
SIZES = {"small": 0.16, "large": 0.30}
HPOS = {"left": 0.22, "middle": 0.5, "right": 0.78}
VPOS = {"top": 0.28, "bottom": 0.72}
BACKGROUNDS = {
    "field": ((135, 190, 235), (90, 160, 70)),  # sky over grass
    "beach": ((150, 200, 240), (225, 205, 150)),  # sky over sand
    "night": ((20, 25, 60), (45, 45, 70)),
    "room": ((225, 215, 195), (170, 130, 100)),  # wall over wooden floor
}
BACKGROUND_PHRASES = {
    "field": ["on a grassy field", "in a green meadow", "on the grass under a blue sky"],
    "beach": ["on a sandy beach", "on the beach", "by the sea on the sand"],
    "night": ["at night", "in the dark night", "under a night sky"],
    "room": ["in a room", "inside a room with a wooden floor", "indoors"],
}
OPENERS = ["", "a picture of ", "there is ", "this scene shows ", "we see "]


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene: a category drawn in a colour and size at a grid position (``hpos``, ``vpos``)."""
    category: str
    colour: str
    size: str
    hpos: str
    vpos: str


@dataclass(frozen=True)
class Scene:
    """A scene: a background, one to three objects, and the seed of its caption's wording."""
    background: str
    objects: tuple[SceneObject, ...]
    wording: int  # seed of the caption's wording choices


def sample_scene(rng: np.random.Generator) -> Scene:
    """Draw a scene from ``rng``; objects never share a grid cell, so the image shows all of them."""
    n_obj = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    cells = [(h, v) for h in HPOS for v in VPOS]
    picked = rng.choice(len(cells), size=n_obj, replace=False)
    objects = []
    for c in picked:
        h, v = cells[int(c)]
        objects.append(SceneObject(
            category=str(rng.choice(CATEGORIES)), colour=str(rng.choice(list(COLOURS))),
            size=str(rng.choice(list(SIZES))), hpos=h, vpos=v))
    return Scene(background=str(rng.choice(list(BACKGROUNDS))), objects=tuple(objects),
                 wording=int(rng.integers(0, 2**31 - 1)))


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def caption(scene: Scene) -> str:
    """Describe ``scene`` in one sentence, with wording varied by the scene's wording seed."""
    r = np.random.default_rng(scene.wording)
    parts = []
    for o in scene.objects:
        adjectives = [o.size, o.colour] if r.random() < 0.6 else [o.colour]
        noun = " ".join(adjectives + [o.category])
        where = {"left": "on the left", "middle": "in the middle", "right": "on the right"}[o.hpos]
        vert = {"top": "at the top", "bottom": "at the bottom"}[o.vpos]
        loc = f"{vert} {where}" if r.random() < 0.5 else f"{where}, {vert}"
        parts.append(f"{_article(noun)} {noun} {loc}")
    if len(parts) == 1:
        body = parts[0]
    else:
        body = ", ".join(parts[:-1]) + " and " + parts[-1]
    text = OPENERS[int(r.integers(len(OPENERS)))] + body + " " + \
        BACKGROUND_PHRASES[scene.background][int(r.integers(3))]
    return text[0].upper() + text[1:] + "."


def _shape_polygons(category: str, cx: float, cy: float, s: float) -> list[tuple[str, list]]:
    """Shapes as (kind, geometry) in pixel units; kind is 'ellipse', 'rect' or 'poly'."""
    h = s / 2
    if category == "ball":
        return [("ellipse", [cx - h, cy - h, cx + h, cy + h])]
    if category == "box":
        return [("rect", [cx - h, cy - h, cx + h, cy + h])]
    if category == "pyramid":
        return [("poly", [(cx, cy - h), (cx + h, cy + h), (cx - h, cy + h)])]
    if category == "diamond":
        return [("poly", [(cx, cy - h), (cx + h * 0.7, cy), (cx, cy + h), (cx - h * 0.7, cy)])]
    if category == "star":
        pts = []
        for k in range(10):
            rad = h if k % 2 == 0 else h * 0.45
            ang = -np.pi / 2 + k * np.pi / 5
            pts.append((cx + rad * np.cos(ang), cy + rad * np.sin(ang)))
        return [("poly", pts)]
    if category == "cross":
        t = h * 0.35
        return [("rect", [cx - t, cy - h, cx + t, cy + h]), ("rect", [cx - h, cy - t, cx + h, cy + t])]
    if category == "house":
        return [("rect", [cx - h * 0.8, cy - h * 0.1, cx + h * 0.8, cy + h]),
                ("poly", [(cx - h, cy - h * 0.1), (cx, cy - h), (cx + h, cy - h * 0.1)])]
    if category == "tree":
        return [("rect", [cx - h * 0.15, cy + h * 0.2, cx + h * 0.15, cy + h]),
                ("poly", [(cx, cy - h), (cx + h * 0.75, cy + h * 0.3), (cx - h * 0.75, cy + h * 0.3)])]
    raise ValueError(f"unknown category {category!r}")


def render(scene: Scene, size: int = 128) -> Image.Image:
    """Draw ``scene`` as an RGB PIL image of ``size`` × ``size`` pixels."""
    sky, ground = BACKGROUNDS[scene.background]
    img = Image.new("RGB", (size, size), sky)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, int(size * 0.55), size, size], fill=ground)
    for o in scene.objects:
        colour = COLOURS[o.colour]
        outline = (0, 0, 0) if o.colour != "black" else (255, 255, 255)
        for kind, geom in _shape_polygons(o.category, HPOS[o.hpos] * size, VPOS[o.vpos] * size,
                                          SIZES[o.size] * size * 1.6):
            if kind == "ellipse":
                draw.ellipse(geom, fill=colour, outline=outline)
            elif kind == "rect":
                draw.rectangle(geom, fill=colour, outline=outline)
            else:
                draw.polygon(geom, fill=colour, outline=outline)
    return img


def semantic_vector(scene: Scene) -> np.ndarray:
    """What the scene means, as an array of shape (n_semantic,): counts of categories, colours, sizes,
    positions and a one-hot background.
    """
    cat = np.zeros(len(CATEGORIES))
    col = np.zeros(len(COLOURS))
    cat_col = np.zeros(len(CATEGORIES) * len(COLOURS))
    geo = np.zeros(len(SIZES) + len(HPOS) + len(VPOS))
    for o in scene.objects:
        ci, oi = CATEGORIES.index(o.category), list(COLOURS).index(o.colour)
        cat[ci] += 1
        col[oi] += 1
        cat_col[ci * len(COLOURS) + oi] += 1
        geo[list(SIZES).index(o.size)] += 1
        geo[len(SIZES) + list(HPOS).index(o.hpos)] += 1
        geo[len(SIZES) + len(HPOS) + list(VPOS).index(o.vpos)] += 1
    bg = np.zeros(len(BACKGROUNDS))
    bg[list(BACKGROUNDS).index(scene.background)] = 1
    return np.concatenate([2 * cat, 2 * col, cat_col, geo, 2 * bg, [len(scene.objects)]])


def appearance_vector(image: Image.Image, grid: int = 8) -> np.ndarray:
    """What the image looks like, as an array of shape (3 * grid * grid,): its RGB pixels averaged on a
    ``grid`` × ``grid`` grid, in [0, 1].
    """
    small = image.resize((grid, grid), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64).ravel() / 255.0


def text_vector(text: str, dim: int = 256) -> np.ndarray:
    """What the caption says, wording included, as an array of shape (dim,): a signed hashed bag of words
    and word bigrams.
    """
    words = [w.strip(".,").lower() for w in text.split()]
    grams = words + [a + "_" + b for a, b in zip(words[:-1], words[1:])]
    vec = np.zeros(dim)
    for g in grams:
        hsh = zlib.crc32(g.encode("utf-8"))
        vec[hsh % dim] += 1.0 if (hsh >> 16) & 1 else -1.0
    return vec
