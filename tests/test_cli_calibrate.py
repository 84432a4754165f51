"""``attribution calibrate`` and the ``[tests]`` table of batch configs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import attribution as at
import attribution.report as report_module
from attribution.cli import main
from attribution.datasets import holdout_test, simulate

TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("calib")
    sim = simulate(1500, days=42, random_state=4)
    sim.to_csv(folder, paths=False)
    tests = [holdout_test(sim, "display", random_state=0), holdout_test(sim, "video", holdout=0.2, random_state=1)]
    at.lift_tests_frame(tests).to_csv(folder / "tests.csv", index=False)
    return folder


@pytest.fixture
def fast_figures(monkeypatch):
    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)


def _events(data):
    return [data / "touchpoints.csv", "--conversions", data / "conversions.csv", "--identities", data / "identities.csv"]


def test_calibrate_command_writes_tables_and_report(data, tmp_path, capsys, fast_figures):
    out = tmp_path / "out"
    code = main([str(a) for a in ["calibrate", *_events(data), "--costs", data / "costs.csv", "--tests", data / "tests.csv",
                                  "--model", "linear", "--n-boot", "0", "--draws", "5", "--out", out, "-q"]])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "calibrate linear (attributed) -> incremental credit" in stdout and "Test next:" in stdout
    for name in ("calibration_credits.csv", "calibration_factors.csv", "calibration_tests.csv", "calibration_roi.csv",
                 "calibration_next_tests.csv", "calibration_plan.csv", "calibration.png", "report.html"):
        assert (out / name).is_file(), name
    credits = pd.read_csv(out / "calibration_credits.csv", index_col=0)
    conversions = pd.read_csv(data / "conversions.csv")
    assert credits["conversions"].sum() == pytest.approx(len(conversions))  # conservation, baseline row included
    page = (out / "report.html").read_text()
    assert "Calibration by experiments" in page and "id='calibration'" in page and "Which channel to test next" in page


def test_calibrate_command_reports_bad_test_table(data, tmp_path, capsys):
    bad = pd.read_csv(data / "tests.csv")
    bad.loc[0, "se"] = -1
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code = main([str(a) for a in ["calibrate", *_events(data), "--tests", tmp_path / "bad.csv", "--out", tmp_path / "o", "-q"]])
    _, err = capsys.readouterr()
    assert code == 2 and "'se'" in err and "standard error must be > 0" in err
    code = main([str(a) for a in ["calibrate", *_events(data), "--tests", tmp_path / "missing.csv", "-q"]])
    _, err = capsys.readouterr()
    assert code == 2 and "file not found" in err


def test_batch_config_tests_table_calibrates_every_run(data, tmp_path, capsys, fast_figures):
    config = tmp_path / "runs.toml"
    config.write_text(
        f'out = "batch"\n[inputs.events]\ninput = "{data / "touchpoints.csv"}"\nconversions = "{data / "conversions.csv"}"\n'
        f'costs = "{data / "costs.csv"}"\n[models]\nrules = ["linear"]\n'
        f'[tests]\nfile = "{data / "tests.csv"}"\nmodel = "linear"\nn_boot = 0\n'
    )
    code = main(["compare", "--config", str(config), "-q"])
    _, err = capsys.readouterr()
    assert code == 0, err
    run = tmp_path / "batch" / "events" / "rules"
    assert (run / "calibration_factors.csv").is_file() and "Calibration by experiments" in (run / "report.html").read_text()
    config.write_text(config.read_text().replace('model = "linear"', 'model = "markov"'))
    code = main(["compare", "--config", str(config), "-q"])
    _, err = capsys.readouterr()
    assert code == 2 and "[tests]" in err and "markov" in err
