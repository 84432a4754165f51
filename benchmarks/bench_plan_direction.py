"""Does the budget plan move each channel the way its true incremental return says?

For each confounding regime of :func:`attribution.datasets.simulate` and each seed, the default
causal model (``get_model("causal")``) and, for contrast, the best path models are fitted on the
same journeys (``sim.journeys(lookback=None)``), and a budget plan is made the way a user makes
one: ``compare(journeys, [model], costs=sim.costs).plan_budget(total)`` at today's total budget
(default concave curves, default bounds 0.5-2 x today's spend, default objective: value).

The plan's direction is checked with :func:`attribution.decisions.budget.check_plan_direction`
against the simulator's truth: a channel's true incremental return per unit of spend is

    r_c = truth_c / cost_c

(``truth()["value"]``: the exact Shapley value of the value game, i.e. the incremental value the
channel causes, over its cost in the window). Every channel whose ``r_c`` is more than 25 % above
the median over the planned (paid) channels must gain spend, every one more than 25 % below it
must lose spend (a change of less than 1 % counts as "flat", not as moved). ROI = r_c - 1 orders
channels the same way; the return per unit of spend is used because a relative distance from a
median ROI near zero is meaningless.

The causal plan is made twice: as plain ``plan_budget`` (no scorecard) and with the validity
scorecard (``validity=at.validity(model, journeys)``, as the report does), which holds channels
graded D at today's spend. A held channel is not moved: it counts as a miss when its direction is
required (reported separately as "held"). The same plan made from the true incremental credit
(the "oracle") separates what the decision code does from what the estimate does: a channel the
oracle moves right and a model moves wrong is a miss of the model's estimate.

Run::

    PYTHONPATH=. nice -n 5 python benchmarks/bench_plan_direction.py --seeds 5 --customers 20000

It writes ``benchmarks/results/plan_direction.md``. With ``--targeting-check`` it instead fits the
causal model in the always-in-market world with and without targeting on intent and writes the
estimated/true incremental value per channel to ``benchmarks/results/plan_direction_targeting.md``
(is a channel's error noise, or bias from targeting?)::

    PYTHONPATH=. nice -n 5 python benchmarks/bench_plan_direction.py --targeting-check --customers 60000 --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from attribution import compare
from attribution.datasets import REGIMES, simulate
from attribution.decisions.budget import check_plan_direction, plan_budget
from attribution.models import BASELINE, get_model

#: Path models shown for contrast: the best path models by TVD in benchmarks/results/causal.md
#: (first touch in the episode and randomised worlds, last non-direct always in market) and the
#: two data-driven defaults.
PATH_MODELS = ("first_touch", "last_non_direct", "markov", "shapley")


def direction_table(plan, truth: pd.DataFrame, credits: pd.DataFrame) -> pd.DataFrame:
    chk = check_plan_direction(plan, truth)
    a = plan.allocation
    col = plan.objective
    est = credits[col].reindex(a.index).astype(float) / a["current"]
    out = pd.DataFrame({
        "true_return": chk["true_return"], "est_return": est, "rel_to_median": chk["relative_to_median"],
        "today": a["current"], "planned": a["planned"], "change_pct": chk["planned_change_pct"],
        "should": chk["should"], "moved": chk["moved"], "held": chk["held"], "verdict": chk["verdict"],
    })
    out.attrs.update(chk.attrs)
    return out


def _why(tab: pd.DataFrame, oracle: pd.DataFrame | None) -> list[str]:
    """Each missed channel with its cause: held by the plan, a miss of the decision code itself
    (the plan on the true credit misses it too), or the estimate (the true credit gets it right)."""
    out = []
    miss = tab[tab["should"].isin(["up", "down"]) & (tab["verdict"] != "right")]
    for ch, r in miss.iterrows():
        if r["verdict"] == "held":
            why = "held"
        elif oracle is not None and oracle.loc[ch, "verdict"] != "right":
            why = "decision rule: the plan on the true credit misses it too"
        else:
            why = f"estimate {r['est_return']:.2f} vs true {r['true_return']:.2f}"
        out.append(f"{ch} held" if why == "held" else f"{ch} {r['verdict']} ({why})")
    return out


def run_one(regime, seed, n_customers, models, with_validity, with_oracle=True):
    sim = simulate(n_customers, regime=regime, random_state=seed)
    truth = sim.truth()
    j = sim.journeys(lookback=None, warn=False)
    total = round(float(sim.costs["cost"].sum()), 2)
    rows, tables = [], {}
    # the oracle: the same plan on the true incremental credit (with a baseline row, so it is
    # planned as an incremental estimate): what the decision code does with perfect credit
    oracle = truth[["conversions", "value"]].copy()
    oracle.loc[BASELINE] = [truth.attrs["baseline_conversions"], truth.attrs["baseline_value"]]
    specs = (["(oracle: true credit)"] if with_oracle else []) + list(models)
    for spec in specs:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if spec.startswith("(oracle"):
                plans = {spec: plan_budget(oracle, sim.costs, total, model=spec)}
                rows_credits = oracle
            else:
                kw = {"n_boot": 0} if spec == "causal" else {}
                comp = compare(j, {spec: get_model(spec, **kw)}, costs=sim.costs, progress=False)
                plans = {spec: comp.plan_budget(total)}
                rows_credits = comp.models[spec].credits_
            if spec == "causal" and with_validity:
                from attribution import validity

                card = validity(comp.models[spec], j)
                plans["causal+scorecard"] = comp.plan_budget(total, validity=card)
        credits = rows_credits
        for label, plan in plans.items():
            tab = direction_table(plan, truth, credits)
            tables[label] = tab
            req = tab["should"].isin(["up", "down"])
            rows.append({
                "regime": regime, "seed": seed, "model": label, "required": int(req.sum()),
                "right": int((tab.loc[req, "verdict"] == "right").sum()),
                "wrong": int((tab.loc[req, "verdict"] == "wrong").sum()),
                "flat": int((tab.loc[req, "verdict"] == "flat").sum()),
                "held": int((tab.loc[req, "verdict"] == "held").sum()),
                "all_right": bool((tab.loc[req, "verdict"] == "right").all()),
                "misses": "; ".join(_why(tab, tables.get("(oracle: true credit)"))),
                "seconds": time.perf_counter() - t0,
            })
            r = rows[-1]
            print(f"{regime:17s} seed {seed} {label:18s}: {r['right']}/{r['required']} right "
                  f"(wrong {r['wrong']}, flat {r['flat']}, held {r['held']}) {r['seconds']:.0f} s", flush=True)
    return pd.DataFrame(rows), tables


def fmt_table(tab: pd.DataFrame) -> str:
    head = ("| channel | true iROAS | est. return | true vs median | today | planned | change | should | "
            "verdict |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for ch, r in tab.sort_values("true_return", ascending=False).iterrows():
        lines.append(f"| {ch} | {r['true_return']:.2f} | {r['est_return']:.2f} | {r['rel_to_median']:+.0%} | "
                     f"{r['today']:,.0f} | {r['planned']:,.0f} | {r['change_pct']:+.0%} | {r['should']} | "
                     f"{r['verdict']}{' (held)' if r['held'] and r['verdict'] != 'held' else ''} |")
    return "\n".join(lines)


def targeting_check(n_customers: int, seeds, out: str) -> None:
    """Is the causal model's error on a channel noise or bias, and does it come from targeting?

    In the always-in-market world, the estimated over the true incremental value of every paid
    channel, with the channels targeted on intent as usual (``targeting=1``) and with exposure
    independent of intent (``targeting=0``), at ``n_customers``.
    """
    rows = []
    for targeting in (0.0, 1.0):
        for seed in seeds:
            sim = simulate(n_customers, regime="always_in_market", random_state=seed, targeting=targeting)
            truth = sim.truth()["value"]
            paid = sorted(sim.costs["channel"].unique())
            m = get_model("causal").fit(sim.journeys(lookback=None, warn=False))
            ratio = (m.credits_["value"] / truth).reindex(paid)
            rows.append({"targeting": targeting, "seed": seed, **ratio.round(2).to_dict()})
            print(f"targeting {targeting:g} seed {seed}: " + ", ".join(f"{c} {v:.2f}" for c, v in ratio.items()), flush=True)
    df = pd.DataFrame(rows)
    cols = [c for c in df.columns if c not in ("targeting", "seed")]
    lines = ["# Always-in-market world: estimated / true incremental value per channel (causal default call)", "",
             f"`simulate({n_customers}, regime='always_in_market', random_state=seed, targeting=t)`, "
             "`get_model('causal').fit(sim.journeys(lookback=None))`: the model's value credit over `truth()['value']`. "
             "A ratio the same for every channel does not change a plan's direction (every channel's return is "
             "scaled alike); a channel whose ratio stands out does.", "",
             f"Command: `PYTHONPATH=. nice -n 5 python benchmarks/bench_plan_direction.py --targeting-check "
             f"--customers {n_customers} --seeds {len(seeds)}`", "",
             "| targeting | seed | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for r in rows:
        lines.append(f"| {r['targeting']:g} | {r['seed']} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    Path(out).write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--regimes", default=",".join(REGIMES))
    ap.add_argument("--models", default="causal," + ",".join(PATH_MODELS))
    ap.add_argument("--no-validity", action="store_true", help="skip the plan with the validity scorecard")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "plan_direction.md"))
    ap.add_argument("--targeting-check", action="store_true",
                    help="only the always-in-market estimate/truth ratios with and without targeting on intent")
    args = ap.parse_args(argv)
    if args.targeting_check:
        targeting_check(args.customers, list(range(1, args.seeds + 1)),
                        str(Path(__file__).parent / "results" / "plan_direction_targeting.md"))
        return
    regimes = args.regimes.split(",")
    models = args.models.split(",")
    seeds = list(range(1, args.seeds + 1))
    all_rows, all_tables = [], {}
    for regime in regimes:
        for seed in seeds:
            rows, tables = run_one(regime, seed, args.customers, models, not args.no_validity)
            all_rows.append(rows)
            all_tables[(regime, seed)] = tables
    res = pd.concat(all_rows, ignore_index=True)

    lines = ["# Budget-plan direction against the true incremental return", "",
             f"`simulate({args.customers}, regime=..., random_state=seed)`, seeds {seeds}; journeys "
             "`sim.journeys(lookback=None)`; plan `compare(j, [model], costs=sim.costs).plan_budget(today's total)` "
             "(defaults: concave curves, bounds 0.5-2 x today's spend, objective value). ",
             "A channel whose true incremental value per unit of cost (true iROAS = `truth()['value'] / cost`) "
             "is more than 25 % above (below) the median over the paid channels must gain (lose) spend; "
             "`causal+scorecard` is the plan with `validity=at.validity(model, journeys)` (channels graded D "
             "held at today's spend: a held channel whose direction is required counts as a miss).", "",
             "Command: `PYTHONPATH=. nice -n 5 python benchmarks/bench_plan_direction.py "
             + " ".join(sys.argv[1:] if argv is None else argv) + "`", "",
             "How the acceptance point (\"its budget plan moves every channel whose true incremental ROI differs "
             "from the median by more than 25 % in the right direction\") is counted: on the `causal` column, the "
             "plan `plan_budget` makes from the default call (no scorecard passed). The `causal+scorecard` column "
             "is what the report plans (`validity=\"auto\"`): a channel graded D is held at today's spend, as the "
             "issue asks, and a held channel is not moved, so it counts as a miss there (verdict `held`). The "
             "`(oracle: true credit)` column is the same decision code on the true incremental credit: where it "
             "is right and a model is not, the miss is the model's estimate, not the plan.", "",
             "Why a plan moves a channel: an incremental model's plan is not refitted per period, so every channel "
             "gets the same assumed elasticity (0.5); a channel then gains spend exactly when its estimated "
             "return per unit of cost is above the plan's neutral point (when no bound binds, the spend-weighted "
             "geometric mean of the channels' estimated returns; with concave curves of one elasticity the "
             "budget constraint gives sum_k s_k log(m_k / lambda) = 0).", "",
             "## Pass count (seeds with every required direction right)", "",
             "| regime | " + " | ".join(dict.fromkeys(res["model"])) + " |",
             "|---|" + "---|" * res["model"].nunique()]
    for regime in regimes:
        sub = res[res["regime"] == regime]
        cells = []
        for m in dict.fromkeys(res["model"]):
            s = sub[sub["model"] == m]
            cells.append(f"{int(s['all_right'].sum())}/{len(s)} seeds ({int(s['right'].sum())}/{int(s['required'].sum())} channels)")
        lines.append(f"| {regime} | " + " | ".join(cells) + " |")
    # the scorecard against the truth: which channels it held, and were their estimates right?
    sc_rows = []
    for (regime, seed), tables in all_tables.items():
        if "causal+scorecard" not in tables or "causal" not in tables:
            continue
        sc, ca = tables["causal+scorecard"], tables["causal"]
        req = ca["should"].isin(["up", "down"])
        held = sc["held"].astype(bool)
        right = ca["verdict"] == "right"
        sc_rows.append({"regime": regime, "seed": seed, "held": int(held.sum()),
                        "held_required": int((held & req).sum()),
                        "held_right": int((held & req & right).sum()),
                        "held_wrong": int((held & req & ~right).sum()),
                        "kept_wrong": int((~held & req & ~right).sum()),
                        "held_channels": ", ".join(sc.index[held])})
    if sc_rows:
        scd = pd.DataFrame(sc_rows)
        lines += ["", "## The scorecard against the truth", "",
                  "Per regime, summed over seeds: channels graded D (held at today's spend), held channels whose "
                  "direction is required and whose plain causal plan is right (the scorecard held a right estimate), "
                  "held channels whose causal plan is wrong (a catch), and channels not held whose causal plan is wrong "
                  "(a miss of the scorecard).", "",
                  "| regime | held | held, estimate right | held, estimate wrong | not held, estimate wrong | held channels (per seed) |",
                  "|---|---|---|---|---|---|"]
        for regime, g in scd.groupby("regime", sort=False):
            lines.append(f"| {regime} | {g['held'].sum()} | {g['held_right'].sum()} | {g['held_wrong'].sum()} | "
                         f"{g['kept_wrong'].sum()} | " + "; ".join(f"{r.seed}: {r.held_channels or '-'}" for r in g.itertuples()) + " |")
    lines += ["", "## Misses and their causes", "",
              "A miss is *held* (the plan was told to keep the channel at today's spend), a miss of the "
              "*decision rule* (the same plan on the true incremental credit misses it too) or of the "
              "*estimate* (the plan on the true credit gets it right; the model's estimated return per unit "
              "of cost puts the channel on the other side of the plan's neutral point).", "",
              "| regime | seed | model | misses |", "|---|---|---|---|"]
    for r in res[res["misses"] != ""].itertuples():
        lines.append(f"| {r.regime} | {r.seed} | {r.model} | {r.misses} |")
    lines += ["", "## Per seed", ""]
    for (regime, seed), tables in all_tables.items():
        for label, tab in tables.items():
            r = res[(res["regime"] == regime) & (res["seed"] == seed) & (res["model"] == label)].iloc[0]
            lines += [f"### {regime}, seed {seed}: {label} ({r['right']}/{r['required']} right)", "",
                      fmt_table(tab), ""]
    text = "\n".join(lines)
    print("\n".join(lines[:lines.index("## Misses and their causes")]))
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
