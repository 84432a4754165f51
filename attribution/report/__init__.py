"""The self-contained HTML report of an attribution analysis.

:func:`build_report` runs what the data allows (model comparison; ROI and a budget plan when
costs are given; ROPO when conversions carry a store place; journey KPIs) and returns a
:class:`Report`. :meth:`Report.to_html` gives one HTML page with everything inline: CSS in a
``<style>`` element, figures as base64 PNG ``<img>`` elements, no script and no external
resource, so the file can be mailed, archived and opened offline. Every string that comes from
the data (channel, column, file, place and model names) is escaped with :func:`html.escape`.

Figures are drawn by the functions of :mod:`attribution.plotting` on matplotlib ``Figure``
objects with the Agg canvas (no pyplot state, no display needed), with mathtext off so that a
``$`` in a channel name is printed as is.

Examples
--------
>>> import attribution as at
>>> from attribution.report import build_report
>>> sim = at.datasets.simulate(300, random_state=1)
>>> report = build_report(sim.journeys(warn=False), ["last_touch", "markov"],
...                       kpis=False, ropo=False, budget=False)
>>> html_text = report.to_html()
>>> html_text.startswith("<!DOCTYPE html>") and "<script" not in html_text
True

Layout
------
This package holds the public objects (:func:`build_report`, :class:`Report`,
:func:`calibration_section`); the rest lives in one module per part of the page:

* ``_page``: number formats, escaped HTML tables, fact lists, notes, the style sheet;
* ``_figures``: the Agg canvas (:func:`_png`), label shortening, the axis cut, which figures a report
  draws;
* ``_build``: what :func:`build_report` runs beside the comparison (budget plan, ROPO, progress) and
  the helpers the command line shares (:func:`guess_offline`, :func:`budget_bounds`);
* ``sections``: one module per section, each a mixin of :class:`Report`: ``glance``, ``data``,
  ``models``, ``roi``, ``validity``, ``budget``, ``ropo``, ``kpis``, ``methods`` (with the method
  notes); the calibration section is :func:`calibration_section`, here.

Every figure is rendered by this module's ``_png`` (looked up here at call time), so one
replacement of ``attribution.report._png`` reaches them all.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import csv_safe
from ..journeys import Journeys
from ..models.base import PSEUDO_CHANNELS, estimand_of
# Helpers of the former single module stay importable from here (the command line and
# attribution.customers use _png and _CSS).
from ._build import (  # noqa: F401
    _OFFLINE_WORDS,
    _channel_order,
    _optional,
    _plan,
    _primary_label,
    _ropo,
    _Ticker,
    _truth_series,
    budget_bounds,
    guess_offline,
)
from ._figures import (  # noqa: F401
    MAX_FIGURE_CHANNELS,
    MAX_LABEL,
    FigureSpecs,
    _bar_height,
    _cut_outliers,
    _note_top,
    _png,
    _short,
    _truncate_labels,
)
from ._page import (  # noqa: F401
    _CSS,
    _NUMERIC,
    _esc,
    _facts,
    _fmt,
    _is_missing,
    _is_text_col,
    _lower_first,
    _notes_list,
    _p,
    _table,
)

from .sections.budget import BudgetSection
from .sections.data import DataSection
from .sections.glance import GlanceSection
from .sections.kpis import KpiSection
from .sections.methods import (  # noqa: F401
    _TOOL_NOTES,
    METHOD_NOTES,
    MethodNote,
    MethodsSection,
    method_note,
)
from .sections.models import ModelsSection
from .sections.roi import RoiSection
from .sections.ropo import RopoSection
from .sections.validity import ValiditySection

__all__ = [
    "METHOD_NOTES",
    "MethodNote",
    "Report",
    "budget_bounds",
    "build_report",
    "calibration_section",
    "guess_offline",
    "method_note",
]

# ---------------------------------------------------------------------------------------------
# building the report
# ---------------------------------------------------------------------------------------------



def build_report(
    source,
    models=None,
    *,
    costs=None,
    truth=None,
    budget="auto",
    budget_model: str | None = None,
    bounds=(0.5, 2.0),
    ropo="auto",
    offline=None,
    customers: pd.DataFrame | None = None,
    customer_id: str = "loyalty_id",
    store_places=("store",),
    n_boot: int = 200,
    kpis=True,
    validity="auto",
    title: str = "Attribution report",
    inputs: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    progress: bool | Callable[[str, int, int], None] = False,
    calibration=None,
    customer_analysis=None,
) -> Report:
    """Run what the data allows and collect it into a :class:`Report`.

    Parameters
    ----------
    source : Comparison or Journeys
        A finished :func:`~attribution.decisions.comparison.compare` result, or journeys to compare
        ``models`` on.
    models : list, optional
        Model names, spec strings (``"markov:order=2"``) or objects, when ``source`` is
        Journeys (default: :data:`attribution.decisions.comparison.DEFAULT_MODELS`).
    costs : DataFrame, Series or dict, optional
        Costs (see :func:`attribution.decisions.roi.normalise_costs`), when ``source`` is Journeys; a
        Comparison brings its own. Costs add the ROI and budget sections.
    truth : DataFrame, Series or dict, optional
        Known true conversions per channel (the simulator's ``truth()``), shown beside the models.
    budget : "auto", float, BudgetPlan, False or None, default "auto"
        ``"auto"``: with costs, plan today's total spend; a number: plan that budget; a
        :class:`~attribution.decisions.budget.BudgetPlan`: show it; ``False``/``None``: no plan.
    budget_model : str, optional
        The model label whose credit drives the plan and ROPO; default the first Markov model,
        else the last model.
    bounds : (low, high) or dict, default (0.5, 2.0)
        Spend bounds of the plan: multipliers of today's spend, or a dict ``channel ->
        (lower, upper)`` in currency (see :func:`budget_bounds`).
    ropo : "auto", RopoReport, False or None, default "auto"
        ``"auto"``: run :func:`attribution.ropo` when conversions carry one of
        ``store_places``; a RopoReport: show it.
    offline : list of str, optional
        Offline channels for ROPO; default :func:`guess_offline` of the channel names.
    customers : DataFrame, optional
        The customer base for ROPO's incrementality estimate.
    customer_id : str, default "loyalty_id"
        Id column of ``customers``.
    store_places : iterable of str, default ("store",)
        Conversion places that are stores.
    n_boot : int, default 200
        Bootstrap replicates of ROPO's incrementality interval (with ``customers``).
    kpis : bool or JourneyKPIs, default True
        Add the journey-KPI section (computed here unless given).
    validity : "auto", ValidityResult, False or None, default "auto"
        The validity scorecard (:func:`attribution.decisions.scorecard.validity`) of the model that drives
        the plan: ``"auto"`` computes it when that model is incremental; it is shown before the
        plan, its grades mark the ROI table, and channels graded D are held at today's spend.
    title : str
    inputs : mapping, optional
        Role -> file name of the inputs (e.g. ``{"touchpoints": "touchpoints.csv"}``), listed in
        the report.
    settings : mapping, optional
        Other settings to list (lookback, column names, ...).
    notes : sequence of str
        Notes to show in the data summary (e.g. warnings raised while reading the data).
    progress : bool or callable
        ``True``: a tqdm bar on stderr; a callable ``f(stage, done, total)`` is called before
        each stage.
    customer_analysis : CustomerAnalysis, optional
        From :meth:`attribution.customers.CustomerTable.analyse`: adds the "Customers" section
        (segment table, retention heatmap, lifetime value by acquisition channel).

    Returns
    -------
    Report

    Notes
    -----
    Warnings raised by the analyses are collected into the report's notes and re-issued. An
    optional section that fails (e.g. a plan the bounds make infeasible) is replaced by a note
    saying why, unless it was asked for explicitly (a number for ``budget``).
    """
    from ..decisions.comparison import Comparison, compare

    if isinstance(source, Comparison):
        comparison, journeys = source, source.journeys
        if models is not None or costs is not None:
            raise ValueError(
                "build_report got a Comparison and also models= or costs=; pass journeys to compare "
                "them here, or compare(journeys, models, costs=...) first."
            )
    elif isinstance(source, Journeys):
        comparison, journeys = None, source
    else:
        raise TypeError(
            "build_report expects a Comparison or a Journeys object. "
            f"Got {type(source).__name__} instead."
        )
    truth_s = _truth_series(truth)
    stages = []
    if comparison is None and models is not False:
        stages.append("fitting models")
    want_budget = budget is not None and budget is not False
    if validity is not None and validity is not False and models is not False:
        stages.append("validity scorecard")
    if want_budget:
        stages.append("budget plan")
    want_ropo = ropo is not None and ropo is not False
    if want_ropo:
        stages.append("ROPO")
    if kpis is not None and kpis is not False:
        stages.append("journey KPIs")
    stages.append("figures")
    has_costs = costs is not None or (comparison is not None and comparison.costs is not None)
    guess = (2 if models is not False else 0) + (2 * has_costs if want_budget else has_costs)
    guess += bool(want_ropo and journeys.has_place) + 2 * (kpis is not None and kpis is not False)
    tick = _Ticker(progress, len(stages) - 1 + guess)
    collected: list[str] = list(notes)
    plan = ropo_report = kpi_report = None
    meta: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if comparison is None and models is not False:
            tick("fitting models")
            comparison = compare(journeys, models, costs=costs, progress=False)
        labels = comparison.labels if comparison is not None else []
        primary = budget_model or (_primary_label(labels, comparison.models) if labels else None)
        if primary is not None and labels and primary not in labels:
            raise ValueError(f"Unknown budget_model {primary!r}. Choose from the compared models {labels}.")
        meta["primary"] = primary
        card = None
        if validity is not None and validity is not False and validity != "auto":
            card = validity
        elif (validity == "auto" and comparison is not None and primary in comparison.models
              and estimand_of(comparison.models[primary]) == "incremental"):
            tick("validity scorecard")
            from ..decisions.scorecard import validity as _validity

            card = _optional(lambda: _validity(comparison.models[primary], journeys), "Validity scorecard", collected)

        if want_budget:
            tick("budget plan")
            plan = _plan(budget, comparison, primary, bounds, collected, meta, card)
        if want_ropo:
            tick("ROPO")
            ropo_report = _ropo(ropo, journeys, comparison, primary, offline, customers, customer_id,
                                store_places, n_boot, collected, meta)
        if kpis is not None and kpis is not False:
            tick("journey KPIs")
            if kpis is True:
                from ..journey_kpis import kpis as _kpis

                kpi_report = _optional(lambda: _kpis(journeys), "Journey KPIs", collected)
            else:
                kpi_report = kpis
    for w in caught:
        msg = str(w.message)
        if msg not in collected:
            collected.append(msg)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    report = Report(
        journeys, comparison, plan=plan, ropo=ropo_report, kpis=kpi_report, truth=truth_s, title=title,
        inputs=inputs, settings=settings, notes=collected, meta=meta, customer_analysis=customer_analysis, validity=card,
    )
    report.calibration = calibration  # a CalibrationResult: the "Calibration" section
    tick.extend(len(report._figure_specs()) - guess)
    report._render(lambda name: tick(f"figure: {name}"))
    tick.finish()
    return report



class Report(GlanceSection, DataSection, ModelsSection, RoiSection, ValiditySection, BudgetSection,
             RopoSection, KpiSection, MethodsSection, FigureSpecs):
    """A self-contained HTML report of an attribution analysis (see :func:`build_report`).

    Parameters
    ----------
    journeys : Journeys
    comparison : Comparison, optional
    plan : BudgetPlan, optional
    ropo : RopoReport, optional
    kpis : JourneyKPIs, optional
    truth : Series, optional
        True conversions per channel.
    title : str
    inputs, settings : mapping, optional
        Listed in the header and the data summary.
    notes : list of str
        Shown in the data summary.
    meta : dict, optional
        Details of how the sections were made (``primary`` model, ``bounds``, ``offline``, ...).

    Attributes
    ----------
    figures : dict
        Figure name -> PNG bytes (rendered on first access).
    tables : dict
        Table name -> DataFrame: what :meth:`write` saves as CSV files.
    """

    def __init__(self, journeys, comparison=None, *, plan=None, ropo=None, kpis=None, truth=None,
                 title: str = "Attribution report", inputs=None, settings=None, notes=(), meta=None,
                 customer_analysis=None, validity=None):
        if not isinstance(journeys, Journeys):
            raise TypeError(f"Report needs the Journeys the analysis ran on. Got {type(journeys).__name__} instead.")
        self.journeys = journeys
        self.comparison = comparison
        self.plan = plan
        self.ropo = ropo
        self.kpis = kpis
        self.customer_analysis = customer_analysis  # attribution.customers.CustomerAnalysis, optional
        self.validity = validity
        self.truth = _truth_series(truth)
        self.title = str(title)
        self.inputs = {str(k): str(v) for k, v in (inputs or {}).items()}
        self.settings = {str(k): str(v) for k, v in (settings or {}).items()}
        self.notes = [str(n) for n in notes]
        self.meta = dict(meta or {})
        self.created = _dt.datetime.now().astimezone().replace(microsecond=0)
        self._figures: dict[str, bytes] | None = None
        self._figure_errors: dict[str, str] = {}

    def __repr__(self) -> str:
        parts = [s for s, v in (("models", self.comparison), ("ROI", self.has_costs), ("budget", self.plan),
                                ("ROPO", self.ropo), ("KPIs", self.kpis)) if v]
        return f"<Report {self.title!r}: {', '.join(parts) or 'data summary only'}>"

    # -- content --------------------------------------------------------------------------------

    @property
    def has_costs(self) -> bool:
        return self.comparison is not None and self.comparison.costs is not None

    @property
    def channel_order(self) -> list[str]:
        """Channels as the report lists them: by mean credit over the models, ``(no touch)`` last."""
        if self.comparison is None:
            return [str(c) for c in self.journeys.channels]
        cached = self.__dict__.get("_channel_order_cache")
        if cached is None or cached[0] is not self.comparison:  # computed once: sections ask per channel
            cached = (self.comparison, _channel_order(self.comparison.credits_wide))
            self.__dict__["_channel_order_cache"] = cached
        return list(cached[1])

    def credits_table(self) -> pd.DataFrame:
        """Attributed conversions, channel × model in report order (with a ``truth`` column)."""
        wide = self.comparison.credits_wide.reindex(self.channel_order)
        if self.truth is not None:
            wide["truth"] = self.truth.reindex(wide.index)
        wide.columns.name = None
        return wide

    def _roi_order(self) -> list[str]:
        """Paid channels by cost (largest first), then the others; ``(no touch)`` left out."""
        cost = self.comparison.roi.groupby("channel", sort=False)["cost"].first().drop(index=list(PSEUDO_CHANNELS), errors="ignore")
        paid = cost[cost > 0].sort_values(ascending=False, kind="stable").index.tolist()
        rest = [c for c in self.channel_order if c in cost.index and c not in paid]
        return paid + rest + [c for c in cost.index if c not in paid and c not in rest]

    def _plan_sorted(self):
        """The plan with its channels ordered by today's spend, largest first."""
        import copy

        plan = copy.copy(self.plan)
        order = plan.allocation["current"].sort_values(ascending=False, kind="stable").index
        plan.allocation = plan.allocation.reindex(order)
        plan.rule_based = plan.rule_based.reindex(order)
        return plan

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by file stem (saved by :meth:`write` as CSV)."""
        out: dict[str, pd.DataFrame] = {}
        j = self.journeys.describe()
        out["data_summary"] = j.to_frame("value")
        if self.comparison is not None:
            out["credits"] = self.comparison.credits
            wide = self.credits_table()
            wide.index.name = "channel"
            out["credits_wide"] = wide
            if self.has_costs:
                out["roi"] = self.comparison.roi
        if self.validity is not None:
            out["validity"] = self.validity.table
        if self.plan is not None:
            out["budget_plan"] = self.plan.allocation
            out["budget_totals"] = self.plan.totals
            direction = self.plan_direction()
            if direction is not None:
                out["budget_vs_truth"] = direction
        if self.ropo is not None:
            out["ropo_summary"] = self.ropo.summary.to_frame("value")
            out["ropo_by_channel"] = self.ropo.by_channel
            if self.ropo.incrementality is not None:
                out["ropo_incrementality"] = self.ropo.incrementality.to_frame("value")
        if self.kpis is not None:
            for name, frame in self.kpis.to_frames().items():
                out[f"kpis_{name}"] = frame
        return out

    # -- figures --------------------------------------------------------------------------------

    @property
    def figures(self) -> dict[str, bytes]:
        """Figure name -> PNG bytes; a figure that cannot be drawn is left out (with a note)."""
        if self._figures is None:
            self._render()
        return self._figures

    def _render(self, before: Callable[[str], None] | None = None) -> None:
        out = {}
        self._figure_errors = {}
        for name, draw, size in self._figure_specs():
            if before is not None:
                before(name)
            try:
                out[name] = _png(draw, size)
            except Exception as exc:  # noqa: BLE001 - a picture must not sink the report
                self._figure_errors[name] = f"{type(exc).__name__}: {exc}"
        self._figures = out

    def _img(self, name: str, alt: str, caption: str = "", small: bool = False) -> str:
        data = self.figures.get(name)
        if data is None:
            err = self._figure_errors.get(name)
            return _p(f"(Figure '{name}' could not be drawn: {err})", "hint") if err else ""
        b64 = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        cls = " class='small'" if small else ""
        return f"<figure{cls}><img src='data:image/png;base64,{b64}' alt='{_esc(alt)}'>{cap}</figure>"

    # -- sections -------------------------------------------------------------------------------

    def _shown_elsewhere(self, section: str) -> set[str]:
        """Notes that the ROI, budget and ROPO sections list themselves."""
        out: set[str] = set()
        if self.has_costs:
            out |= set(self.comparison.roi_result.warnings)
        if self.plan is not None:
            out |= set(self.plan.warnings)
        if self.ropo is not None:
            out |= set(self.ropo.notes)
        return out

    def plan_direction(self) -> pd.DataFrame | None:
        """With a truth and a plan: :func:`attribution.decisions.budget.check_plan_direction`."""
        if self.truth is None or self.plan is None:
            return None
        from ..decisions.budget import check_plan_direction

        return check_plan_direction(self.plan, self.truth)

    def _estimand_words(self) -> str:
        if self.comparison is None:
            return "attributed"
        est = set(self.comparison.estimands)
        if est == {"incremental"}:
            return "incremental: what the channels caused"
        if est == {"attributed"}:
            return "attributed: observed conversions split over touching channels"
        return "attributed and incremental models side by side: not the same quantity"

    # -- output ---------------------------------------------------------------------------------

    def to_html(self) -> str:
        """The report as one self-contained HTML page (no script, no external resource)."""
        from .. import __version__

        sections: list[tuple[str, str, str]] = [("data", "Data", self._data_section())]
        if self.comparison is not None:
            sections.append(("models", "Models", self._models_section()))
            if self.has_costs:
                sections.append(("roi", "ROI", self._roi_section()))
        if self.validity is not None:
            sections.append(("validity", "Validity", self._validity_section()))
        if self.plan is not None:
            sections.append(("budget", "Budget plan", self._budget_section()))
        if self.ropo is not None:
            sections.append(("ropo", "ROPO", self._ropo_section()))
        if self.kpis is not None:
            sections.append(("kpis", "Journey KPIs", self._kpi_section()))
        if getattr(self, "calibration", None) is not None:
            sections.append(("calibration", "Calibration", calibration_section(self.calibration, plan=getattr(self, "calibration_plan", None))))
        if self.customer_analysis is not None:  # the section is built by attribution.customers
            sections.append(("customers", "Customers", self.customer_analysis.section_html()))
        sections.append(("methods", "Method notes", self._methods_section()))
        nav = "".join(f"<a href='#{sid}'>{_esc(label)}</a>" for sid, label, _ in sections)
        cmp = self.comparison
        sub = []
        if cmp is not None:
            sub.append(f"{len(cmp.labels)} model{'s' if len(cmp.labels) != 1 else ''}: {', '.join(cmp.labels)}")
        sub.append(f"created {self.created:%Y-%m-%d %H:%M %Z}".strip())
        body = "".join(s for _, _, s in sections)
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<meta name='generator' content='attribution {_esc(__version__)}'>"
            f"<title>{_esc(self.title)}</title><style>{_CSS}</style></head><body><main>"
            f"<header><h1>{_esc(self.title)}</h1><p class='sub'>{_esc(' · '.join(sub))}</p>"
            f"<nav>{nav}</nav></header>"
            + self._glance()
            + body
            + f"<footer>Made with attribution {_esc(__version__)} on {self.created:%Y-%m-%d}. Everything, figures "
            "included, is inside this one file: it opens offline and can be shared as is.</footer>"
            "</main></body></html>\n"
        )

    def _repr_html_(self) -> str:
        doc = self.to_html()
        return (f"<iframe srcdoc=\"{html.escape(doc, quote=True)}\" "
                "style='width:100%;height:900px;border:1px solid #ddd'></iframe>")

    def save(self, path) -> Path:
        """Write the HTML page to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def write(self, directory, *, html_name: str = "report.html") -> list[Path]:
        """Write ``report.html``, every table as CSV and every figure as PNG into ``directory``.

        Returns
        -------
        list of Path
            The files written, the report first.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = [self.save(directory / html_name)]
        for name, frame in self.tables.items():
            p = directory / f"{name}.csv"
            index = not isinstance(frame.index, pd.RangeIndex)
            csv_safe(frame).to_csv(p, index=index)
            written.append(p)
        for name, data in self.figures.items():
            p = directory / f"{name}.png"
            p.write_bytes(data)
            written.append(p)
        return written



# ---------------------------------------------------------------------------------------------
# calibration by experiments (issue 13): a self-contained section
# ---------------------------------------------------------------------------------------------


def calibration_section(cal, *, plan=None) -> str:
    """The report's "Calibration" section for a :class:`~attribution.calibration.CalibrationResult`.

    Each test and the incrementality factor it implies, credit and ROI before and after with
    intervals, the factor figure, which channel to test next and (given ``plan``, a plan from
    :meth:`CalibrationResult.plan_budget`) the calibrated plan with its uncertainty.
    """
    h = cal.hyper
    lv = float(h["level"])
    parts = [
        "<section id='calibration'><h2>Calibration by experiments</h2>",
        _p(f"{len(cal.tests)} test(s) on {int(h['tested_channels'])} channel(s) correct the {cal.estimand} credit of "
           f"{cal.label}; the result is incremental credit. A test's factor = its incremental outcome, scaled to "
           "the model's period, ÷ the model's credit; untested channels are shrunk to the tested ones "
           f"(mean factor {float(h['mu']):.3f} ± {float(h['mu_sd']):.3f}, between-channel sd {float(h['tau']):.3f})."),
    ]
    t = cal.tests.set_index("test")[["channel", "kind", "outcome", "start", "end", "incremental", "se", "scale",
                                     "implied_incremental", "model_credit", "factor", "factor_se"]]
    t = t.assign(start=t["start"].astype(str), end=t["end"].astype(str))
    parts.append(_table(t, {"channel": "text", "kind": "text", "outcome": "text", "start": "text", "end": "text",
                            "scale": "num2", "factor": "num3", "factor_se": "num3"}, index_name="test",
                        caption="Tests and the incrementality factor each implies"))
    c = cal.comparison
    c = c.assign(tested=np.where(c["tested"], "yes", ""))
    parts.append(_table(c, {"tested": "text", "factor": "num3", "factor_low": "num3", "factor_high": "num3"},
                        index_name="channel", emphasis=["after"],
                        caption=f"Conversions credited before ({cal.estimand}) and after calibration (incremental, {lv:.0%} interval)"))
    parts.append(_calibration_img(cal))
    if cal.costs is not None:
        try:
            roi = cal.roi().table
            wide = roi.pivot_table(index="channel", columns="model", values="roi", sort=False)
            lo = roi[roi["model"].str.contains("calibrated, incremental")].set_index("channel")
            wide["calibrated low"] = lo["roi_low"].reindex(wide.index)
            wide["calibrated high"] = lo["roi_high"].reindex(wide.index)
            parts.append(_table(wide, default="num2", index_name="channel",
                                caption="ROI = (value − cost) / cost before and after calibration"))
            nt = cal.next_tests()
            parts.append(_table(nt[["rank", "spend_share", "tested", "factor", "factor_sd", "score"]],
                                {"rank": "num0", "spend_share": "pct", "tested": "text", "factor": "num3",
                                 "factor_sd": "num3", "score": "num3"}, index_name="channel",
                                caption="Which channel to test next: variance of its factor × its share of spend"))
        except (ValueError, KeyError) as exc:
            parts.append(_p(f"ROI and test ranking not shown: {exc}", "hint"))
    if plan is not None:
        a = plan.allocation
        cols = [c for c in ("current", "planned", "planned_low", "planned_high", "p_increase") if c in a.columns]
        parts.append(_table(a[cols], {"p_increase": "pct0"}, default="money", index_name="channel",
                            caption=f"Budget plan on calibrated credit ({lv:.0%} interval over posterior draws)"))
    if cal.notes:
        parts.append(_notes_list(cal.notes))
    parts.append("</section>")
    return "".join(parts)


def _calibration_img(cal) -> str:
    n = len(cal.factors)
    data = _png(lambda ax: cal.plot(ax=ax), (7.5, 0.42 * n + 1.6))
    b64 = base64.b64encode(data).decode("ascii")
    alt = "Incrementality factor per channel: tests and calibrated factors with intervals"
    return f"<figure><img src='data:image/png;base64,{b64}' alt='{_esc(alt)}'><figcaption>{_esc(alt)}</figcaption></figure>"
