"""The ``attribution`` command line: every sub-command, a batch config, every error path and
the exit codes (0 ok, 2 usage / input error, 1 unexpected), run in-process through ``main`` and
once through a subprocess.

Figures are replaced by a 1-pixel PNG in most tests (the report tests draw the real ones), so
the suite stays fast.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import attribution.report as report_module
from attribution import cli
from attribution.cli import main, parse_models
from attribution.datasets import simulate

ROOT = Path(__file__).resolve().parents[1]
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A small simulated data set as CSV files (events with places, costs, customers, truth, paths)."""
    folder = tmp_path_factory.mktemp("sample")
    simulate(400, days=30, random_state=2).to_csv(folder)
    return folder


@pytest.fixture
def fast_figures(monkeypatch):
    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def events_args(data: Path) -> list:
    return [data / "touchpoints.csv", "--conversions", data / "conversions.csv", "--identities", data / "identities.csv"]


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("note:")]


# ---------------------------------------------------------------------------------------------
# help
# ---------------------------------------------------------------------------------------------


def test_top_level_help_lists_every_command_with_examples(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("compare", "kpis", "ropo", "simulate"):
        assert command in out
        assert f"attribution {command}" in out  # an example of each
    assert "examples:" in out


@pytest.mark.parametrize("command", ["compare", "kpis", "ropo", "simulate"])
def test_every_command_help_is_complete(command, capsys):
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    assert f"usage: attribution {command}" in out
    assert "examples:" in out and f"attribution {command} " in out.split("examples:")[1]
    assert "--out" in out and "--verbose" in out and "--quiet" in out
    if command == "compare":
        for flag in ("--conversions", "--paths", "--costs", "--models", "--lookback", "--config", "--customer",
                     "--time", "--channel", "--truth", "--budget", "--bounds"):
            assert flag in out
        assert "[inputs.sample]" in out and "[models]" in out and "summary.csv" in out


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("attribution ")


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def test_compare_events_with_costs_writes_everything(data, tmp_path, capsys, fast_figures):
    out_dir = tmp_path / "results"
    code, out, err = run(
        ["compare", *events_args(data), "--costs", data / "costs.csv",
                             "--truth", data / "truth.csv", "--models", "last_touch,linear,markov:order=2",
                             "--out", out_dir],
        capsys,
    )
    assert code == 0, err
    for name in ("report.html", "credits.csv", "credits_wide.csv", "roi.csv", "budget_plan.csv", "ropo_summary.csv",
                 "kpis_by_channel.csv", "credits.png", "roi.png", "budget.png", "ropo.png"):
        assert (out_dir / name).is_file(), name
    credits = pd.read_csv(out_dir / "credits.csv")
    assert list(credits["model"].unique()) == ["last_touch", "linear", "markov:order=2"]
    conversions = pd.read_csv(data / "conversions.csv")
    for _, part in credits.groupby("model"):  # every model gives back every conversion
        assert part["conversions"].sum() == pytest.approx(len(conversions))
    roi = pd.read_csv(out_dir / "roi.csv")
    assert {"channel", "model", "cost", "roi", "roas", "cpa"} <= set(roi.columns)
    plan = pd.read_csv(out_dir / "budget_plan.csv", index_col=0)
    spend = pd.read_csv(data / "costs.csv").groupby("channel")["cost"].sum()
    assert plan["planned"].sum() == pytest.approx(spend.sum(), abs=0.011)
    assert (plan["planned"] >= 0.5 * plan["current"] - 0.011).all()
    assert (plan["planned"] <= 2.0 * plan["current"] + 0.011).all()
    # the short table on the terminal
    assert "Conversions credited to each channel by each model" in out
    assert "markov:order=2" in out and "truth" in out and "ROI under markov:order=2" in out
    assert "report.html" in out
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    for section in ("id='data'", "id='models'", "id='roi'", "id='budget'", "id='ropo'", "id='kpis'", "id='methods'"):
        assert section in page
    assert "%|" not in err  # no progress bar when stderr is not a terminal


def test_compare_path_table_default_models(data, tmp_path, capsys, fast_figures):
    out_dir = tmp_path / "paths"
    code, _, err = run(["compare", data / "paths.csv", "--paths", "--out", out_dir], capsys)
    assert code == 0, err
    assert "time_decay skipped" in err
    credits = pd.read_csv(out_dir / "credits.csv")
    assert "time_decay" not in set(credits["model"]) and "markov" in set(credits["model"])
    assert not (out_dir / "roi.csv").exists()
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "id='roi'" not in page and "id='ropo'" not in page


def test_compare_quiet_prints_no_notes(data, tmp_path, capsys, fast_figures):
    code, _, err = run(["compare", data / "paths.csv", "--paths", "--models", "linear", "--out", tmp_path, "--quiet"],
                       capsys)
    assert code == 0
    assert err == ""


def test_model_specs_keep_their_parameters():
    assert parse_models("last_touch, markov:order=2,collapse_repeats=true,shapley") == [
        "last_touch", "markov:order=2,collapse_repeats=true", "shapley"]
    assert parse_models("position_based:first=0.3,last=0.5;linear") == ["position_based:first=0.3,last=0.5", "linear"]


def test_lookback_flag_changes_the_journeys(data, tmp_path, capsys, fast_figures):
    code, _, err = run(["compare", *events_args(data), "--models", "last_touch", "--lookback", "1D", "--out", tmp_path],
                       capsys)
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "data_summary.csv", index_col=0)["value"]
    assert float(summary["excluded touches: lookback"]) > 0


def test_duckdb_engine_reads_globs_and_matches_pandas(data, tmp_path, capsys, fast_figures):
    pytest.importorskip("duckdb")
    touch = pd.read_csv(data / "touchpoints.csv")
    parts = tmp_path / "touchpoints"
    parts.mkdir()
    half = len(touch) // 2
    touch.iloc[:half].to_parquet(parts / "part-0.parquet")
    touch.iloc[half:].to_parquet(parts / "part-1.parquet")
    common = ["--conversions", data / "conversions.csv", "--identities", data / "identities.csv",
              "--models", "last_touch,linear,markov"]
    code, _, err = run(["compare", data / "touchpoints.csv", *common, "--out", tmp_path / "pandas"], capsys)
    assert code == 0, err
    code, out, err = run(["compare", str(parts / "*.parquet"), *common, "--engine", "duckdb",
                          "--out", tmp_path / "duckdb"], capsys)
    assert code == 0, err
    a = pd.read_csv(tmp_path / "pandas" / "credits.csv").set_index(["model", "channel"]).sort_index()
    b = pd.read_csv(tmp_path / "duckdb" / "credits.csv").set_index(["model", "channel"]).sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)
    summary_a = pd.read_csv(tmp_path / "pandas" / "data_summary.csv", index_col=0)["value"]
    summary_b = pd.read_csv(tmp_path / "duckdb" / "data_summary.csv", index_col=0)["value"]
    assert summary_a["journeys (weighted)"] == summary_b["journeys (weighted)"]
    # the printed journey count is the weighted one, not the number of path-table rows
    assert f"{float(summary_b['journeys (weighted)']):,.0f} journeys" in out
    assert float(summary_b["journey rows"]) < float(summary_b["journeys (weighted)"])
    assert summary_a["excluded touches: lookback"] == summary_b["excluded touches: lookback"]


def test_duckdb_engine_missing_glob_is_one_line(tmp_path, capsys):
    code, _, err = run(["compare", str(tmp_path / "nothing" / "*.parquet"), "--engine", "duckdb",
                        "--out", tmp_path / "o"], capsys)
    assert code == 2
    assert "file not found" in err and "no file matches" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# batch
# ---------------------------------------------------------------------------------------------


def write_config(path: Path, data: Path, out: str = "batch", extra: str = "") -> Path:
    path.write_text(
        f"""
out = "{out}"

[defaults]
lookback = "30D"

[inputs.events]
input = "{(data / 'touchpoints.csv').as_posix()}"
conversions = "{(data / 'conversions.csv').as_posix()}"
identities = "{(data / 'identities.csv').as_posix()}"
costs = "{(data / 'costs.csv').as_posix()}"

[inputs.paths]
input = "{(data / 'paths.csv').as_posix()}"
paths = true

[models]
rules = ["last_touch", "linear"]
chains = "markov,markov:order=2"
{extra}
""",
        encoding="utf-8",
    )
    return path


def test_batch_config_runs_every_input_and_model_set(data, tmp_path, capsys, fast_figures):
    config = write_config(tmp_path / "runs.toml", data)
    code, out, err = run(["compare", "--config", config], capsys)
    assert code == 0, err
    base = tmp_path / "batch"  # relative to the config file
    for name in ("events", "paths"):
        for model_set in ("rules", "chains"):
            assert (base / name / model_set / "report.html").is_file()
            assert (base / name / model_set / "credits.csv").is_file()
    assert (base / "events" / "rules" / "roi.csv").is_file()
    summary = pd.read_csv(base / "summary.csv")
    assert list(summary.columns[:6]) == ["run", "input", "model_set", "model", "estimand", "channel"]
    assert set(summary["estimand"]) == {"attributed"}
    assert set(summary["run"]) == {"events/rules", "events/chains", "paths/rules", "paths/chains"}
    # one row per run x model x channel
    assert not summary.duplicated(["run", "model", "channel"]).any()
    n_channels = summary.groupby(["run", "model"])["channel"].nunique()
    assert len(summary) == n_channels.sum() and len(n_channels) == 8
    assert summary.loc[summary["input"] == "events", "roi"].notna().any()
    assert "Share of conversions per channel in %, every run and model" in out


def test_batch_out_flag_overrides_the_config(data, tmp_path, capsys, fast_figures):
    config = tmp_path / "one.toml"
    config.write_text(
        f'[inputs.p]\ninput = "{(data / "paths.csv").as_posix()}"\npaths = true\n[models]\nm = ["linear"]\n',
        encoding="utf-8",
    )
    code, _, err = run(["compare", "--config", config, "--out", tmp_path / "elsewhere"], capsys)
    assert code == 0, err
    assert (tmp_path / "elsewhere" / "summary.csv").is_file()
    assert (tmp_path / "elsewhere" / "p" / "m" / "report.html").is_file()


# ---------------------------------------------------------------------------------------------
# kpis, ropo, simulate
# ---------------------------------------------------------------------------------------------


def test_kpis_command(data, tmp_path, capsys, fast_figures):
    stages = tmp_path / "stages.csv"
    pd.DataFrame({"channel": ["display", "video", "paid_search_brand"],
                  "stage": ["awareness", "awareness", "decision"]}).to_csv(stages, index=False)
    code, out, err = run(["kpis", *events_args(data), "--stages", stages, "--top", 5, "--out", tmp_path / "k"], capsys)
    assert code == 0, err
    for name in ("report.html", "kpis_by_channel.csv", "kpis_overall.csv", "kpis_top_paths.csv", "kpis_funnel.csv",
                 "kpi_positions.png"):
        assert (tmp_path / "k" / name).is_file(), name
    assert len(pd.read_csv(tmp_path / "k" / "kpis_top_paths.csv")) == 5
    assert "Per channel" in out and "conversion rate" in out


def test_ropo_command(data, tmp_path, capsys, fast_figures):
    code, out, err = run(["ropo", *events_args(data), "--customers", data / "customers.csv", "--model", "linear",
                          "--n-boot", 20, "--out", tmp_path / "r"], capsys)
    assert code == 0, err
    for name in ("report.html", "ropo_summary.csv", "ropo_by_channel.csv", "ropo_incrementality.csv", "ropo.png"):
        assert (tmp_path / "r" / name).is_file(), name
    assert "ROPO rate" in out and "Incremental store purchases" in out
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "id='ropo'" in page and "store_visit" in page


def test_simulate_command(tmp_path, capsys):
    code, out, _ = run(["simulate", "--out", tmp_path / "sim", "--customers", 150, "--days", 20, "--seed", 3], capsys)
    assert code == 0
    for name in ("touchpoints", "conversions", "identities", "customers", "costs", "truth", "paths"):
        assert (tmp_path / "sim" / f"{name}.csv").is_file()
        assert f"{name}.csv" in out


# ---------------------------------------------------------------------------------------------
# errors: one line, exit code 2 (1 for a bug), traceback only with --verbose
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path, capsys):
    code, _, err = run(["compare", tmp_path / "nope.csv"], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and "file not found" in lines[0] and "nope.csv" in lines[0]
    assert "Traceback" not in err


def test_missing_conversions_file(data, tmp_path, capsys):
    code, _, err = run(["compare", data / "touchpoints.csv", "--conversions", tmp_path / "none.csv"], capsys)
    assert code == 2 and "--conversions" in err and "file not found" in err


def test_missing_column_names_the_flag(data, tmp_path, capsys):
    code, _, err = run(["compare", *events_args(data), "--time", "ts", "--out", tmp_path], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1
    assert "no time column 'ts'" in lines[0] and "--time" in lines[0] and "timestamp" in lines[0]
    assert "Traceback" not in err


def test_missing_cost_column(data, tmp_path, capsys):
    costs = tmp_path / "costs.csv"
    pd.DataFrame({"channel": ["display"], "euros": [10.0]}).to_csv(costs, index=False)
    code, _, err = run(["compare", *events_args(data), "--costs", costs, "--out", tmp_path], capsys)
    assert code == 2 and "no cost column" in err and "--cost-column" in err


@pytest.mark.parametrize("spec, expected", [
    ("markv", "Did you mean 'markov'"),
    ("markov:ordr=2", "Did you mean 'order'"),
    ("markov:order", "key=value"),
    (",", "names no model"),
])
def test_bad_model_spec(spec, expected, data, tmp_path, capsys):
    code, _, err = run(["compare", *events_args(data), "--models", f"linear,{spec}" if spec != "," else spec,
                        "--out", tmp_path], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0]
    assert not (tmp_path / "credits.csv").exists()


@pytest.mark.parametrize("lookback", ["30", "-3D", "soon", "0D"])
def test_bad_lookback(lookback, data, tmp_path, capsys):
    code, _, err = run(["compare", *events_args(data), f"--lookback={lookback}", "--out", tmp_path], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and "bad lookback" in lines[0] and "30D" in lines[0]


def test_time_decay_on_a_path_table_is_refused(data, tmp_path, capsys):
    code, _, err = run(["compare", data / "paths.csv", "--paths", "--models", "linear,time_decay", "--out", tmp_path],
                       capsys)
    assert code == 2 and "needs timestamps" in err


def test_input_and_config_errors(data, tmp_path, capsys):
    code, _, err = run(["compare"], capsys)
    assert code == 2 and "INPUT" in err
    config = write_config(tmp_path / "runs.toml", data)
    code, _, err = run(["compare", data / "paths.csv", "--config", config], capsys)
    assert code == 2 and "not both" in err


@pytest.mark.parametrize("body, expected", [
    ("this is not toml", "not valid TOML"),
    ('[inputs.a]\ninput = "{paths}"\n[models]\nm = ["linear"]\n[extra]\n', "unknown key 'extra'"),
    ('[inputs.a]\ninput = "{paths}"\n', "[models]"),
    ('[inputs.a]\npaths = true\n[models]\nm = ["linear"]\n', "no 'input' key"),
    ('[inputs.a]\ninput = "{paths}"\npath = true\n[models]\nm = ["linear"]\n', "Did you mean 'paths'"),
    ('[inputs.a]\ninput = "{paths}"\npaths = "yes"\n[models]\nm = ["linear"]\n', "'paths' must be true or false"),
    ('[inputs.a]\ninput = "missing.csv"\n[models]\nm = ["linear"]\n', "file not found"),
    ('[inputs.a]\ninput = "{paths}"\n[models]\nm = ["linear", "markv"]\n', "[models] m"),
    ('[inputs.a]\ninput = "{paths}"\n[models]\nm = []\n', "list of model specs"),
    ('[defaults]\nlookback = "x"\n[inputs.a]\ninput = "{paths}"\n[models]\nm = ["linear"]\n', "bad lookback"),
    ('[inputs."a/b"]\ninput = "{paths}"\n[models]\nm = ["linear"]\n', "input names may use"),
])
def test_bad_config(body, expected, data, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(body.replace("{paths}", (data / "paths.csv").as_posix()), encoding="utf-8")
    code, _, err = run(["compare", "--config", config], capsys)
    assert code == 2, err
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0] and "bad.toml" in lines[0]
    assert "Traceback" not in err


def test_missing_config_file(tmp_path, capsys):
    code, _, err = run(["compare", "--config", tmp_path / "runs.toml"], capsys)
    assert code == 2 and "config file not found" in err


def test_ropo_without_places(data, tmp_path, capsys):
    code, _, err = run(["ropo", *events_args(data), "--place", "where", "--out", tmp_path], capsys)
    assert code == 2 and "no place column 'where' (--place)" in err
    conversions = pd.read_csv(data / "conversions.csv").drop(columns=["place"])
    conversions.to_csv(tmp_path / "conv.csv", index=False)
    code, _, err = run(["ropo", data / "touchpoints.csv", "--conversions", tmp_path / "conv.csv", "--out", tmp_path],
                       capsys)
    assert code == 2 and "ROPO needs the place of each conversion" in err and "--place" in err


def test_usage_error_is_exit_2(capsys):
    code, _, err = run(["compare", "--no-such-flag"], capsys)
    assert code == 2 and "unrecognized arguments" in err
    code, _, _ = run(["frobnicate"], capsys)
    assert code == 2


def test_verbose_shows_the_traceback(tmp_path, capsys):
    code, _, err = run(["compare", tmp_path / "nope.csv", "--verbose"], capsys)
    assert code == 2
    assert "Traceback" in err and "file not found" in err


def test_unexpected_error_exits_1(data, tmp_path, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(report_module, "build_report", boom)
    code, _, err = run(["compare", data / "paths.csv", "--paths", "--models", "linear", "--out", tmp_path], capsys)
    assert code == 1
    assert "unexpected error" in err and "kaboom" in err and "Traceback" not in err


def test_exit_codes_in_a_subprocess(tmp_path):
    env_path = str(ROOT)
    cmd = [sys.executable, "-m", "attribution.cli"]
    env = {"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}
    bad = subprocess.run(cmd + ["compare", str(tmp_path / "missing.csv")], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120, check=False)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "file not found" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_module_stays_thin():
    # the analysis lives in the library: the CLI module holds no model or plotting code
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert "matplotlib" not in source and "def fit" not in source


def test_compare_with_the_causal_model_labels_the_estimand(data, tmp_path, capsys, fast_figures):
    out_dir = tmp_path / "causal"
    code, out, err = run(["compare", *events_args(data), "--costs", data / "costs.csv", "--truth", data / "truth.csv",
                          "--models", "markov,causal", "--out", out_dir], capsys)
    assert code == 0, err
    credits = pd.read_csv(out_dir / "credits.csv")
    assert dict(credits.groupby("model")["estimand"].first()) == {"markov": "attributed", "causal": "incremental"}
    assert "(baseline)" in set(credits.loc[credits["model"] == "causal", "channel"])
    assert set(pd.read_csv(out_dir / "roi.csv")["estimand"]) == {"attributed", "incremental"}
    validity = pd.read_csv(out_dir / "validity.csv")
    assert set(validity["grade"]) <= set("ABCD")
    assert (out_dir / "budget_vs_truth.csv").is_file()
    assert "Mixed estimands" in out and "Incremental ROI under causal" in out
    assert "Validity of causal's incremental credit" in out and "expected incremental value" in out
    assert "Against --truth" in out
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert page.index("id='validity'") < page.index("id='budget'")
