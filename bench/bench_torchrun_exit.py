"""Does a finished torchrun training exit cleanly, every time?

    python bench/bench_torchrun_exit.py [--runs 100] [--nproc 2] [--epochs 2] [--load 1]

Runs ``torchrun --standalone --nproc_per_node=N -m layerlab.engine.train digits_cnn`` on the
CPU (gloo) ``--runs`` times in a row and counts the runs that did not exit 0, by cause: an
abort (SIGABRT, "terminate called without an active exception": a communication thread alive
at interpreter exit), a crash (another signal) or an error. ``--load K`` keeps K busy-looping
processes beside the runs, which widens the exit race the shutdown has to close (issue 15:
about 1 run in 8 aborted on a 2-core machine before the orderly shutdown). Prints one line per
failure with the log's last lines, then the counts; exits 1 when any run failed.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time


def _burn(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def one_run(nproc: int, epochs: int, out: str) -> tuple[str, str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", "-m", "layerlab.engine.train", "digits_cnn",
           "--epochs", str(epochs), "--device", "cpu", "--out", out]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return "ok", log
    if "terminate called" in log or "SIGABRT" in log:
        return "abort", log
    if "Signal" in log and "received by PID" in log:
        return "crash", log
    return "error", log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--load", type=int, default=1, help="busy processes beside the runs")
    args = parser.parse_args()
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
               for _ in range(args.load)]
    for b in burners:
        b.start()
    counts = {"ok": 0, "abort": 0, "crash": 0, "error": 0}
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(1, args.runs + 1):
                kind, log = one_run(args.nproc, args.epochs, os.path.join(tmp, "run"))
                counts[kind] += 1
                if kind != "ok":
                    tail = " | ".join(log.strip().splitlines()[-4:])
                    print(f"run {i}: {kind}: {tail}", flush=True)
                elif i % 10 == 0:
                    print(f"{i} runs, {args.runs and i - counts['ok']} failed", flush=True)
    finally:
        stop.set()
        for b in burners:
            b.join(5)
    seconds = time.perf_counter() - start
    failed = args.runs - counts["ok"]
    print(f"{args.runs} runs of {args.nproc} processes in {seconds:.0f} s with {args.load} busy "
          f"process(es) beside them: {counts['ok']} clean exits, {counts['abort']} aborts, "
          f"{counts['crash']} crashes, {counts['error']} errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
