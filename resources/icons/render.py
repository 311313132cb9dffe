"""Render the app icon from layerlab.svg: PNGs for Linux (hicolor sizes), .ico for Windows and
.icns for macOS. Re-run after editing the SVG and commit the outputs with it:

    python resources/icons/render.py

Qt's own SVG renderer (PySide6.QtSvg, part of PySide6-Essentials) draws every size, so no
other tool is needed. The .ico and .icns containers hold PNG-compressed images (supported by
Windows Vista+ and macOS 10.7+) and are written here directly, byte for byte.
"""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "layerlab.svg"
PNG_SIZES = (256, 128, 48)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry type → pixel size (PNG payloads): 16@2x, 32@2x, 128, 256, 512
ICNS_TYPES = ((b"ic11", 32), (b"ic12", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512))


def render_png(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per size + the PNG payloads."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack(">I", 8 + len(data)) + data for kind, data in entries)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    cache: dict[int, bytes] = {}

    def png(size: int) -> bytes:
        if size not in cache:
            cache[size] = render_png(size)
        return cache[size]

    written = []
    for size in PNG_SIZES:
        path = HERE / f"layerlab-{size}.png"
        path.write_bytes(png(size))
        written.append(path)
    (HERE / "layerlab.ico").write_bytes(ico_bytes({s: png(s) for s in ICO_SIZES}))
    (HERE / "layerlab.icns").write_bytes(icns_bytes([(k, png(s)) for k, s in ICNS_TYPES]))
    written += [HERE / "layerlab.ico", HERE / "layerlab.icns"]
    for path in written:
        print(f"wrote {path.relative_to(HERE.parent.parent)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
