"""Canvas benchmark: a ~300-node DenseNet-like graph (every layer of a dense block feeds every
later Concat), timed for a parameter edit (analysis + scene + panels) and for pan/zoom frames.

    python bench/bench_canvas.py            # offscreen is fine
    QT_QPA_PLATFORM=xcb python bench/bench_canvas.py   # under a real (or Xvfb) display

Prints figures only; it asserts nothing about speed.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from layerlab.engine import analyze  # noqa: E402
from layerlab.engine.compose import Composer  # noqa: E402


def densenet_like(blocks: int = 3, layers: int = 24, growth: int = 12):
    g = Composer()
    x = g.input([3, 32, 32])
    x = g.layer("Conv2d", x, out_channels=2 * growth, kernel_size=3, padding=1, id="stem")
    for b in range(blocks):
        features = [x]
        for i in range(layers):
            h = g.layer("BatchNorm2d", features[-1] if i == 0 else concat)
            h = g.layer("ReLU", h)
            h = g.layer("Conv2d", h, out_channels=growth, kernel_size=3, padding=1)
            features.append(h)
            concat = g.layer("Concat", list(features))        # all earlier features
        x = concat
        if b < blocks - 1:
            x = g.layer("BatchNorm2d", x)
            x = g.layer("ReLU", x)
            x = g.layer("Conv2d", x, out_channels=4 * growth, kernel_size=1)
            x = g.layer("AvgPool2d", x, kernel_size=2)
    x = g.layer("BatchNorm2d", x)
    x = g.layer("ReLU", x)
    x = g.layer("AdaptiveAvgPool2d", x)
    x = g.layer("Flatten", x)
    g.layer("Linear", x, out_features=10)
    return g.project("DenseNet-like")


def residual_chain(nodes: int = 1000):
    """A long residual network (stem + blocks of 7 layers with a skip each) of about
    ``nodes`` layers: the layout's worst realistic case (long, branchy, many skip lanes)."""
    g = Composer()
    x = g.input([16, 32, 32])
    while len(g.graph.nodes) + 7 <= nodes:
        y = g.layer("Conv2d", x, out_channels=16, kernel_size=3, padding=1)
        y = g.layer("BatchNorm2d", y)
        y = g.layer("ReLU", y)
        y = g.layer("Conv2d", y, out_channels=16, kernel_size=3, padding=1)
        y = g.layer("BatchNorm2d", y)
        x = g.layer("ReLU", g.layer("Add", [y, x]))
    return g.project(f"Residual chain ({len(g.graph.nodes)} layers)")


def layout_and_fit(app, window) -> None:
    """Arrange (the engine layout) and opening's fit, for ResNet-18 and a 1,000-layer graph;
    reference: engine.analyze of the same graph, in the same run."""
    from layerlab.engine.layout import layered_positions
    from layerlab.engine.templates import load_template
    print("layout + fit (reference: engine.analyze of the same graph)")
    for project in (load_template("resnet18"), residual_chain(1000)):
        graph = project.graph
        t_ref = timed(lambda: analyze(graph), 5)
        t_layout = timed(lambda: layered_positions(graph), 5)
        print(f"  {project.name}: {len(graph.nodes)} nodes")
        report("engine.analyze (reference)", t_ref)
        report("engine.layout.layered_positions", t_layout)
        print(f"  {'ratio layout / analyze':<52} {statistics.median(t_layout) / statistics.median(t_ref):7.2f}")
        t0 = time.perf_counter()
        window.files.load_into(project, None)
        window.scene.flush_routes()
        app.processEvents()
        print(f"  {'load into the window (scene + routing + panels)':<52} "
              f"{(time.perf_counter() - t0) * 1000:7.0f} ms")
        view = window.view
        report("Arrange (layout + undo step + scene moves + fit)",
               timed(lambda: (window.editor.undo() if window.editor.undo_stack.count() else None,
                              window.editor.auto_layout(), window.scene.flush_routes(),
                              view.viewport().repaint()), 3))
        report("open's fit (show_graph) + repaint",
               timed(lambda: (view.show_graph(), view.viewport().repaint()), 5))
        report("  reference: a repaint alone", timed(lambda: view.viewport().repaint(), 5))
        window.editor.mark_saved()


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(f"  {name:<52} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms"
          f"   (n={len(ms)})")


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    from layerlab.app.main_window import MainWindow

    project = densenet_like()
    graph = project.graph
    analysis = analyze(graph)
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, "
          f"{analysis.total_params:,} parameters, ok={analysis.ok}")
    print(f"platform: {app.platformName()}")

    tmp = Path(tempfile.mkdtemp(prefix="layerlab-bench-"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_dir=tmp / "autosave",
                        autosave_interval_s=3600)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()

    t0 = time.perf_counter()
    window.files.load_into(project, None)
    app.processEvents()
    print(f"load into the window (scene + panels): {(time.perf_counter() - t0) * 1000:.0f} ms")

    print("parameter edit (stem.out_channels: every downstream shape changes)")
    report("engine.analyze alone", timed(lambda: analyze(graph), 30))
    ed, view, scene = window.editor, window.view, window.scene
    values = iter(range(10, 10_000))
    window.selection.select(["stem"])
    report("edit → analyze + scene + inspector + summary + problems",
           timed(lambda: ed.set_param("stem", "out_channels", next(values)), 30))
    report("  … plus repainting the canvas",
           timed(lambda: (ed.set_param("stem", "out_channels", next(values)),
                          view.viewport().repaint()), 30))
    summary_dock = window.panels["summary"]
    summary_dock.hide()
    report("  … with the summary panel hidden",
           timed(lambda: ed.set_param("stem", "out_channels", next(values)), 30))
    summary_dock.show()
    t_scene = []
    for _ in range(30):
        a = analyze(graph)
        t0 = time.perf_counter()
        scene.apply_analysis(a)
        t_scene.append((time.perf_counter() - t0) * 1000)
    report("scene.apply_analysis alone (no change to show)", t_scene)

    print("frames (scroll/zoom + synchronous viewport repaint)")
    for label, zoom in (("100% zoom", 1.0), ("fit: whole graph visible", None)):
        if zoom is None:
            view.fit_to_view()
        else:
            view.set_zoom(zoom)
            view.centerOn(scene.node_items["stem"].center())
        bar = view.horizontalScrollBar()

        def pan_frame(step=[12]):
            step[0] = -step[0] if abs(bar.value()) > 4000 else step[0]
            bar.setValue(bar.value() + step[0])
            view.viewport().repaint()

        report(f"pan frame, {label}", timed(pan_frame, 60))
        factors = [1.1, 1 / 1.1] * 30
        report(f"zoom frame, {label}",
               timed(lambda: (view.zoom_by(factors.pop()), view.viewport().repaint()), 60))
    window.editor.mark_saved()
    layout_and_fit(app, window)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
