"""Light, batch-level image augmentation that runs on whatever device the batch lives on.

Random numbers are drawn on the generator's own device and then moved to the batch's, so a CPU
generator (reproducible across machines) works for GPU batches too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .spec import parse_augment

if TYPE_CHECKING:   # imported when a batch is augmented, not with the package
    import torch


def _rand(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    import torch
    return torch.rand(n, generator=generator, device=generator.device).to(device)


def augment(x: torch.Tensor, spec: dict | None, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips and integer shifts (filled with ``fill``, default 0) per sample.

    ``spec`` is the dataset's "augment" object: {"flip": bool, "shift": int, optional "fill":
    number or per-channel list in model-input units}. Only (N, C, H, W) batches are changed;
    tabular batches, and any batch when nothing is enabled, come back as the same object.
    ``x`` itself is never modified.
    """
    import torch
    opts = parse_augment(spec)
    if x.dim() != 4 or not opts.active or x.shape[0] == 0:
        return x
    n, c, h, w = x.shape
    out = x
    if opts.flip:
        flip = (_rand(n, generator, x.device) < 0.5).view(n, 1, 1, 1)
        out = torch.where(flip, out.flip(-1), out)
    shift = min(opts.shift, h - 1, w - 1)   # larger shifts would only ever show fill
    if shift > 0:
        span = 2 * shift + 1
        dy = (_rand(n, generator, x.device) * span).long().clamp_(max=span - 1) - shift
        dx = (_rand(n, generator, x.device) * span).long().clamp_(max=span - 1) - shift
        fill = torch.tensor(opts.fill, dtype=x.dtype, device=x.device)
        fill = fill.view(1, -1, 1, 1) if fill.numel() == c else fill[:1].view(1, 1, 1, 1)
        padded = fill.expand(n, c, h + 2 * shift, w + 2 * shift).clone()
        padded[:, :, shift:shift + h, shift:shift + w] = out
        # Gather each sample's window: output pixel (i, j) reads padded (i + shift - dy, j + shift - dx).
        rows = torch.arange(h, device=x.device).view(1, h, 1) + shift - dy.view(n, 1, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w) + shift - dx.view(n, 1, 1)
        batch = torch.arange(n, device=x.device).view(n, 1, 1)
        out = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()
    return out if out is not x else x.clone()
