"""Calibration by experiments: the acceptance studies of issue 13, over many seeds.

    nice -n 5 python benchmarks/bench_calibration.py            # 200 seeds (about an hour on 2 shared cores)
    python benchmarks/bench_calibration.py --seeds 10 --next-seeds 3   # a smoke run

Prints the figures and writes benchmarks/results/calibration.md.

Studies
-------
1. Lift tests: a simulated world (100 000 people, 8 weeks); the model (Markov, attributed) is
   fitted on all of it; two of the six paid online channels (display, retargeting) get a user-holdout
   test (10 % held out, the last 4 weeks); ``calibrate`` corrects the credit. Errors are absolute
   differences to the exact Shapley truth of each channel's incremental conversions, summed over the
   tested (untested) channels of the six and averaged over seeds; coverage is the share of
   (seed, channel) pairs whose 90 % interval holds the truth.
   Both calibrations are measured: the default (a tested channel rests on its own tests) and
   ``pool_tested=True`` (partially pooled toward the mean factor), with each test's z-score against
   its own exact effect (is its se right?). ``--regimes`` picks the simulator worlds (episodes,
   randomised; holdout_test needs purchase cycles, so not always_in_market).
2. Geo tests: 50 geos x 120 days, +5 % in 10 random geos for the last 28 days (TBR and synthetic
   control, online conversions and store sales): bias, coverage, power; and the same with no lift
   (``--null-seeds`` panels) for the false-positive rate.
3. Power: holdout_power against an independent pooled-variance closed form and 10 000 simulated tests.
4. Which test next: the top-ranked channel is tested, and its interval shrinks as predicted.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import attribution as at  # noqa: E402
from attribution.datasets import holdout_test, simulate  # noqa: E402

SIX = ["paid_search_brand", "paid_search_generic", "display", "social", "video", "retargeting"]
TESTED = ["display", "retargeting"]


def _md(df: pd.DataFrame) -> str:
    """A DataFrame as a markdown table (no tabulate dependency)."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule] + body)


def lift_world(seed: int, n_customers: int = 100_000, days: int = 56, model: str = "markov", tested=TESTED, se_scale=1.0,
               regime: str = "episodes"):
    """One seed of study 1: per channel of SIX, truth, uncalibrated and calibrated estimates and intervals.

    Both calibrations are returned: the default (tested channels rest on their own tests) and
    ``pool_tested=True`` (tested channels partially pooled toward the mean factor).
    """
    sim = simulate(n_customers, days=days, regime=regime, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
        m = at.get_model(model).fit(j)
    truth = sim.truth()["conversions"]
    tests = [holdout_test(sim, c, holdout=0.1, weeks=4, random_state=seed + 10_000 * (i + 1)) for i, c in enumerate(tested)]
    if se_scale != 1.0:
        tests = [dataclasses.replace(t, se=t.se * se_scale) for t in tests]
    cal = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0)
    pooled = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0, pool_tested=True)
    cr, cp = cal.credits, pooled.credits
    z = pd.Series(np.nan, index=SIX)  # each test against its own exact effect (its se checked)
    for t in tests:
        z[t.channel] = (t.incremental - t.meta["true_incremental"]) / t.se
    return pd.DataFrame({
        "truth": truth.reindex(SIX),
        "before": cal.uncalibrated["conversions"].reindex(SIX),
        "after": cr["conversions"].reindex(SIX),
        "low": cr["conversions_low"].reindex(SIX),
        "high": cr["conversions_high"].reindex(SIX),
        "after_pooled": cp["conversions"].reindex(SIX),
        "low_pooled": cp["conversions_low"].reindex(SIX),
        "high_pooled": cp["conversions_high"].reindex(SIX),
        "test_z": z,
        "tested": [c in tested for c in SIX],
    }), cal, m


def study_lift(seeds, n_customers=100_000, regime="episodes", partial=None):
    """Study 1 over ``seeds``; ``partial`` (a CSV path) gets every seed's rows as soon as it is done."""
    rows = []
    t0 = time.time()
    for s in seeds:
        df, _, _ = lift_world(s, n_customers, regime=regime)
        df["seed"] = s
        rows.append(df.reset_index(names="channel"))
        if partial is not None:
            rows[-1].to_csv(partial, mode="a", header=len(rows) == 1, index=False)
    d = pd.concat(rows, ignore_index=True)
    return (*summarise_lift(d), time.time() - t0)


def summarise_lift(d: pd.DataFrame):
    """Errors, coverage (both calibrations) and the tests' z-scores from the per-seed rows of study 1."""
    d = d.copy()
    d["tested"] = d["tested"].astype(bool)
    d["err_before"] = (d["before"] - d["truth"]).abs()
    out = {}
    for mode, suffix in (("own tests (default)", ""), ("pool_tested=True", "_pooled")):
        d["err_after"] = (d["after" + suffix] - d["truth"]).abs()
        d["covered"] = (d["low" + suffix] <= d["truth"]) & (d["truth"] <= d["high" + suffix])
        for name, sel in (("tested", d["tested"]), ("untested", ~d["tested"])):
            g = d[sel].groupby("seed")[["err_before", "err_after"]].sum()
            cov = d.loc[sel].groupby("channel")["covered"].mean()
            out[(mode, name)] = {"error_before": g["err_before"].mean(), "error_after": g["err_after"].mean(),
                                 "change": g["err_after"].mean() / g["err_before"].mean() - 1,
                                 "coverage": d.loc[sel, "covered"].mean(),
                                 "per_channel": ", ".join(f"{c} {v:.1%}" for c, v in cov.reindex([c for c in SIX if c in cov.index]).items())}
        d[f"covered{suffix or '_default'}"] = d["covered"]
    z = d.loc[d["tested"], ["channel", "test_z"]]
    zs = z.groupby("channel")["test_z"].agg(["mean", "std"]).reindex(TESTED)
    zs["within_1.645"] = z.groupby("channel")["test_z"].apply(lambda v: np.mean(np.abs(v) <= stats.norm.ppf(0.95))).reindex(TESTED)
    d["err_after"] = (d["after"] - d["truth"]).abs()
    per_channel = d.groupby("channel")[["truth", "before", "after", "after_pooled", "err_before", "err_after",
                                        "covered_default", "covered_pooled"]].mean().reindex(SIX)
    return out, per_channel, zs


def study_se_limit(seed=0):
    df, cal, m = lift_world(seed)
    tests = [dataclasses.replace(holdout_test(simulate(100_000, days=56, random_state=seed), c, random_state=1), se=1e12) for c in TESTED]
    sim = simulate(100_000, days=56, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
    inf = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0)
    a = inf.incremental_credits["conversions"]
    b = m.credits_["conversions"].reindex(a.index)
    return float((a - b).abs().max())


def study_geo(seeds, method, outcome, n_placebo=100, null_seeds=None):
    """Bias, 90 % coverage and power (p <= 0.10) under +5 %; false-positive rate under no lift (``null_seeds``)."""
    est, cov, within, fp, power, width = [], [], [], [], [], []
    for s in seeds:
        p = at.datasets.simulate_geo(random_state=s)
        r = at.geo_test(p.data, p.treated, p.start, p.end, outcome=outcome, method=method, n_placebo=n_placebo, random_state=s)
        tl = p.true_lift(outcome)
        est.append(r.lift - tl)
        cov.append(r.lift_low <= tl <= r.lift_high)
        within.append(abs(r.lift - tl) <= 0.01)
        power.append(r.p_value <= 0.10)
        width.append(r.lift_high - r.lift_low)
    for s in (seeds if null_seeds is None else null_seeds):
        p0 = at.datasets.simulate_geo(random_state=100_000 + s, lift=0.0)
        r0 = at.geo_test(p0.data, p0.treated, p0.start, p0.end, outcome=outcome, method=method, n_placebo=n_placebo, random_state=s)
        fp.append(r0.p_value <= 0.10)
    e = np.array(est)
    fpr = float(np.mean(fp))
    se_fp = math.sqrt(fpr * (1 - fpr) / len(fp))
    return {"bias_pp": 100 * e.mean(), "sd_pp": 100 * e.std(ddof=1), "within_1pp": np.mean(within),
            "coverage": np.mean(cov), "width_pp": 100 * np.mean(width), "null_panels": len(fp), "false_positive": fpr,
            "fp_95ci": f"{max(fpr - 1.96 * se_fp, 0):.3f}–{fpr + 1.96 * se_fp:.3f}", "power_5pct": np.mean(power)}


def study_geo_power(seeds, method, outcome, lift, n_placebo=100):
    """Power (p <= 0.10) and 90 % coverage of the geo test against a smaller lift than the issue's +5 %."""
    power, cov = [], []
    for s in seeds:
        p = at.datasets.simulate_geo(random_state=s, lift=lift)
        r = at.geo_test(p.data, p.treated, p.start, p.end, outcome=outcome, method=method, n_placebo=n_placebo, random_state=s)
        power.append(r.p_value <= 0.10)
        cov.append(r.lift_low <= p.true_lift(outcome) <= r.lift_high)
    return {"method": method, "outcome": outcome, "lift": lift, "seeds": len(power), "power": np.mean(power), "coverage": np.mean(cov)}


def pooled_power(p0, lift, n, h, alpha):
    """The textbook closed form, written independently of the library's: the usual one-tailed
    approximation with the pooled variance under H0 and the unpooled one under H1 (Fleiss, Levin &
    Paik 2003, eq. 4.14); the library also adds the (tiny) opposite tail."""
    p1 = p0 * (1 + lift)
    n1, n0 = (1 - h) * n, h * n
    pooled = (n1 * p1 + n0 * p0) / n
    se_h0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    se_h1 = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return stats.norm.cdf((abs(p1 - p0) - stats.norm.ppf(1 - alpha / 2) * se_h0) / se_h1)


def simulated_power(p0, lift, n, h, alpha, draws=10_000, seed=0):
    rng = np.random.default_rng(seed)
    n1, n0 = int(round((1 - h) * n)), int(round(h * n))
    p1 = p0 * (1 + lift)
    k1 = rng.binomial(n1, p1, draws)
    k0 = rng.binomial(n0, p0, draws)
    pbar = (k1 + k0) / (n1 + n0)
    se = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))  # the pooled z-test that holdout_power describes
    return float(np.mean(np.abs(k1 / n1 - k0 / n0) / se > stats.norm.ppf(1 - alpha / 2)))


def exact_power(p0, lift, n, h, alpha):
    """Power of the pooled z-test by enumerating both binomial distributions (±7 sd)."""
    n1, n0 = int(round((1 - h) * n)), int(round(h * n))
    p1 = p0 * (1 + lift)
    z = stats.norm.ppf(1 - alpha / 2)

    def support(m, p):
        sd = math.sqrt(m * p * (1 - p))
        return np.arange(max(0, int(m * p - 7 * sd)), min(m, int(m * p + 7 * sd)) + 1)

    k1, k0 = support(n1, p1)[:, None], support(n0, p0)[None, :]
    pbar = (k1 + k0) / (n1 + n0)
    se = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
    reject = np.abs(k1 / n1 - k0 / n0) > z * se
    pmf = stats.binom.pmf(k1, n1, p1) * stats.binom.pmf(k0, n0, p0)
    return float(np.sum(pmf * reject))


def study_power():
    rows = []
    for p0, lift, n in ((0.05, 0.10, 100_000), (0.05, 0.20, 50_000), (0.02, 0.15, 200_000), (0.10, 0.05, 300_000), (0.20, 0.03, 500_000)):
        ours = at.holdout_power(p0, lift, n, holdout=0.1, alpha=0.1)
        rows.append({"rate": p0, "lift": lift, "n": n, "power": ours, "closed_form_pooled": pooled_power(p0, lift, n, 0.1, 0.1),
                     "simulated_10000": simulated_power(p0, lift, n, 0.1, 0.1), "mde_80": at.holdout_mde(p0, n, holdout=0.1, alpha=0.1)})
    return pd.DataFrame(rows)


def study_next_test(seeds, n_customers=100_000):
    """Test display and retargeting; rank the rest; test the top one; compare its interval to the prediction.

    The new test's se is predicted two ways: from the se of the display test already run (same people,
    holdout and weeks: the se of a holdout difference depends on the outcome's variance, not on the
    channel), and from ``holdout_se`` (binomial, one conversion per person at most).
    """
    rows = []
    for s in seeds:
        sim = simulate(n_customers, days=56, random_state=s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            j = sim.journeys()
            m = at.get_model("markov").fit(j)
        tests = [holdout_test(sim, c, random_state=s + 1 + i) for i, c in enumerate(TESTED)]
        cal = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0)
        # predicted se of a new holdout test of each channel, scaled to the period
        spend = sim.costs.groupby("channel")["cost"].sum()
        window = pd.to_datetime(sim.costs["date"]) >= pd.Timestamp(sim.params["start"]) + pd.Timedelta(days=28)
        wspend = sim.costs[window].groupby("channel")["cost"].sum()
        rate = tests[0].meta["rate_exposed"]
        se = {c: tests[0].se * spend[c] / wspend[c] for c in spend.index}
        se_binomial = {c: at.holdout_se(rate, n_customers, holdout=0.1) * spend[c] / wspend[c] for c in spend.index}
        rank = cal.next_tests(expected_se=se)
        top = rank.index[0]
        cal2 = at.calibrate(m, tests + [holdout_test(sim, top, random_state=s + 99)], journeys=j, costs=sim.costs, n_boot=0)
        actual = cal2.factors.loc[top, "factor_sd"] / cal.factors.loc[top, "factor_sd"]
        rows.append({"seed": s, "top": top, "top_spend_share_rank": int(rank["spend_share"].rank(ascending=False)[top]),
                     "top_factor_sd_rank": int(rank["factor_sd"].rank(ascending=False, method="min")[top]),
                     "predicted_shrinkage": rank.loc[top, "predicted_shrinkage"], "actual_shrinkage": actual,
                     "predicted_binomial": cal.next_tests(expected_se=se_binomial).loc[top, "predicted_shrinkage"]})
    return pd.DataFrame(rows)


def lift_section(regime, n_seeds, secs, out, per_channel, zs):
    """The markdown lines of study 1 for one regime."""
    new = [f"## Lift tests ({regime} world): 2 of 6 channels tested (10 % holdout, last 4 of 8 weeks), Markov (attributed) calibrated",
           "", f"{n_seeds} seeds, 100 000 people each ({secs:.0f} s). Six paid online channels: {', '.join(SIX)}; "
           f"tested: {', '.join(TESTED)}. Error = sum over channels of |estimate − exact Shapley truth|, mean over seeds; "
           "coverage of the 90 % interval over (seed, channel) pairs.", "",
           "| calibration | channels | error uncalibrated | error calibrated | change | 90 % coverage | per channel |",
           "|---|---|---|---|---|---|---|"]
    for (mode, name), v in out.items():
        new.append(f"| {mode} | {name} | {v['error_before']:,.0f} | {v['error_after']:,.0f} | {v['change']:+.1%} | "
                   f"{v['coverage']:.1%} | {v['per_channel']} |")
    new += ["", "Each test against its own exact effect, z = (estimate − true effect) / se (sd 1 and 90 % within "
            "±1.645 if the se is right):", "", _md(zs.round(3).reset_index()), "",
            "Per channel (means over seeds):", "", _md(per_channel.round(3).reset_index()), ""]
    return new


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--placebos", type=int, default=100, help="random assignments per geo test (default 100)")
    ap.add_argument("--null-seeds", type=int, default=None, help="no-lift panels for the false-positive rate (default --seeds)")
    ap.add_argument("--next-seeds", type=int, default=20, help="seeds of the test-next study (default 20)")
    ap.add_argument("--lift-seeds", type=int, default=None, help="seeds of the lift-test study (default --seeds)")
    ap.add_argument("--regimes", default="episodes,randomised",
                    help="simulator regimes of the lift study (holdout_test needs purchase cycles: episodes, randomised)")
    ap.add_argument("--only", default="power,geo,lift,next", help="studies to run (comma-separated)")
    ap.add_argument("--power-lifts", default="0.01,0.02", help="smaller lifts for the geo power study (--only geopower)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "calibration.md"))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    seeds = range(args.seeds)
    out_md = Path(args.out)
    out_md.parent.mkdir(exist_ok=True)
    lines = ["# Calibration by experiments (issue 13)", "",
             f"`nice -n 5 python benchmarks/bench_calibration.py --seeds {args.seeds} --placebos {args.placebos} "
             f"--null-seeds {args.null_seeds or args.seeds} "
             f"--next-seeds {args.next_seeds} --lift-seeds {args.lift_seeds or args.seeds} --regimes {args.regimes} "
             f"--only {args.only}`; 2 cores shared with other sessions.", ""]

    def emit(new):
        lines.extend(new)
        print("\n".join(new), flush=True)
        out_md.write_text("\n".join(lines) + "\n")

    if "power" in only:
        p = study_power()
        p["exact_enumeration"] = [exact_power(r.rate, r.lift, int(r.n), 0.1, 0.1) for r in p.itertuples()]
        p["diff_closed_pp"] = 100 * (p["power"] - p["closed_form_pooled"])
        p["diff_sim_pp"] = 100 * (p["power"] - p["simulated_10000"])
        p["diff_exact_pp"] = 100 * (p["power"] - p["exact_enumeration"])
        emit(["## Holdout power (α = 0.10, 10 % holdout, pooled two-proportion z-test)", "",
              "closed form = Fleiss pooled-variance formula written independently; exact = both binomials enumerated "
              "(±7 sd); simulated = 10 000 simulated tests.", "",
              _md(p.round(4)), ""])

    if "geo" in only:
        geo_rows = []
        for method in ("tbr", "scm"):
            for outcome in ("online_conversions", "store_sales"):
                t0 = time.time()
                r = study_geo(seeds, method, outcome, n_placebo=args.placebos, null_seeds=range(args.null_seeds or args.seeds))
                r.update(method=method, outcome=outcome, seconds=round(time.time() - t0))
                geo_rows.append(r)
                print(r, flush=True)
        g = pd.DataFrame(geo_rows)[["method", "outcome", "bias_pp", "sd_pp", "within_1pp", "coverage", "width_pp",
                                    "null_panels", "false_positive", "fp_95ci", "power_5pct", "seconds"]]
        emit(["## Geo tests: 50 geos × 120 days, +5 % in 10 geos for 28 days", "",
              f"{len(seeds)} seeds per row; {args.placebos} random assignments per test (randomisation inference over all "
              "geos, studentised lift, interval by test inversion). bias and sd of (estimated − true lift) in percentage "
              "points; coverage of the 90 % interval; false_positive: the same design with no lift (null_panels of them), "
              "p ≤ 0.10 (the exact size of the sampled randomisation test is 10/101 = 0.099 with 100 assignments); "
              "fp_95ci its binomial 95 % interval; power_5pct: p ≤ 0.10 under the +5 % lift.", "",
              _md(g.round(3)), ""])

    if "geopower" in only:
        rows = []
        for lift in [float(x) for x in args.power_lifts.split(",")]:
            for method in ("tbr", "scm"):
                for outcome in ("online_conversions", "store_sales"):
                    rows.append(study_geo_power(seeds, method, outcome, lift, n_placebo=args.placebos))
                    print(rows[-1], flush=True)
        emit(["## Geo tests: power against smaller lifts", "",
              f"{len(seeds)} seeds per row, same design (50 geos × 120 days, 10 treated for 28 days); power = share of "
              "seeds with p ≤ 0.10; coverage of the 90 % interval.", "", _md(pd.DataFrame(rows).round(3)), ""])

    if "lift" in only:
        lift_seeds = range(args.lift_seeds or args.seeds)
        for regime in args.regimes.split(","):
            partial = out_md.with_suffix(f".{regime}.csv")
            partial.unlink(missing_ok=True)
            out, per_channel, zs, secs = study_lift(lift_seeds, regime=regime, partial=partial)
            emit(lift_section(regime, len(lift_seeds), secs, out, per_channel, zs))
        emit([f"se → ∞ (se = 1e12): max |calibrated − uncalibrated| credit = {study_se_limit():.2e}", ""])

    if "next" in only:
        nt = study_next_test(range(args.next_seeds))
        ratio = nt["actual_shrinkage"] / nt["predicted_shrinkage"]
        rb = nt["actual_shrinkage"] / nt["predicted_binomial"]
        emit(["## Which channel to test next", "",
              f"{len(nt)} seeds: display and retargeting tested; the top-ranked channel is then tested (10 % holdout, 4 weeks).", "",
              f"- top channel: {nt['top'].value_counts().to_dict()}",
              f"- the top channel has the largest spend share in {np.mean(nt['top_spend_share_rank'] == 1):.0%} of seeds and "
              f"the widest factor interval in {np.mean(nt['top_factor_sd_rank'] == 1):.0%}",
              f"- actual ÷ predicted shrinkage of its factor sd: median {ratio.median():.3f}, range "
              f"{ratio.min():.3f}–{ratio.max():.3f}, within ±20 % in {np.mean((ratio - 1).abs() <= 0.2):.0%} of seeds "
              "(new test's se predicted from the display test's se)",
              f"- with the binomial holdout_se as the prediction instead (ignores repeat purchases): median "
              f"{rb.median():.3f}, within ±20 % in {np.mean((rb - 1).abs() <= 0.2):.0%} of seeds", ""])


if __name__ == "__main__":
    main()
