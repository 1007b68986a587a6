"""Render the example "photos" of handwritten digits in img/photos/ (provenance: see README.md here).

Each digit is drawn as pen strokes with a little wobble, then rendered in
one of six styles: paper with uneven light, shadow, paper colour, ink colour,
noise, and a file format. The styles cover what prepare_image must handle.
Two JPEGs (PHONE_PHOTOS) are then stored as a phone stores a portrait: their pixels
turned a quarter, losslessly, by jpegtran (Debian's libjpeg-turbo-progs), and an EXIF
Orientation tag that says how to turn them upright.
Deterministic: the same files on every run (the wobble and noise are seeded).

Run: python img/photos/render_photos.py
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

HERE = Path(__file__).resolve().parent
#: Stored with their pixels turned a quarter clockwise and EXIF Orientation 8 (turn a quarter anticlockwise to view),
#: as a phone held upside down stores a portrait. Orientation 6, the other way, is not lossless here: jpegtran turns
#: whole 16x16 blocks, and the photos are 360 pixels wide.
PHONE_PHOTOS = ("digit_1_pencil.jpg", "digit_7_pencil.jpg")


def arc(cx, cy, rx, ry, start, stop, n=40):
    angles = np.radians(np.linspace(start, stop, n))
    return np.c_[cx + rx * np.cos(angles), cy + ry * np.sin(angles)]


def line(*points, n=20):
    return np.concatenate([np.linspace(a, b, n) for a, b in zip(points, points[1:])])


# Strokes of each digit in a unit box (x to the right, y up), as a pen would draw them.
STROKES = {
    0: [arc(0.5, 0.5, 0.3, 0.45, 100, 460)],
    1: [line((0.33, 0.75), (0.56, 0.95), (0.47, 0.05))],
    2: [np.concatenate([arc(0.5, 0.7, 0.27, 0.24, 160, -30), line((0.72, 0.55), (0.18, 0.05), (0.85, 0.06))])],
    3: [np.concatenate([arc(0.48, 0.73, 0.24, 0.2, 150, -90), arc(0.48, 0.28, 0.3, 0.25, 90, -160)])],
    4: [line((0.62, 0.05), (0.64, 0.95), (0.14, 0.33), (0.86, 0.35))],
    5: [line((0.8, 0.95), (0.32, 0.94), (0.27, 0.56)), arc(0.5, 0.3, 0.3, 0.27, 125, -150)],
    6: [np.concatenate([line((0.72, 0.95), (0.38, 0.6), (0.24, 0.3)), arc(0.48, 0.28, 0.25, 0.24, 180, 540)])],
    7: [line((0.14, 0.93), (0.86, 0.95), (0.42, 0.04))],
    8: [arc(0.5, 0.74, 0.21, 0.2, -90, 270), arc(0.5, 0.28, 0.27, 0.26, 90, 450)],
    9: [arc(0.48, 0.7, 0.25, 0.23, 0, 360), line((0.73, 0.72), (0.66, 0.04))],
}

# name, suffix, paper RGB, ink RGB, pen width in pixels, light falloff, noise, and how the file is stored
STYLES = [
    ("ballpoint", ".jpg", (0.95, 0.95, 0.93), (0.1, 0.15, 0.45), 9, 0.25, 0.02, "rgb"),
    ("pencil", ".jpg", (0.82, 0.81, 0.78), (0.35, 0.35, 0.37), 7, 0.4, 0.03, "rgb"),
    ("marker_on_note", ".png", (0.98, 0.92, 0.45), (0.05, 0.05, 0.05), 16, 0.15, 0.01, "rgb"),
    ("chalkboard", ".jpg", (0.16, 0.22, 0.19), (0.92, 0.92, 0.9), 12, 0.3, 0.03, "rgb"),
    ("transparent", ".png", None, (0.0, 0.0, 0.0), 11, 0.0, 0.0, "rgba"),
    ("scan16", ".png", (0.97, 0.97, 0.97), (0.2, 0.2, 0.2), 10, 0.05, 0.01, "gray16"),
]


def render(digit: int, style: tuple, rng: np.random.Generator, size=(480, 360)) -> np.ndarray:
    """Return an RGBA float image (height, width, 4) of one digit in one style."""
    name, _, paper, ink, pen, falloff, noise, _ = style
    height, width = size
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    fig.patch.set_alpha(0)
    # The digit fills 45-65% of the height, somewhere off-centre, slightly rotated and slanted.
    scale = height * rng.uniform(0.45, 0.65)
    origin = np.array([rng.uniform(0.15, 0.55) * width, rng.uniform(0.1, 0.3) * height])
    angle, slant = np.radians(rng.uniform(-8, 8)), rng.uniform(-0.2, 0.25)
    transform = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ [[1, slant], [0, 1]]
    for stroke in STROKES[digit]:
        wobble = np.cumsum(rng.normal(0, 0.004, stroke.shape), axis=0)
        points = (stroke + wobble - wobble.mean(axis=0)) @ transform.T * [0.75 * scale, scale] + origin
        ax.plot(points[:, 0], points[:, 1], color=ink, linewidth=pen * 0.72, solid_capstyle="round")
    fig.canvas.draw()
    strokes = np.asarray(fig.canvas.buffer_rgba(), dtype=np.float32) / 255
    plt.close(fig)
    if paper is None:
        return strokes
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    light = 1 - falloff * np.clip(xx * rng.uniform(0.5, 1) + yy * rng.uniform(0.5, 1) - 0.3, 0, 1)
    background = np.asarray(paper) * light[..., None] + rng.normal(0, noise, (height, width, 1))
    alpha = strokes[..., 3:]
    rgb = np.clip(strokes[..., :3] * alpha + background * (1 - alpha), 0, 1)
    return np.concatenate([rgb, np.ones_like(alpha)], axis=-1)


def save(image: np.ndarray, path: Path, kind: str) -> None:
    if kind == "gray16":
        gray = tf.image.rgb_to_grayscale(image[..., :3]).numpy()
        data = tf.io.encode_png(tf.constant(np.round(gray * 65535).astype(np.uint16)))
    elif kind == "rgba":
        data = tf.io.encode_png(tf.constant(np.round(image * 255).astype(np.uint8)))
    elif path.suffix == ".jpg":
        data = tf.io.encode_jpeg(tf.constant(np.round(image[..., :3] * 255).astype(np.uint8)), quality=85)
    else:
        data = tf.io.encode_png(tf.constant(np.round(image[..., :3] * 255).astype(np.uint8)))
    path.write_bytes(data.numpy())


def as_a_phone_stores_it(path: Path) -> None:
    """Store a JPEG as a phone does: its pixels turned a quarter clockwise, losslessly, and EXIF Orientation 8.

    jpegtran turns the compressed blocks themselves, so the photo a viewer shows is the same, pixel for pixel.
    The JFIF header it writes gives way to the EXIF one, as in a phone's JPEG.
    """
    if shutil.which("jpegtran") is None:
        raise SystemExit("jpegtran not found: install libjpeg-turbo-progs (Debian, Ubuntu) or jpeg-turbo (Homebrew)")
    turned = subprocess.run(["jpegtran", "-rotate", "90", "-perfect", "-copy", "none", str(path)],
                            capture_output=True, check=True).stdout
    assert turned[:4] == b"\xff\xd8\xff\xe0", "jpegtran's output should start with SOI and a JFIF APP0 segment"
    after_jfif = 4 + int.from_bytes(turned[4:6], "big")
    exif = Image.Exif()
    exif[0x0112] = 8  # Orientation: the 0th row is the left side, the 0th column the bottom
    payload = exif.tobytes()  # b"Exif\0\0" and the TIFF structure with the one tag
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    path.write_bytes(turned[:2] + app1 + turned[after_jfif:])


def main() -> None:
    rng = np.random.default_rng(2024)
    for digit in range(10):
        style = STYLES[digit % len(STYLES)]
        path = HERE / f"digit_{digit}_{style[0]}{style[1]}"
        save(render(digit, style, rng), path, style[-1])
        if path.name in PHONE_PHOTOS:
            as_a_phone_stores_it(path)
        print(path.name)


if __name__ == "__main__":
    main()
