"""BIG-bench ``geometric_shapes`` as images: its SVG paths rendered with Pillow.

Each item of the task asks what an SVG ``<path d="...">`` draws (a circle, kite, sector,
...). :func:`render_path` draws the path's ``M``/``L``/``A`` commands as black strokes on
a white square, scaled to fit; :func:`rendered_problems` turns the text problems into
problems whose question no longer contains the SVG and whose ``images`` names the PNG.

Rendering is deterministic (no anti-aliasing, fixed size and stroke), so the same path
always gives the same bytes; PNGs are cached by the path's hash under
``<cache>/images/geometric_shapes``.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

from PIL import Image, ImageDraw

from ted_graph.types import Problem

__all__ = ["parse_path", "render_path", "rendered_problems", "PathError"]

_TOKEN = re.compile(r"[MLAZmlaz]|-?\d*\.?\d+(?:e-?\d+)?")
_SVG = re.compile(r'(?:This SVG path element )?<path d="([^"]*)"\s*/>')
_ARGS = {"M": 2, "L": 2, "A": 7, "Z": 0}


class PathError(ValueError):
    """An SVG path this renderer cannot read."""


Point = tuple[float, float]


def _arc(start: Point, args: list[float], steps: int = 48) -> list[Point]:
    """Points along an SVG elliptical arc (endpoint parameterization, SVG 1.1 F.6.5)."""
    (x1, y1), (rx, ry, phi_deg, large, sweep, x2, y2) = start, args
    if rx == 0 or ry == 0 or (x1, y1) == (x2, y2):
        return [(x2, y2)]
    rx, ry, phi = abs(rx), abs(ry), math.radians(phi_deg)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (x1 - x2) / 2, (y1 - y2) / 2
    x1p, y1p = cos * dx + sin * dy, -sin * dx + cos * dy
    scale = x1p**2 / rx**2 + y1p**2 / ry**2
    if scale > 1:  # radii too small to reach the end point: scale them up
        rx, ry = rx * math.sqrt(scale), ry * math.sqrt(scale)
    num = rx**2 * ry**2 - rx**2 * y1p**2 - ry**2 * x1p**2
    den = rx**2 * y1p**2 + ry**2 * x1p**2
    coef = math.sqrt(max(0.0, num / den)) * (-1 if bool(large) == bool(sweep) else 1)
    cxp, cyp = coef * rx * y1p / ry, -coef * ry * x1p / rx
    cx = cos * cxp - sin * cyp + (x1 + x2) / 2
    cy = sin * cxp + cos * cyp + (y1 + y2) / 2
    theta1 = math.atan2((y1p - cyp) / ry, (x1p - cxp) / rx)
    theta2 = math.atan2((-y1p - cyp) / ry, (-x1p - cxp) / rx)
    delta = theta2 - theta1
    if sweep and delta < 0:
        delta += 2 * math.pi
    elif not sweep and delta > 0:
        delta -= 2 * math.pi
    out = []
    for i in range(1, steps + 1):
        t = theta1 + delta * i / steps
        out.append(
            (
                cx + rx * cos * math.cos(t) - ry * sin * math.sin(t),
                cy + rx * sin * math.cos(t) + ry * cos * math.sin(t),
            )
        )
    return out


def parse_path(d: str) -> list[list[Point]]:
    """The polylines an SVG path draws (absolute ``M``, ``L``, ``A``, ``Z``).

    Example:
        >>> parse_path("M 0,0 L 10,0 L 10,10 Z")
        [[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 0.0)]]
    """
    tokens = _TOKEN.findall(d.replace(",", " "))
    if not tokens or tokens[0].upper() != "M":
        raise PathError(f"an SVG path must start with M: {d[:60]!r}")
    lines: list[list[Point]] = []
    i, command = 0, ""
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
        if command.islower():
            raise PathError(f"relative command {command!r} is not supported: {d[:60]!r}")
        n = _ARGS[command]
        try:
            args = [float(t) for t in tokens[i : i + n]]
        except ValueError as exc:
            raise PathError(f"bad numbers after {command!r} in {d[:60]!r}") from exc
        if len(args) != n:
            raise PathError(f"{command!r} needs {n} numbers in {d[:60]!r}")
        i += n
        if command == "M":
            lines.append([(args[0], args[1])])
            command = "L"  # further pairs after M are line-tos
        elif command == "L":
            lines[-1].append((args[0], args[1]))
        elif command == "A":
            lines[-1].extend(_arc(lines[-1][-1], args))
        else:  # Z
            lines[-1].append(lines[-1][0])
            if i < len(tokens) and not tokens[i].isalpha():
                raise PathError(f"numbers after Z in {d[:60]!r}")
    return lines


def render_path(d: str, size: int = 256, stroke: int = 3, margin: int = 16) -> Image.Image:
    """Draw an SVG path's strokes, scaled to fit a ``size`` x ``size`` white RGB image."""
    lines = parse_path(d)
    xs = [x for line in lines for x, _ in line]
    ys = [y for line in lines for _, y in line]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = (size - 2 * margin) / span
    ox = margin + ((size - 2 * margin) - (max(xs) - min(xs)) * scale) / 2
    oy = margin + ((size - 2 * margin) - (max(ys) - min(ys)) * scale) / 2
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for line in lines:
        points = [(ox + (x - min(xs)) * scale, oy + (y - min(ys)) * scale) for x, y in line]
        if len(points) == 1:
            draw.point(points, fill="black")
        else:
            draw.line(points, fill="black", width=stroke, joint="curve")
    return image


def rendered_problems(problems: list[Problem], image_dir: Path) -> list[Problem]:
    """``geometric_shapes`` problems with the path shown as an image instead of SVG text."""
    image_dir.mkdir(parents=True, exist_ok=True)
    out: list[Problem] = []
    for problem in problems:
        match = _SVG.search(problem["question"])
        if match is None:
            raise PathError(f"{problem['id']}: no SVG <path d=...> in the question")
        d = match.group(1)
        target = image_dir / f"{hashlib.sha256(d.encode()).hexdigest()[:16]}.png"
        if not target.exists():
            try:
                image = render_path(d)
            except PathError as exc:
                raise PathError(f"{problem['id']}: {exc}") from exc
            tmp = target.with_suffix(".tmp.png")
            image.save(tmp, format="PNG")
            tmp.replace(target)
        question = _SVG.sub("The path shown in the image", problem["question"], count=1)
        out.append({**problem, "question": question, "images": [str(target)]})
    return out
