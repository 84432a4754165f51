"""The catalogue of bad and adversarial inputs: every one gives a correct answer or a clear error.

Each case is a small function ``case(engine)`` that either checks the exactly correct result
(``assert``), or expects the library's own exception (:func:`raises`: a subclass of
:class:`~attribution.exceptions.AttributionError` whose message names the column or parameter
and the fix), or a warning (:func:`warns`). Cases marked ``BOTH`` run through the pandas and
the DuckDB engine and must agree. ``benchmarks/bad_inputs_tally.py`` runs the same catalogue
and counts silent wrong results / raw tracebacks / clear answers (before and after issue 14).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attribution as at
from attribution import Journeys
from attribution.exceptions import AttributionError

try:  # the DuckDB engine is optional
    import duckdb  # noqa: F401

    HAS_DUCKDB = True
except ImportError:  # pragma: no cover
    HAS_DUCKDB = False

PANDAS = ("pandas",)
BOTH = ("pandas", "duckdb")


class SilentWrong(AssertionError):
    """A case returned where an error (or a warning) was due."""


class UnclearError(AssertionError):
    """The library's exception came, but its message lacks the column/parameter or the fix."""


class Defect(AssertionError):
    """The command line called a user mistake a bug (exit 1) or crashed."""


def raises(fn, *words, exc=AttributionError):
    """Call ``fn``; pass when it raises ``exc`` whose message holds every one of ``words``."""
    try:
        result = fn()
    except exc as e:
        msg = str(e).lower()
        missing = [w for w in words if w.lower() not in msg]
        if missing:
            raise UnclearError(f"message lacks {missing}: {e}") from e
        return e
    raise SilentWrong(f"no error; returned {str(result)[:200]!r}")


def warns(fn, category, *words):
    """Call ``fn``; pass (returning its result) when it warned ``category`` with all ``words``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    for w in caught:
        if issubclass(w.category, category) and all(x.lower() in str(w.message).lower() for x in words):
            return result
    raise SilentWrong(f"no {category.__name__} with {words}; got {[str(w.message)[:120] for w in caught]}")


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


# ---------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------


def touches(ids, times, channels):
    return pd.DataFrame({"customer_id": ids, "timestamp": times, "channel": channels})


def convs(ids, times, values=None):
    df = pd.DataFrame({"customer_id": ids, "timestamp": times})
    df["value"] = [1.0] * len(ids) if values is None else values
    return df


def events(tp, cv, engine, **kw):
    return quiet(lambda: Journeys.from_events(tp, cv, engine=engine, **kw))


def paths_table(j: Journeys) -> list[tuple]:
    df = j.to_paths()
    return [(r.path, r.total_conversions, round(r.total_conversion_value, 9), r.total_null) for r in df.itertuples()]


def P(paths, conv, nulls=None, value=None):
    df = pd.DataFrame({"path": paths, "total_conversions": conv})
    df["total_null"] = [1.0] * len(paths) if nulls is None else nulls
    if value is not None:
        df["total_conversion_value"] = value
    return df


def conserved(model, j: Journeys) -> None:
    c = model.credits_
    assert math.isclose(float(c["conversions"].sum()), j.total_conversions, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(float(c["value"].sum()), j.total_value, rel_tol=1e-9, abs_tol=1e-9)


BASE = ["2026-03-01", "2026-03-02"]
CONV = ["2026-03-03"]


def cli(args, cwd: Path | None = None) -> tuple[int, str]:
    """Run the command line; returns (exit code, stderr)."""
    from attribution.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        argv = [str(a) for a in args]
        code = main(argv if "--quiet" in argv else argv + ["--quiet"])
    return code, err.getvalue()


def cli_error(args, *words):
    code, err = cli(args)
    if code == 0:
        raise SilentWrong(f"exit 0; stderr {err[:300]!r}")
    if code != 2 or "unexpected error" in err:
        raise Defect(f"exit {code} (a defect, not a user error): {err[:300]!r}")
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("attribution")]
    assert len(lines) == 1, err
    missing = [w for w in words if w.lower() not in err.lower()]
    if missing:
        raise UnclearError(f"message lacks {missing}: {err[:300]!r}")


# ---------------------------------------------------------------------------------------------
# the catalogue: (id, group, engines, case)
# ---------------------------------------------------------------------------------------------

CASES: list[tuple[str, str, tuple, object]] = []


def case(group, engines=PANDAS):
    def deco(fn):
        CASES.append((fn.__name__, group, engines, fn))
        return fn

    return deco


# --- time -----------------------------------------------------------------------------------


@case("time", BOTH)
def time_year_9999(engine):
    raises(lambda: events(touches(["u", "u"], ["2026-03-01", "9999-12-31"], ["a", "b"]), convs(["u"], CONV), engine),
           "'timestamp'", "out of range", "9999-12-31", "1677-09-22")


@case("time", BOTH)
def time_year_0001(engine):
    raises(lambda: events(touches(["u"], ["0001-01-01"], ["a"]), convs(["u"], CONV), engine),
           "'timestamp'", "out of range", "0001-01-01")


@case("time", BOTH)
def time_year_2300_in_conversions(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u"], ["2300-01-01"]), engine),
           "'timestamp' of conversions", "out of range", "2300-01-01")


@case("time", PANDAS)
def time_datetime64_us_out_of_ns_range(engine):
    tp = touches(["u"], pd.Series(pd.to_datetime(["2300-01-01"])).astype("datetime64[us]"), ["a"])
    raises(lambda: events(tp, convs(["u"], CONV), engine), "'timestamp'", "out of range")


@case("time", BOTH)
def time_epoch_microseconds_without_unit(engine):
    us = int(pd.Timestamp("2026-03-01").value // 1000)
    raises(lambda: events(touches(["u"], [us], ["a"]), convs(["u"], [us + 10**9]), engine),
           "'timestamp'", "time_unit='us'", "microseconds")


@case("time", BOTH)
def time_epoch_seconds_without_unit(engine):
    s = int(pd.Timestamp("2026-03-01").value // 10**9)
    raises(lambda: events(touches(["u"], [s], ["a"]), convs(["u"], [s + 10]), engine), "time_unit='s'")


@case("time", BOTH)
def time_epoch_with_unit_equals_iso(engine):
    iso_t = ["2026-01-01", "2026-02-20", "2026-03-01"]  # the first is outside the 30-day lookback
    ch = ["a", "b", "c"]
    want = paths_table(events(touches(["u"] * 3, iso_t, ch), convs(["u"], ["2026-03-03"]), "pandas"))
    for unit, f in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        tp = touches(["u"] * 3, [pd.Timestamp(t).value // f for t in iso_t], ch)
        cv = convs(["u"], [pd.Timestamp("2026-03-03").value // f])
        got = paths_table(events(tp, cv, engine, time_unit=unit))
        assert got == want == [("b > c", 1.0, 1.0, 0.0)], (unit, got, want)


@case("time", BOTH)
def time_epoch_float_seconds_keep_order(engine):
    s = pd.Timestamp("2026-03-01").value / 1e9
    tp = touches(["u", "u"], [s + 0.75, s + 0.25], ["late", "early"])
    got = paths_table(events(tp, convs(["u"], [s + 1.0]), engine, time_unit="s"))
    assert got == [("early > late", 1.0, 1.0, 0.0)], got


@case("time", BOTH)
def time_epoch_mixed_units(engine):
    s = int(pd.Timestamp("2026-03-01").value // 10**9)
    tp = touches(["u", "u"], [s, s * 1000], ["a", "b"])
    raises(lambda: events(tp, convs(["u"], [s + 5]), engine, time_unit="s"), "'timestamp'", "mixes", "unit")


@case("time", PANDAS)
def time_numbers_and_text_mixed(engine):
    tp = touches(["u", "u"], pd.Series([1772323200, "2026-03-01"], dtype=object), ["a", "b"])
    raises(lambda: events(tp, convs(["u"], CONV), engine), "'timestamp'", "mixes numbers", "time_unit")


@case("time", BOTH)
def time_ambiguous_day_month(engine):
    raises(lambda: events(touches(["u", "u"], ["01/03/2026", "02/03/2026"], ["a", "b"]), convs(["u"], ["03/03/2026"]),
                          engine), "'timestamp'", "day-first or month-first", "dayfirst=")


@case("time", BOTH)
def time_ambiguous_with_dayfirst(engine):
    # day first: 10 Feb and 2 Mar, both before the conversion on 3 Mar (month first, 2 Oct would come after it)
    j = events(touches(["u", "u"], ["10/02/2026", "02/03/2026"], ["a", "b"]), convs(["u"], ["03/03/2026"]), engine,
               dayfirst=True)
    assert paths_table(j) == [("a > b", 1.0, 1.0, 0.0)], paths_table(j)


@case("time", BOTH)
def time_with_format(engine):
    j = events(touches(["u", "u"], ["10/02/2026 10:00", "02/03/2026 09:00"], ["a", "b"]), convs(["u"], ["03/03/2026 00:00"]),
               engine, time_format="%d/%m/%Y %H:%M")
    assert paths_table(j) == [("a > b", 1.0, 1.0, 0.0)], paths_table(j)


@case("time", BOTH)
def time_span_over_292_years(engine):
    tp = touches(["u", "u", "u"], ["1700-01-01", "2250-01-01", "2250-01-02"], ["a", "b", "c"])
    j = events(tp, convs(["u"], ["2250-01-03"]), engine, lookback=None)
    assert paths_table(j) == [("a > b > c", 1.0, 1.0, 0.0)], paths_table(j)


@case("time", BOTH)
def time_zone_offsets_compared_in_utc(engine):
    tp = touches(["u", "u"], ["2026-03-01T10:00:00+02:00", "2026-03-01T09:30:00Z"], ["first", "second"])
    j = events(tp, convs(["u"], ["2026-03-01T10:00:00Z"]), engine)
    assert paths_table(j) == [("first > second", 1.0, 1.0, 0.0)]


@case("time", BOTH)
def time_unparseable(engine):
    raises(lambda: events(touches(["u", "u"], ["2026-03-01", "not a time"], ["a", "b"]), convs(["u"], CONV), engine),
           "'timestamp'", "unparseable", "iso-8601")


@case("time", BOTH)
def time_missing(engine):
    raises(lambda: events(touches(["u", "u"], ["2026-03-01", None], ["a", "b"]), convs(["u"], CONV), engine),
           "'timestamp'", "missing")


@case("time", PANDAS)
def time_boolean_column(engine):
    raises(lambda: events(touches(["u"], [True], ["a"]), convs(["u"], CONV), engine), "'timestamp'", "true/false")


@case("time", BOTH)
def time_unit_bad_value(engine):
    raises(lambda: events(touches(["u"], [1], ["a"]), convs(["u"], [2]), engine, time_unit="sec"),
           "'time_unit'", "'s'", "'ms'")


# --- values ---------------------------------------------------------------------------------


@case("values", BOTH)
def value_infinite(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u"], CONV, [math.inf]), engine),
           "'value'", "infinite", "finite")


@case("values", BOTH)
def value_minus_infinite(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u"], CONV, [-math.inf]), engine),
           "'value'", "negative")


@case("values", BOTH)
def value_nan(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u", "u"], CONV * 2, [1.0, np.nan]), engine),
           "'value'", "missing")


@case("values", BOTH)
def value_text(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u"], CONV, ["12,50"]), engine),
           "'value'", "numeric")


@case("values", BOTH)
def value_sum_overflows(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["u", "u"], ["2026-03-02", "2026-03-03"],
                                                                     [1e308, 1e308]), engine), "value", "sums to more")


@case("values")
def paths_infinite_conversions(engine):
    raises(lambda: Journeys.from_paths(P(["a"], [math.inf])), "'total_conversions'", "infinite")


@case("values")
def paths_infinite_nulls(engine):
    raises(lambda: Journeys.from_paths(P(["a"], [1], [math.inf])), "'total_null'", "infinite")


@case("values")
def paths_negative_counts(engine):
    raises(lambda: Journeys.from_paths(P(["a"], [-1])), "'total_conversions'", "negative")


@case("values")
def journeys_constructor_infinite(engine):
    raises(lambda: Journeys(["a"], [0], [0, 1], [math.inf]), "conversions", "infinite")


@case("values")
def costs_infinite_roi(engine):
    m = at.Linear().fit(Journeys.from_paths(P(["a", "b"], [1, 1])))
    raises(lambda: at.channel_roi(m, {"a": math.inf, "b": 2.0}), "'cost'", "infinite")


@case("values")
def costs_infinite_plan(engine):
    m = at.Linear().fit(Journeys.from_paths(P(["a", "b"], [1, 1])))
    raises(lambda: at.plan_budget(m, {"a": math.inf, "b": 2.0}, 10.0), "'cost'", "infinite")


@case("values")
def costs_missing(engine):
    m = at.Linear().fit(Journeys.from_paths(P(["a", "b"], [1, 1])))
    raises(lambda: at.channel_roi(m, pd.DataFrame({"channel": ["a", "b"], "cost": [1.0, None]})), "'cost'", "fillna",
           exc=ValueError)


@case("decisions")
def budget_below_a_cent(engine):
    m = at.Linear().fit(Journeys.from_paths(P(["a", "b"], [1, 1])))
    raises(lambda: at.plan_budget(m, {"a": 1.0, "b": 2.0}, 0.001), "'total_budget'", "0.01", "got 0.001")


@case("decisions")
def budget_infinite(engine):
    m = at.Linear().fit(Journeys.from_paths(P(["a", "b"], [1, 1])))
    raises(lambda: at.plan_budget(m, {"a": 1.0, "b": 2.0}, math.inf), "'total_budget'", "positive")


# --- ids and identities ---------------------------------------------------------------------


@case("ids", BOTH)
def ids_int_vs_float(engine):
    j = events(touches([1, 2], ["2026-03-01", "2026-03-01"], ["a", "b"]), convs([1.0], CONV), engine)
    assert paths_table(j) == [("a", 1.0, 1.0, 0.0), ("b", 0.0, 0.0, 1.0)], paths_table(j)


@case("ids", BOTH)
def ids_int_vs_text(engine):
    j = events(touches([7], ["2026-03-01"], ["a"]), convs(["7"], CONV), engine)
    assert paths_table(j) == [("a", 1.0, 1.0, 0.0)]


@case("ids", BOTH)
def ids_ga4_pseudo_ids_stay_apart(engine):
    ids = ["1197745347.1690000012", "1197745347.1690000013"]
    j = events(touches(ids, ["2026-03-01", "2026-03-01"], ["a", "b"]), convs([ids[1]], CONV), engine)
    assert paths_table(j) == [("a", 0.0, 0.0, 1.0), ("b", 1.0, 1.0, 0.0)], paths_table(j)


@case("ids", BOTH)
def ids_most_conversions_unmatched_warn(engine):
    tp = touches(["c1", "c2"], ["2026-03-01"] * 2, ["a", "b"])
    j = warns(lambda: Journeys.from_events(tp, convs(["L1", "L2", "c1"], CONV * 3), engine=engine),
              at.DataQualityWarning, "match no touch", "identities=")
    assert j.total_conversions == 3


@case("ids", BOTH)
def ids_missing_customer(engine):
    raises(lambda: events(touches(["u", None], BASE, ["a", "b"]), convs(["u"], CONV), engine),
           "'customer_id'", "missing")


@case("ids", BOTH)
def ids_float_nan_customer_in_conversions(engine):
    raises(lambda: events(touches([1.0], ["2026-03-01"], ["a"]), convs([np.nan], CONV), engine),
           "'customer_id' of conversions", "missing")


@case("identities")
def identities_one_column(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["L"], CONV), "pandas",
                          identities=pd.DataFrame({"id": ["u"]})), "identities", "two id columns")


@case("identities", BOTH)
def identities_numeric_and_text_ids_link(engine):
    links = pd.DataFrame({"cookie": [5], "card": [77.0]})
    j = events(touches([5], ["2026-03-01"], ["a"]), convs(["77"], CONV), engine, identities=links)
    assert paths_table(j) == [("a", 1.0, 1.0, 0.0)], paths_table(j)


@case("identities", BOTH)
def identities_unknown_customers_raise(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a"]), convs(["zz"], CONV), engine,
                          unknown_customers="raise"), "'customer_id'", "identities=")


# --- channel names and paths ----------------------------------------------------------------


for _name in ("(no touch)", "(start)", "(conversion)", "(null)"):
    def _reserved(engine, _name=_name):
        raises(lambda: events(touches(["u", "v"], ["2026-03-01"] * 2, [_name, "b"]), convs(["u"], CONV), engine),
               "reserved", _name, "rename")
    _reserved.__name__ = "name_reserved_" + _name.strip("()").replace(" ", "_")
    case("names", BOTH)(_reserved)


@case("names")
def name_reserved_in_path_table(engine):
    raises(lambda: Journeys.from_paths(P(["(start) > b", "b"], [1, 1])), "reserved", "(start)")


@case("names", BOTH)
def name_contains_separator(engine):
    raises(lambda: events(touches(["u"], ["2026-03-01"], ["a > b"]), convs(["u"], CONV), engine),
           "'channel'", "separator", "sep=")


@case("names", BOTH)
def name_blank(engine):
    raises(lambda: events(touches(["u", "u"], BASE, ["a", "   "]), convs(["u"], CONV), engine), "'channel'", "empty")


@case("names", BOTH)
def name_spaces_stripped_and_merged(engine):
    j = events(touches(["u", "u"], BASE, ["email", " email "]), convs(["u"], CONV), engine)
    assert list(j.channels) == ["email"] and paths_table(j) == [("email > email", 1.0, 1.0, 0.0)]


@case("paths")
def paths_pipe_separated_sniffed(engine):
    j = quiet(lambda: Journeys.from_paths(P(["a|b", "b|c"], [1, 1])))
    assert list(j.channels) == ["a", "b", "c"] and j.to_paths()["path"].tolist() == ["a > b", "b > c"]


@case("paths")
def paths_arrow_separated_sniffed(engine):
    j = quiet(lambda: Journeys.from_paths(P(["eta->iota", "iota"], [1, 1])))
    assert list(j.channels) == ["eta", "iota"]


@case("paths")
def paths_wrong_sep_warns(engine):
    warns(lambda: Journeys.from_paths(P(["a|b", "b|c"], [1, 1]), sep=">"), at.DataQualityWarning, "sep='|'")


@case("paths")
def paths_ga_repeat_notation(engine):
    j = warns(lambda: Journeys.from_paths(P(["Organic Search \u00d7 2 > Email", "Email"], [1, 1])),
              at.DataQualityWarning, "repeat notation")
    assert j.to_paths()["path"].tolist() == ["Email", "Organic Search > Organic Search > Email"]


@case("paths")
def paths_empty_channel_between_separators(engine):
    raises(lambda: Journeys.from_paths(P(["a >> b"], [1])), "'path'", "empty channel name", "sep")


@case("paths")
def paths_missing_count_column(engine):
    raises(lambda: Journeys.from_paths(pd.DataFrame({"path": ["a"], "conversions": [1]})), "total_conversions",
           "conversions=")


# --- models ---------------------------------------------------------------------------------


def _converters_only():
    return Journeys.from_paths(P(["a > b", "b"], [3, 1], [0, 0]))


@case("models")
def model_markov_converters_only(engine):
    warns(lambda: at.Markov().fit(_converters_only()), at.DataQualityWarning, "Markov", "non-converting")


@case("models")
def model_shapley_rate_converters_only(engine):
    warns(lambda: at.Shapley(method="conversion_rate").fit(_converters_only()), at.DataQualityWarning, "non-converting")


@case("models")
def model_logistic_converters_only(engine):
    warns(lambda: at.Logistic(n_estimators=5).fit(_converters_only()), at.DataQualityWarning, "Logistic", "non-converting")


@case("models")
def model_markov_order_above_longest_path(engine):
    j = Journeys.from_paths(P(["a > b", "b", "a"], [1, 1, 0], [1, 1, 2]))
    m = warns(lambda: at.Markov(order=5).fit(j), at.exceptions.ModelFallbackWarning, "order 2")
    ref = at.Markov(order=2).fit(j)
    assert m.order_ == 2
    pd.testing.assert_frame_equal(m.credits_, ref.credits_)
    conserved(m, j)


@case("models")
def model_markov_auto_on_empty(engine):
    j = Journeys.from_paths(P([], []))
    m = warns(lambda: at.Markov(order="auto").fit(j), at.exceptions.ModelFallbackWarning, "order 1")
    assert m.order_ == 1 and m.credits_["conversions"].sum() == 0


@case("models")
def model_markov_auto_on_short_paths(engine):
    j = Journeys.from_paths(P(["a", "b", "a"], [1, 0, 1], [1, 2, 0]))
    m = quiet(lambda: at.Markov(order="auto", max_order=4).fit(j))
    assert m.order_ == 1
    conserved(m, j)


def _many_channels(n):
    names = [f"c{i:02d}" for i in range(n)]
    return Journeys.from_paths(P([" > ".join(names[i:i + 3]) for i in range(n)], [1.0] * n, [2.0] * n))


@contextlib.contextmanager
def memory_limit(limit):
    old = at.set_max_memory(limit)
    try:
        yield
    finally:
        at.set_max_memory(old)


@case("resources")
def resource_shapley_exact_refused(engine):
    with memory_limit("1MB"):
        raises(lambda: at.Shapley(method="conversion_rate", max_exact=20).fit(_many_channels(18)),
               "Shapley", "2**18", "method='sampled'", "limit", exc=at.exceptions.ResourceLimitError)


@case("resources")
def resource_shapley_sampling_warned(engine):
    j = _many_channels(8)
    m = warns(lambda: at.Shapley(method="conversion_rate", max_exact=4, n_samples=50).fit(j),
              at.exceptions.ModelFallbackWarning, "max_exact=4", "sampling")
    assert not m.exact_
    conserved(m, j)


@case("resources")
def resource_shapley_model_sampling_warned(engine):
    j = _many_channels(5)
    m = warns(lambda: at.Shapley(method="model", max_exact=3, n_samples=30).fit(j),
              at.exceptions.ModelFallbackWarning, "method='model'", "sampling")
    conserved(m, j)


@case("resources")
def resource_markov_refused(engine):
    with memory_limit(10_000):
        raises(lambda: at.Markov(order=2).fit(_many_channels(30)), "Markov", "limit", "lower order",
               exc=at.exceptions.ResourceLimitError)


@case("resources")
def resource_fractribution_refused(engine):
    long = " > ".join(f"c{i % 7}" for i in range(400))
    j = Journeys.from_paths(P([long, "c1"], [1, 1], [1, 1]))
    with memory_limit("1MB"):
        raises(lambda: at.Fractribution().fit(j), "Fractribution", "max_length", exc=at.exceptions.ResourceLimitError)


@case("resources")
def resource_logistic_refused(engine):
    with memory_limit(10_000):
        raises(lambda: at.Logistic().fit(_many_channels(40)), "Logistic", "n_estimators",
               exc=at.exceptions.ResourceLimitError)


@case("resources")
def resource_probabilistic_refused(engine):
    with memory_limit(10_000):
        raises(lambda: at.Probabilistic().fit(_many_channels(40)), "Probabilistic", "pair table",
               exc=at.exceptions.ResourceLimitError)


@case("resources")
def resource_limit_bad_value(engine):
    raises(lambda: at.set_max_memory("lots"), "memory size", "8GB")


@case("resources")
def resource_error_is_value_error(engine):
    assert issubclass(at.exceptions.ResourceLimitError, ValueError)
    assert issubclass(at.exceptions.ResourceLimitError, AttributionError)


@case("models")
def model_zero_conversions_conserve(engine):
    j = Journeys.from_paths(P(["a > b", "b"], [0, 0], [1, 2]))
    for spec in ("linear", "markov", "shapley", "logistic"):
        m = quiet(lambda: at.get_model(spec).fit(j))
        conserved(m, j)
        assert (m.credits_["conversions"] == 0).all(), spec


@case("models")
def model_unknown_name(engine):
    raises(lambda: at.get_model("markow"), "markov", exc=ValueError)


@case("models")
def model_bad_parameter_is_library_error(engine):
    raises(lambda: at.Markov(order=0).fit(_many_channels(3)), "'order'", "positive integer")


# --- decisions and report -------------------------------------------------------------------


def _report_ok(j, models=("linear", "markov"), **kw):
    kw.setdefault("kpis", False)
    r = quiet(lambda: at.build_report(j, list(models), **kw))
    html = r.to_html()
    assert html.startswith("<!DOCTYPE html>")
    return r, html


@case("report")
def report_two_tied_models(engine):
    _, html = _report_ok(Journeys.from_paths(P(["a > b", "b > a"], [1, 1])), ["linear", "position_based"])
    assert "undefined" in html


@case("report")
def report_one_channel(engine):
    _report_ok(Journeys.from_paths(P(["a", "a"], [1, 0])))


@case("report")
def report_zero_conversions(engine):
    _, html = _report_ok(Journeys.from_paths(P(["a > b", "b"], [0, 0])))
    assert "No channel holds any attributed conversion" in html


@case("report")
def report_journeys_without_channels(engine):
    _report_ok(quiet(lambda: Journeys.from_paths(P(["", ""], [1, 2]))))


@case("report")
def report_empty(engine):
    _report_ok(Journeys.from_paths(P([], [])))


@case("report")
def report_hostile_names_escaped(engine):
    _, html = _report_ok(Journeys.from_paths(P(["<script>alert(1)</script>|b", "b"], [1, 1]), sep="|"), ["linear"])
    assert "<script>alert" not in html


@case("report")
def report_csv_formula_neutralised(engine, tmp=None):
    import tempfile

    r, _ = _report_ok(Journeys.from_paths(P(["=HYPERLINK(\"x\") > +b", "@c"], [1, 1])), ["linear"])
    with tempfile.TemporaryDirectory() as d:
        files = r.write(d)
        text = "".join(p.read_text(encoding="utf-8") for p in files if p.suffix == ".csv")
    assert "'=HYPERLINK" in text and "'+b" in text and "'@c" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@case("report")
def report_long_channel_name(engine):
    name = "x" * 20_000
    r, html = _report_ok(Journeys.from_paths(P([f"{name} > b", "b"], [1, 1])), ["linear"])
    assert name in html  # tables keep the full name; figures truncate it


@case("decisions")
def compare_tied_shares(engine):
    c = quiet(lambda: at.compare(Journeys.from_paths(P(["a > b", "b > a"], [1, 1])), ["linear", "position_based"]))
    assert np.allclose(c.shares.to_numpy(), 0.5)


def _omni(identities):
    tp = touches(["cookie1", "card1"], ["2026-03-01", "2026-03-02"], ["search", "store_visit"])
    cv = pd.DataFrame({"customer_id": ["card1"], "timestamp": ["2026-03-03"], "value": [10.0], "place": ["store"]})
    return quiet(lambda: Journeys.from_events(tp, cv, identities=identities))


@case("identities")
def ropo_without_identities_hint(engine):
    r = warns(lambda: at.ropo(_omni(None), "linear", offline=["store_visit"]), at.DataQualityWarning, "identities=")
    assert r.summary["ropo_rate"] == 0.0


@case("identities")
def ropo_with_identities(engine):
    r = quiet(lambda: at.ropo(_omni(pd.DataFrame({"a": ["cookie1"], "b": ["card1"]})), "linear", offline=["store_visit"]))
    assert r.summary["ropo_rate"] == 1.0


# --- engines --------------------------------------------------------------------------------


@case("engines")
def engine_unknown(engine):
    raises(lambda: Journeys.from_events(touches(["u"], BASE[:1], ["a"]), convs(["u"], CONV), engine="polars"),
           "'engine'", "duckdb")


@case("engines")
def engine_options_unknown_key(engine):
    if not HAS_DUCKDB:
        pytest.skip("duckdb not installed")
    raises(lambda: Journeys.from_events(touches(["u"], BASE[:1], ["a"]), convs(["u"], CONV), engine="duckdb",
                                        engine_options={"memory": "1GB"}), "engine_options", "memory_limit")


@case("engines")
def engine_duckdb_value_sums_reproducible(engine):
    if not HAS_DUCKDB:
        pytest.skip("duckdb not installed")
    rng = np.random.default_rng(3)
    n = 4000
    tp = touches(rng.integers(0, 300, n).astype(str), pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 5e6, n), "s"),
                 rng.choice(["a", "b", "c"], n))
    cv = convs(rng.integers(0, 300, 900).astype(str), pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 5e6, 900), "s"),
               rng.random(900) * 1000)
    runs = [events(tp, cv, "duckdb", engine_options={"threads": 4}).to_paths() for _ in range(3)]
    ref = events(tp, cv, "pandas").to_paths()
    for r in runs[1:]:
        assert np.array_equal(r["total_conversion_value"].to_numpy(), runs[0]["total_conversion_value"].to_numpy())
    assert (runs[0]["path"] == ref["path"]).all()
    a, b = runs[0]["total_conversion_value"].to_numpy(), ref["total_conversion_value"].to_numpy()
    assert np.all(np.abs(a - b) <= np.spacing(np.abs(b)))  # within one unit in the last place


# --- command line and config ----------------------------------------------------------------


def _files(tmp: Path) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    f = {
        "t": tmp / "t.csv", "c": tmp / "c.csv", "costs": tmp / "costs.csv", "paths": tmp / "paths.csv",
    }
    f["t"].write_text("customer_id,timestamp,channel\nu,2026-03-01,a\nv,2026-03-01,b\nw,2026-03-02,a\n")
    f["c"].write_text("customer_id,timestamp,value\nu,2026-03-03,5\nv,2026-03-03,7\n")
    f["costs"].write_text("channel,cost\na,10\nb,5\n")
    f["paths"].write_text("path,total_conversions,total_null\na > b,3,2\nb,1,4\n")
    return f


def cli_journeys(args):
    """The journeys the command line builds from ``args`` (``compare`` input flags), without a report."""
    from attribution.cli import _namespace_from_args, build_parser, load_journeys

    ns = _namespace_from_args(build_parser().parse_args(["compare", *map(str, args)]))
    return quiet(lambda: load_journeys(ns))[0]


def _tmp() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="bad-inputs-"))


@case("cli")
def cli_truncated_gz(engine):
    d = _tmp()
    f = _files(d)
    data = gzip.compress(f["t"].read_bytes() * 50)
    (d / "t.csv.gz").write_bytes(data[: len(data) // 2])
    cli_error(["compare", d / "t.csv.gz", "--conversions", f["c"], "--out", d / "o"], "cannot read", "t.csv.gz")


@case("cli")
def cli_fake_gz(engine):
    d = _tmp()
    f = _files(d)
    (d / "t.csv.gz").write_text("not gzip at all")
    cli_error(["compare", d / "t.csv.gz", "--conversions", f["c"], "--out", d / "o"], "t.csv.gz")


@case("cli")
def cli_fake_gz_duckdb(engine):
    if not HAS_DUCKDB:
        pytest.skip("duckdb not installed")
    d = _tmp()
    f = _files(d)
    (d / "t.csv.gz").write_text("not gzip at all")
    cli_error(["compare", d / "t.csv.gz", "--conversions", f["c"], "--engine", "duckdb", "--out", d / "o"], "t.csv.gz")


@case("cli")
def cli_out_of_range_date_duckdb(engine):
    if not HAS_DUCKDB:
        pytest.skip("duckdb not installed")
    d = _tmp()
    f = _files(d)
    f["t"].write_text("customer_id,timestamp,channel\nu,9999-12-31,a\n")
    cli_error(["compare", f["t"], "--conversions", f["c"], "--engine", "duckdb", "--out", d / "o"], "out of range")


@case("cli")
def cli_pipe_separated_events(engine):
    d = _tmp()
    f = _files(d)
    (d / "p.csv").write_text(f["t"].read_text().replace(",", "|"))
    j = cli_journeys([d / "p.csv", "--conversions", f["c"]])
    assert paths_table(j) == [("a", 1.0, 5.0, 1.0), ("b", 1.0, 7.0, 0.0)], paths_table(j)


@case("cli")
def cli_path_table_without_counts(engine):
    d = _tmp()
    (d / "p.csv").write_text("path,n\na > b,3\n")
    cli_error(["compare", d / "p.csv", "--paths", "--out", d / "o"], "total_conversions", "rename")


@case("cli")
def cli_models_empty(engine):
    d = _tmp()
    f = _files(d)
    cli_error(["compare", f["paths"], "--models", "", "--out", d / "o"], "--models", "names no model")


@case("cli")
def cli_budget_below_a_cent(engine):
    d = _tmp()
    f = _files(d)
    cli_error(["compare", f["t"], "--conversions", f["c"], "--costs", f["costs"], "--budget", "1e-9", "--models",
               "linear", "--out", d / "o"], "--budget", "0.01")


@case("cli")
def cli_budget_infinite(engine):
    d = _tmp()
    f = _files(d)
    cli_error(["compare", f["t"], "--conversions", f["c"], "--costs", f["costs"], "--budget", "inf", "--models",
               "linear", "--out", d / "o"], "--budget")


@case("cli")
def cli_ga4_ids_read_as_text(engine):
    d = _tmp()
    (d / "t.csv").write_text("customer_id,timestamp,channel\n1197745347.1690000012,2026-03-01,a\n"
                             "1197745347.1690000013,2026-03-01,b\n")
    (d / "c.csv").write_text("customer_id,timestamp\n1197745347.1690000013,2026-03-02\n")
    j = cli_journeys([d / "t.csv", "--conversions", d / "c.csv"])
    assert paths_table(j) == [("a", 0.0, 0.0, 1.0), ("b", 1.0, 0.0, 0.0)], paths_table(j)


@case("cli")
def cli_epoch_without_unit(engine):
    d = _tmp()
    (d / "t.csv").write_text("customer_id,timestamp,channel\nu,1772323200000000,a\n")
    (d / "c.csv").write_text("customer_id,timestamp\nu,1772409600000000\n")
    cli_error(["compare", d / "t.csv", "--conversions", d / "c.csv", "--out", d / "o"], "--time-unit us")


@case("cli")
def cli_epoch_with_unit(engine):
    d = _tmp()
    (d / "t.csv").write_text("customer_id,timestamp,channel\nu,1772323200000000,a\n")
    (d / "c.csv").write_text("customer_id,timestamp\nu,1772409600000000\n")
    j = cli_journeys([d / "t.csv", "--conversions", d / "c.csv", "--time-unit", "us"])
    assert paths_table(j) == [("a", 1.0, 0.0, 0.0)], paths_table(j)


@case("cli")
def cli_infinite_value(engine):
    d = _tmp()
    f = _files(d)
    f["c"].write_text("customer_id,timestamp,value\nu,2026-03-03,inf\n")
    cli_error(["compare", f["t"], "--conversions", f["c"], "--out", d / "o"], "'value'", "infinite")


@case("cli")
def cli_no_overwrite_without_force(engine):
    d = _tmp()
    f = _files(d)
    args = ["compare", f["paths"], "--models", "linear", "--out", d / "o"]
    assert cli(args)[0] == 0
    cli_error(args, "already exists", "--force")
    from attribution.cli import check_out

    check_out(d / "o", force=True)  # --force: no refusal


@case("cli")
def cli_batch_out_outside_config_folder(engine):
    d = _tmp()
    f = _files(d)
    (d / "cfg").mkdir()
    (d / "cfg" / "runs.toml").write_text(
        f'out = "../elsewhere"\n[inputs.p]\ninput = "{f["paths"].as_posix()}"\npaths = true\n[models]\nr = ["linear"]\n')
    code, err = cli(["compare", "--config", d / "cfg" / "runs.toml"])
    assert code == 0, err
    assert "outside the config's folder" in err and (d / "elsewhere" / "summary.csv").exists()


@case("cli")
def cli_formula_channel_in_csv(engine):
    d = _tmp()
    (d / "p.csv").write_text('path,total_conversions,total_null\n"=1+2 > b",3,2\nb,1,4\n')
    code, err = cli(["compare", d / "p.csv", "--paths", "--models", "linear", "--out", d / "o"])
    assert code == 0, err
    text = (d / "o" / "credits.csv").read_text()
    assert "'=1+2" in text and ",=1+2" not in text and "\n=1+2" not in text


@case("cli")
def cli_internal_errors_are_defects(engine):
    from attribution.cli import _is_user_error

    try:
        pd.Timestamp("not a date")
    except ValueError as e:
        assert not _is_user_error(e)  # raised inside pandas: a defect (exit 1)
    try:
        Journeys.from_paths(P(["a"], [-1]))
    except ValueError as e:
        assert _is_user_error(e)


# ---------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------

PARAMS = [
    pytest.param(fn, engine, id=f"{group}-{name}-{engine}", marks=() if engine == "pandas" or HAS_DUCKDB else
                 pytest.mark.skip(reason="duckdb not installed"))
    for name, group, engines, fn in CASES
    for engine in engines
]


@pytest.mark.parametrize("fn, engine", PARAMS)
def test_catalogue(fn, engine):
    fn(engine)


def test_catalogue_is_large():
    assert len(CASES) >= 60
    assert {g for _, g, _, _ in CASES} >= {"time", "values", "ids", "identities", "names", "models", "decisions",
                                          "cli", "engines", "resources", "report"}


# ---------------------------------------------------------------------------------------------
# generated hostile event logs: the library's own error or a conserved answer, both engines alike
# ---------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTILE_NAMES = ("email", " email ", "(start)", "=SUM(A1)", "<b>bold</b>", "a|b", "ñandú", "Organic Search",
                 "x" * 300, "-1", "@home", "(null)", "tab\there", "é")
_ISO = st.datetimes(min_value=pd.Timestamp("1700-01-01").to_pydatetime(), max_value=pd.Timestamp("2260-01-01").to_pydatetime())
_TIME = st.one_of(
    _ISO.map(lambda d: d.isoformat()),                                   # ISO text, extreme years
    _ISO.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+02:00")),          # with an offset
    st.sampled_from(["9999-12-31", "0001-01-01", "2300-01-01", "1677-09-21", "not a time", "31/12/2026",
                     "01/02/2026", "2026-13-01"]),                       # out of range, junk, ambiguous
    st.integers(-2**40, 2**40),                                          # epoch numbers (mixed with text)
)
_ID = st.one_of(st.integers(0, 3), st.sampled_from([0.0, 1.0, 2.5, float("nan")]), st.sampled_from(["0", "1", "x", " ", "é"]))


@st.composite
def hostile_logs(draw):
    n_t, n_c = draw(st.integers(0, 8)), draw(st.integers(0, 4))
    uniform_time = draw(st.booleans())  # one clean column (most logs) or anything goes
    if uniform_time:
        day = st.integers(0, 60).map(lambda d: (pd.Timestamp("2026-01-01") + pd.Timedelta(days=d)).isoformat())
        tt, ct = draw(st.lists(day, min_size=n_t, max_size=n_t)), draw(st.lists(day, min_size=n_c, max_size=n_c))
    else:
        tt, ct = draw(st.lists(_TIME, min_size=n_t, max_size=n_t)), draw(st.lists(_TIME, min_size=n_c, max_size=n_c))
    tp = pd.DataFrame({
        "customer_id": pd.Series(draw(st.lists(_ID, min_size=n_t, max_size=n_t)), dtype=object),
        "timestamp": pd.Series(tt, dtype=object),
        "channel": draw(st.lists(st.sampled_from(HOSTILE_NAMES), min_size=n_t, max_size=n_t)),
    })
    cv = pd.DataFrame({
        "customer_id": pd.Series(draw(st.lists(_ID, min_size=n_c, max_size=n_c)), dtype=object),
        "timestamp": pd.Series(ct, dtype=object),
        "value": draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n_c, max_size=n_c)),
    })
    return tp, cv


def _run(tp, cv, engine):
    try:
        # sep "|": the hostile name "a|b" must be refused alike by both engines
        return quiet(lambda: Journeys.from_events(tp, cv, engine=engine, sep="|")), None
    except AttributionError as e:
        return None, e


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_logs())
def test_hostile_event_logs(log):
    tp, cv = log
    j, err = _run(tp, cv, "pandas")  # anything but the library's own error fails here
    if j is not None:
        assert j.total_conversions == len(cv)
        assert math.isclose(j.total_value, float(cv["value"].sum()), rel_tol=1e-12, abs_tol=1e-9)
        conserved(quiet(lambda: at.Markov().fit(j)), j)
    if not HAS_DUCKDB:
        return
    jd, errd = _run(tp, cv, "duckdb")
    assert (err is None) == (errd is None), (err, errd)
    if j is not None:
        a, b = j.to_paths(sep=" | "), jd.to_paths(sep=" | ")  # the sep the journeys were built with
        assert a["path"].tolist() == b["path"].tolist()
        np.testing.assert_array_equal(a["total_conversions"], b["total_conversions"])
        np.testing.assert_array_equal(a["total_null"], b["total_null"])
        np.testing.assert_allclose(a["total_conversion_value"], b["total_conversion_value"], rtol=1e-12, atol=1e-9)
