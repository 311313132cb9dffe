"""Small helpers the shape rules share: input checks and PyTorch's output-size formulas."""
from __future__ import annotations

from ..edits import Fix, InsertBetween, SetParams
from ..registry import Shape, ShapeError, format_shape


# --- remedies (engine.edits.Fix with placeholders; see registry.ShapeError) ------------------

def set_params_fix(label: str, **params) -> Fix:
    """Change this node's parameters."""
    return Fix(label, (SetParams("{node}", params),))


def insert_before_fix(type_name: str, params: dict | None = None, source: str = "{input}",
                      label: str | None = None) -> Fix:
    """Splice a new layer into the wire from ``source`` into this node."""
    article = "an" if type_name[0] in "AEIOU" else "a"
    return Fix(label or f"Insert {article} {type_name} before {{node}}",
               (InsertBetween(source, "{node}", "{new}", type_name, dict(params or {})),))


def pair_value(a: int, b: int) -> int | list[int]:
    """A pair parameter's value as a person would write it: 3, or [3, 5]."""
    return a if a == b else [a, b]


def pair_text(a: int, b: int) -> str:
    """A window's size ("3×5"); a border as one number when both sides agree ("1")."""
    return f"{a}×{b}"


def pad_text(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}×{b}"


def single_image(inputs: list[Shape], layer: str) -> tuple[int, int, int]:
    """The one input as (C, H, W), or a ShapeError telling the learner what to do."""
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"{{node}} receives {_words(shape)}, but {layer} needs a "
                         f"channels×height×width image — feed it from an image Input or a "
                         f"convolution, not after a Flatten or Linear")
    return shape  # type: ignore[return-value]


def single_vector(inputs: list[Shape], layer: str) -> int:
    shape = inputs[0]
    if len(shape) != 1:
        raise ShapeError(f"{{node}} receives {format_shape(shape)} — insert a Flatten before it",
                         fixes=[insert_before_fix("Flatten")])
    return shape[0]


def _words(shape: Shape) -> str:
    return f"{shape[0]} features" if len(shape) == 1 else format_shape(shape)


def conv_out(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """torch.nn.Conv2d: ⌊(size + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def pool_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """ATen's pooling_output_shape: like conv_out, but ceil_mode rounds up unless the last
    window would start entirely in the right padding."""
    numerator = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def out_formula(size: int, kernel: int, stride: int, pad: int, dilation: int, result: int,
                ceil_mode: bool = False) -> str:
    """The worked formula with the learner's own numbers."""
    bracket = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    return (f"{bracket[0]}({size} + 2·{pad} − {dilation}·({kernel}−1) − 1) / {stride}"
            f"{bracket[1]} + 1 = {result}")


def check_pool_padding(kernel: tuple[int, int], pad: tuple[int, int]) -> None:
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        most = (min(pad[0], kernel[0] // 2), min(pad[1], kernel[1] // 2))
        raise ShapeError(f"padding {pad[0]}×{pad[1]} is more than half the "
                         f"{kernel[0]}×{kernel[1]} window — PyTorch allows at most "
                         f"{kernel[0] // 2}×{kernel[1] // 2}",
                         fixes=[set_params_fix(f"Set padding to {pad_text(*most)}",
                                               padding=pair_value(*most))])


def check_positive(out_h: int, out_w: int, c: int, h: int, w: int, what: str) -> None:
    """A pooling window larger than its input (``what`` names the window)."""
    if out_h < 1 or out_w < 1:
        raise ShapeError(f"its {what} is larger than its {h}×{w} input "
                         f"(the output would be {c}×{out_h}×{out_w}) — use a window of at "
                         f"most {h}×{w}",
                         fixes=[set_params_fix(f"Set kernel_size to {pair_text(h, w)}",
                                               kernel_size=pair_value(h, w))])


def fmt(n: int) -> str:
    return f"{n:,}"
