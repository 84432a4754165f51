"""Import cost: ``import attribution`` and the CLI's help stay light (issue 18).

Each check runs a fresh interpreter and lists the modules it loaded (``sys.modules``), so a
module-level import of scikit-learn, matplotlib, networkx, tqdm, duckdb or the simulator cannot
come back unnoticed. No timing is asserted (timings live in ``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "matplotlib", "networkx", "tqdm", "duckdb", "pyspark", "attribution.datasets")


def _loaded(code: str) -> set[str]:
    """Modules loaded by a fresh interpreter running ``code`` (with this tree first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = code + "\nimport sys, json\nprint('@@' + json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    line = [x for x in out.stdout.splitlines() if x.startswith("@@")][-1]
    return set(json.loads(line[2:]))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_attribution_loads_no_submodule_and_no_library():
    mods = _loaded("import attribution")
    assert {m for m in mods if m.startswith("attribution.")} == set()
    assert not {"numpy", "pandas", "scipy", "pyarrow"} & mods
    assert _heavy(mods) == []


def test_first_order_markov_shapley_and_rules_need_only_numpy_pandas_pyarrow():
    mods = _loaded("from attribution import Journeys, Markov, Shapley, LastTouch, get_model\n"
                   "import pandas as pd\n"
                   "j = Journeys.from_paths(pd.DataFrame({'path': ['a > b', 'b'], "
                   "'total_conversions': [1, 0], 'total_null': [0, 2]}))\n"
                   "Markov().fit(j); Shapley().fit(j); get_model('linear').fit(j)")
    assert _heavy(mods) == []
    # small chains are solved by dense LU, rule models and Shapley need no scipy at all
    assert not {m for m in mods if m == "scipy" or m.startswith("scipy.")}


def test_cli_help_loads_no_library():
    mods = _loaded("import attribution.cli as cli\n"
                   "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass")
    assert not {"numpy", "pandas", "scipy", "pyarrow"} & mods
    assert _heavy(mods) == []


@pytest.mark.parametrize("argv", [
    ["compare", "missing.csv"],
    ["compare", "data/samples/touchpoints.csv", "--conversions", "missing.csv"],
    ["kpis", "missing.csv"],
    ["ropo", "data/samples/touchpoints.csv", "--customers", "missing.csv"],
    ["calibrate", "data/samples/touchpoints.csv", "--tests", "missing.csv"],
])
def test_cli_missing_file_fails_before_any_library_loads(argv):
    # the commonest user error (a wrong path) is reported before pandas or the models load
    mods = _loaded("import attribution.cli as cli, contextlib, io\n"
                   "err = io.StringIO()\n"
                   "with contextlib.redirect_stderr(err):\n"
                   f"    rc = cli.main({argv!r})\n"
                   "assert rc == 2 and 'file not found: missing.csv' in err.getvalue(), (rc, err.getvalue())")
    assert not {"numpy", "pandas", "scipy", "pyarrow"} & mods
    assert _heavy(mods) == []


def test_every_lazy_name_resolves_and_lists():
    import attribution as at

    for name in at.__all__:
        assert getattr(at, name) is not None, name
    assert set(at.__all__) <= set(dir(at))
    assert at.models.MODELS is at.MODELS
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        at.nope  # noqa: B018


def test_functions_named_like_their_module_stay_functions():
    """Importing the modules that define ``compare`` and ``kpis`` binds them to their parents;
    ``at.compare`` and ``at.kpis`` must still be the functions (as with eager imports)."""
    mods = _loaded("import attribution, attribution.report, attribution.journey_kpis\n"
                   "from attribution import compare, kpis\n"
                   "assert callable(compare) and callable(kpis), (compare, kpis)\n"
                   "assert callable(attribution.compare) and callable(attribution.kpis)")
    assert "attribution.decisions.comparison" in mods


def test_models_clone_with_scikit_learn_and_without():
    sklearn_base = pytest.importorskip("sklearn.base")
    from attribution import Markov, PositionBased
    from attribution.models._estimator import clone

    m = PositionBased(first=0.3, last=0.5)
    assert repr(m) == "PositionBased(first=0.3, last=0.5)"
    for c in (clone, sklearn_base.clone):
        twin = c(m)
        assert twin is not m and twin.get_params() == m.get_params()
    mk = Markov(order=2).set_params(order=3)
    assert mk.order == 3 and repr(mk) == "Markov(order=3)"
    with pytest.raises(ValueError, match="Invalid parameter 'nope'"):
        mk.set_params(nope=1)


def test_functions_named_like_their_module_stay_functions():
    # ``at.compare`` / ``at.kpis`` / ``at.validity`` are the functions even after their modules
    # were imported by other code (which binds the module to the package attribute)
    out = subprocess.run(
        [sys.executable, "-c",
         "import types, attribution as at\n"
         "from attribution.decisions.comparison import Comparison\n"
         "import attribution.journey_kpis, attribution.decisions.scorecard\n"
         "import attribution.report\n"
         "print(all(callable(getattr(at, n)) and not isinstance(getattr(at, n), types.ModuleType) "
         "for n in ('compare', 'kpis', 'validity')))"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_every_module_compiles_without_warnings():
    # a SyntaxWarning (e.g. an invalid escape in a docstring) is printed by a fresh interpreter
    # compiling the module, which the CLI would show as a stray note on every command
    import warnings

    for path in sorted((ROOT / "attribution").rglob("*.py")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
