"""Choosing the device: "auto" prefers CUDA, then Apple MPS, then the CPU, and says which."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from .errors import DeviceError

__all__ = ["DeviceInfo", "resolve_device", "available_devices", "apply_determinism",
           "CUBLAS_WORKSPACE"]

#: cuBLAS needs a fixed workspace for repeatable results (PyTorch's reproducibility notes).
CUBLAS_WORKSPACE = ":4096:8"


@dataclass(frozen=True)
class DeviceInfo:
    kind: str          # "cuda" | "mps" | "cpu"
    device: str        # torch device string: "cuda:0", "mps", "cpu"
    name: str          # "NVIDIA H100 80GB HBM3", "Apple MPS", "CPU (8 threads)"
    reason: str        # "auto: CUDA is available" — for the log line / status bar

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def describe(self) -> str:
        return f"{self.device} — {self.name}"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _cpu_info() -> DeviceInfo:
    cpu = platform.processor() or platform.machine() or "CPU"
    return DeviceInfo("cpu", "cpu", f"{cpu} ({torch.get_num_threads()} threads)", "")


def _cuda_info(index: int, reason: str) -> DeviceInfo:
    return DeviceInfo("cuda", f"cuda:{index}", torch.cuda.get_device_name(index), reason)


def available_devices() -> list[str]:
    """The device choices that would work here, for menus: always "cpu" and "auto"."""
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    if _mps_available():
        out.append("mps")
    return out


def resolve_device(name: str = "auto") -> DeviceInfo:
    """The device for a config value; raises DeviceError when the requested one is missing."""
    if name == "auto":
        if torch.cuda.is_available():
            return _cuda_info(torch.cuda.current_device(), "auto: CUDA is available")
        if _mps_available():
            return DeviceInfo("mps", "mps", "Apple MPS (Metal)", "auto: Apple MPS is available")
        info = _cpu_info()
        return DeviceInfo(info.kind, info.device, info.name, "auto: no CUDA or MPS GPU found")
    if name == "cpu":
        info = _cpu_info()
        return DeviceInfo(info.kind, info.device, info.name, "requested")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                why = (f"this PyTorch build ({torch.__version__}) has no CUDA support — install "
                       f"a CUDA build of PyTorch")
            elif os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
                why = "CUDA_VISIBLE_DEVICES is empty, which hides every GPU"
            else:
                why = "no NVIDIA GPU or driver was found"
            raise DeviceError(f"device 'cuda' is not available: {why}. Use device auto or cpu.")
        index = int(name[5:]) if name.startswith("cuda:") else torch.cuda.current_device()
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(f"device '{name}' is not available: this machine has {count} "
                              f"CUDA GPU{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})")
        return _cuda_info(index, "requested")
    if name == "mps":
        if not _mps_available():
            mps = getattr(torch.backends, "mps", None)
            why = ("this PyTorch build has no MPS support" if mps is None or not mps.is_built()
                   else "MPS needs an Apple-silicon Mac with macOS 12.3 or later")
            raise DeviceError(f"device 'mps' is not available: {why}. Use device auto or cpu.")
        return DeviceInfo("mps", "mps", "Apple MPS (Metal)", "requested")
    raise DeviceError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)")


def apply_determinism(device: torch.device, deterministic: bool) -> None:
    """CUDA: with ``deterministic``, deterministic cuDNN convolutions without autotuning,
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` (ops that have no
    deterministic kernel warn instead of failing) and ``CUBLAS_WORKSPACE_CONFIG`` (kept when
    the user set it; it only takes effect before the process's first cuBLAS call); without,
    the fast choices. These are process-wide settings. Nothing to do on the CPU or MPS."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.use_deterministic_algorithms(False)
