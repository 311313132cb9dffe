"""The epoch-time estimate: the analysis's MACs and values, the dataset's sample count, and a
rate measured once per process (engine/epoch_estimate.py). No timed assertions: the
arithmetic is checked with a given rate, the measurement for being measured and cached."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest

from layerlab.engine import analyze, load_project
from layerlab.engine import epoch_estimate as est
from layerlab.engine.data import load_dataset
from layerlab.engine.data.fit import dataset_spec
from layerlab.engine.epoch_estimate import (DeviceRate, epoch_work, estimate_epoch,
                                            estimate_from, format_duration)
from layerlab.engine.templates import load_template, template_path

RATE = DeviceRate("cpu", "the CPU (4 threads)", macs_per_s=50e9, values_per_s=500e6,
                  layer_s=20e-6, step_s=300e-6)


@pytest.mark.parametrize("seconds, text", [
    (0.4, "under a second"), (8.4, "≈ 8 s"), (59.4, "≈ 59 s"), (150, "≈ 2 min 30 s"),
    (121, "≈ 2 min"), (599, "≈ 10 min"), (840, "≈ 14 min"), (4800, "≈ 1 h 20 min"),
    (7190, "≈ 2 h")])
def test_durations_read_as_estimates(seconds, text):
    assert format_duration(seconds) == text


def test_the_work_is_the_analysis_and_the_split_the_trainer_gets():
    project = load_template("digits_cnn")
    analysis = analyze(project.graph)
    work = epoch_work(project)
    data = load_dataset(dataset_spec(project))
    assert work.forward_macs == analysis.total_macs == 91_776
    assert work.activation_values == analysis.activation_elements()
    assert work.layers == len(project.graph.nodes)
    assert (work.train_samples, work.val_samples) == (len(data.y_train), len(data.y_val))
    assert work.batch_size == 32 and work.batches == math.ceil(work.train_samples / 32)


def test_the_estimate_is_the_documented_arithmetic():
    work = epoch_work(load_template("shapes_cnn"))
    e = estimate_from(work, RATE)
    sample = 3 * work.forward_macs / 50e9 + 2 * work.activation_values / 500e6
    step = 300e-6 + work.layers * 20e-6
    assert e.sample_s == pytest.approx(sample) and e.step_s == pytest.approx(step)
    assert e.seconds == pytest.approx(work.batches * step + work.train_samples * sample
                                      + work.val_samples * sample / 3)
    assert e.text() == f"{format_duration(e.seconds)} per epoch on the CPU (4 threads)"
    faster = estimate_from(work, DeviceRate("cuda:0", "a GPU", 5e12, 5e10, 1e-5, 1e-4))
    assert faster.seconds < e.seconds


def test_bigger_networks_take_longer():
    times = {key: estimate_from(epoch_work(load_template(key)), RATE).seconds
             for key in ("digits_cnn", "alexnet", "resnet18", "vgg16")}
    assert times["digits_cnn"] < times["alexnet"] < times["resnet18"] < times["vgg16"]


def test_settings_that_change_the_epoch_change_the_estimate():
    project = load_template("shapes_cnn")
    full = epoch_work(project)
    project.dataset = {**project.dataset, "train_samples": 100}
    assert epoch_work(project).train_samples == 100
    project.training = {**project.training, "batch_size": 8}
    assert epoch_work(project).batches == 13
    assert full.train_samples == 2400


def test_no_estimate_for_what_cannot_train():
    broken = load_template("lenet5")
    broken.graph.nodes["conv1"].params["kernel_size"] = 99
    assert epoch_work(broken) is None and estimate_epoch(broken, rate=RATE) is None
    missing = load_template("house_mlp")
    missing.dataset = {**missing.dataset, "path": "nowhere.csv"}
    assert epoch_work(missing) is None
    bad_training = load_template("digits_cnn")
    bad_training.training = {"batch_size": -3}
    assert epoch_work(bad_training) is None


def test_a_dataset_that_does_not_say_its_size_is_estimated_per_thousand_samples():
    project = load_project(template_path("house_mlp"))
    base = template_path("house_mlp").parent
    unknown = estimate_epoch(project, base, rate=RATE)
    assert unknown.seconds is None and "per 1,000 samples" in unknown.text()
    known = estimate_epoch(project, base, rate=RATE, samples=200)
    assert known.work.train_samples == 160 and known.seconds > 0


def test_the_rate_is_measured_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(est, "_rates", {})
    monkeypatch.setattr(est, "_measure", lambda device: calls.append(device) or RATE)
    assert est.cached_rate("cpu") is None
    assert est.measure_rate("cpu") is RATE and est.measure_rate("cpu") is RATE
    assert calls == ["cpu"] and est.cached_rate("cpu") is RATE
    assert estimate_epoch(load_template("digits_cnn"), device="cpu").rate is RATE
    assert calls == ["cpu"]


def test_a_real_measurement_gives_usable_rates():
    rate = est._measure("cpu")
    assert rate.device == "cpu" and "CPU" in rate.name
    for value in (rate.macs_per_s, rate.values_per_s, rate.layer_s, rate.step_s):
        assert math.isfinite(value) and value > 0
    assert rate.macs_per_s > 1e8 and rate.step_s < 1.0


def test_importing_the_estimate_does_not_import_torch():
    code = ("import sys, layerlab.engine.epoch_estimate as e; "
            "assert e.cached_rate() is None; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
