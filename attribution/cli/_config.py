"""The input settings: checked from the command line, or read and checked from the batch configuration
of ``attribution compare --config runs.toml``."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from types import SimpleNamespace

from ._args import (
    DEFAULT_BOUNDS,
    DEFAULT_MODELS,
    UserError,
    _parse_bounds,
    parse_lookback,
    parse_models,
)
from ._inputs import _DATA_FLAGS, _data_flags_to_namespace, _read_tests, check_files

#: Config keys of an input (also the CLI dests) -> kind.
_INPUT_KEYS = {
    "input": "file", "conversions": "file", "identities": "file", "costs": "file", "truth": "file",
    "customers": "file", "paths": "bool", "lookback": "str", "customer": "str", "time": "str",
    "channel": "str", "value": "str", "place": "str", "path_column": "str", "sep": "str",
    "cost_column": "str", "customer_id": "str", "budget_model": "str", "title": "str",
    "offline": "list", "store_places": "list", "budget": "number", "bounds": "pair", "engine": "str",
    "time_unit": "str", "time_format": "str", "dayfirst": "bool",
    "touch_type": "str", "campaign": "str", "level": "str",
}


_INPUT_DEFAULTS = {
    "conversions": None, "identities": None, "costs": None, "truth": None, "customers": None, "paths": False,
    "lookback": None, "customer": "customer_id", "time": "timestamp", "channel": "channel", "value": "value",
    "place": "place", "path_column": "path", "sep": None, "cost_column": None, "customer_id": "loyalty_id",
    "budget_model": None, "title": None, "offline": None, "store_places": "store", "budget": None,
    "bounds": DEFAULT_BOUNDS, "engine": "pandas", "time_unit": None, "time_format": None, "dayfirst": None,
    "touch_type": "touch_type", "campaign": "campaign", "level": "channel",
}


# the same settings as batch-config keys ([defaults] / [inputs.NAME] in runs.toml)
_INPUT_KEYS.update({
    "format": "str", "conversion_events": "str", "channel_by": "str", "traffic_source": "str",
    "column_headers": "file", "marketing_channels": "file", "orders": "file", "identifies": "file", "tracks": "file",
    "conversions_column": "str", "value_column": "str", "nulls_column": "str", "journey_credits": "bool",
    "drop_missing_channel": "bool",
})


_INPUT_DEFAULTS.update({key: None for key in _DATA_FLAGS})


_INPUT_DEFAULTS.update({"journey_credits": False, "drop_missing_channel": False})


# journey rules (every command that builds journeys) and bootstrap intervals (compare)
_INPUT_KEYS.update({"exclude": "list", "collapse_repeats": "bool", "max_length": "int", "lookback_touches": "int",
                    "bootstrap": "int"})
_INPUT_DEFAULTS.update({"exclude": None, "collapse_repeats": None, "max_length": None, "lookback_touches": None,
                        "bootstrap": None})


_TOP_KEYS = ("out", "defaults", "inputs", "models", "tests")


_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _config_error(path, where: str, message: str) -> UserError:
    return UserError(f"{path}: {where}: {message}")


def _check_keys(path, where: str, table: dict, allowed) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Allowed: {', '.join(allowed)}."
            raise _config_error(path, where, f"unknown key {key!r}.{hint}")


def _check_value(path, where: str, key: str, value, kind: str, base: Path):
    def bad(expected):
        return _config_error(path, where, f"{key!r} must be {expected}; got {value!r}.")

    if kind == "file":
        if not isinstance(value, str) or not value:
            raise bad("a file path (text)")
        p = Path(value)
        p = p if p.is_absolute() else base / p
        if not p.exists():
            import glob

            if not (key in ("input", "conversions") and glob.glob(str(p))):  # globs: engine = "duckdb"
                raise _config_error(path, where, f"{key!r}: file not found: {p}.")
        return str(p)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise bad("text in quotes")
        if key == "engine" and value not in ("pandas", "duckdb"):
            raise bad("'pandas' or 'duckdb'")
        if key == "time_unit" and value not in ("s", "ms", "us", "ns"):
            raise bad("one of 's', 'ms', 'us', 'ns'")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise bad("a positive number")
        return float(value)
    if kind == "int":
        low = 0 if key == "bootstrap" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise bad(f"a whole number of at least {low}" + (" (0: no intervals)" if low == 0 else ""))
        return int(value)
    if kind == "list":
        if isinstance(value, str):
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of names, e.g. [\"store_visit\"]")
        return ",".join(value)
    if kind == "pair":
        if not isinstance(value, list) or len(value) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad("two numbers, e.g. [0.5, 2]")
        return ",".join(str(v) for v in value)
    raise AssertionError(kind)  # pragma: no cover


def load_config(path) -> tuple[Path, list[tuple[str, str, SimpleNamespace]]]:
    """Read and check a batch config; returns the output folder and the runs.

    Each run is ``(input name, model set name, namespace of input settings with model_specs)``.
    Every error names the file and the key to fix.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise UserError("--config needs Python 3.11+ (tomllib) or the 'tomli' package: pip install tomli.") from None
    p = Path(path)
    if not p.is_file():
        raise UserError(f"config file not found: {path} (--config).")
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}.") from None
    base = p.resolve().parent
    _check_keys(path, "top level", data, _TOP_KEYS)
    out = data.get("out", "attribution-runs")
    if not isinstance(out, str) or not out:
        raise _config_error(path, "top level", f"'out' must be a folder name in quotes; got {out!r}.")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _config_error(path, "[defaults]", "must be a table of input keys, e.g. lookback = \"30D\".")
    _check_keys(path, "[defaults]", defaults, [k for k in _INPUT_KEYS if k != "input"])
    inputs = data.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise _config_error(path, "[inputs]", "missing: add at least one [inputs.NAME] table with input = \"FILE\".")
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise _config_error(path, "[models]", "missing: add at least one model set, e.g. rules = [\"last_touch\", \"linear\"].")
    model_sets = {}
    for name, specs in models.items():
        where = f"[models] {name}"
        if not _NAME_RE.match(name):
            raise _config_error(path, where, "model set names may use letters, digits, '_', '-' and '.' only.")
        if isinstance(specs, str):
            text = specs
        elif isinstance(specs, list) and specs and all(isinstance(s, str) for s in specs):
            text = ",".join(specs)
        else:
            raise _config_error(path, where, f"must be a list of model specs such as [\"linear\", \"markov:order=2\"]; got {specs!r}.")
        try:
            model_sets[name] = parse_models(text, where="the config")
        except UserError as exc:
            raise _config_error(path, where, str(exc)) from None
    tests_table = _config_tests(path, data.get("tests"), base)
    runs = []
    for name, entry in inputs.items():
        where = f"[inputs.{name}]"
        if not _NAME_RE.match(name) or name in (".", ".."):
            raise _config_error(path, where, "input names may use letters, digits, '_', '-' and '.' only.")
        if not isinstance(entry, dict):
            raise _config_error(path, where, "must be a table with at least input = \"FILE\".")
        _check_keys(path, where, entry, list(_INPUT_KEYS))
        merged = {**defaults, **entry}
        if "input" not in merged:
            raise _config_error(path, where, "no 'input' key: give the touchpoints or path table, input = \"FILE\".")
        values = dict(_INPUT_DEFAULTS)
        for key, value in merged.items():
            src = where if key in entry else "[defaults]"
            values[key] = _check_value(path, src, key, value, _INPUT_KEYS[key], base)
        ns = SimpleNamespace(**values)
        ns.lookback_given = ns.lookback is not None
        if ns.lookback_given:
            parse_lookback(ns.lookback, f"{path}: {where} 'lookback'")
        _parse_bounds(ns.bounds, f"{path}: {where} 'bounds'")
        for set_name, specs in model_sets.items():
            run = SimpleNamespace(**vars(ns))
            run.model_specs = list(specs)
            run.models_default = False
            run.tests_file, run.tests_model, run.tests_n_boot = tests_table
            if run.tests_model is not None and run.tests_model not in specs:
                raise _config_error(path, "[tests]", f"model {run.tests_model!r} is not in model set {set_name!r} {specs}.")
            if run.budget_model is not None and run.budget_model not in specs:
                raise _config_error(path, where, f"budget_model {run.budget_model!r} is not in model set {set_name!r} {specs}.")
            runs.append((name, set_name, run))
    return (base / out), runs


def _config_tests(path, table, base: Path):
    """The [tests] table of a batch config: (file, model spec or None, n_boot); (None, None, 0) if absent."""
    if table is None:
        return None, None, 0
    where = "[tests]"
    if not isinstance(table, dict):
        raise _config_error(path, where, "must be a table, e.g. [tests] file = \"tests.csv\".")
    _check_keys(path, where, table, ["file", "model", "n_boot"])
    if "file" not in table:
        raise _config_error(path, where, "no 'file' key: give the test table, file = \"tests.csv\".")
    file = _check_value(path, where, "file", table["file"], "file", base)
    try:
        _read_tests(file)
    except Exception as exc:  # the library's message names the column, rows and fix
        raise _config_error(path, where, f"{file}: {exc}") from None
    model = table.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise _config_error(path, where, f"'model' must be a model spec in quotes; got {model!r}.")
        model = parse_models(model, where="[tests] model")[0]
    n_boot = table.get("n_boot", 100)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise _config_error(path, where, f"'n_boot' must be a non-negative integer; got {n_boot!r}.")
    return file, model, n_boot


def _namespace_from_args(args) -> SimpleNamespace:
    """The input settings of the command line, checked before any file is read."""
    check_files(args)  # a missing file is the commonest mistake: report it before pandas loads
    ns = SimpleNamespace(**{k: getattr(args, k, _INPUT_DEFAULTS.get(k)) for k in _INPUT_KEYS})
    _data_flags_to_namespace(args, ns)
    ns.lookback_given = args.lookback is not None
    if ns.lookback_given:
        parse_lookback(args.lookback)
    if args.command == "compare":
        ns.models_default = args.models is None
        ns.model_specs = parse_models(DEFAULT_MODELS if args.models is None else args.models)
        _parse_bounds(args.bounds)
    return ns
