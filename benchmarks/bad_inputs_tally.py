"""Tally the bad-input catalogue: silent wrong results, raw tracebacks, unclear and clear answers.

Runs every case of ``tests/test_bad_inputs.py`` (each engine it applies to) against the
``attribution`` package first on ``sys.path`` and prints one line per category, plus the
cases in each non-clear category. Used for issue 14's before/after figures::

    PYTHONPATH=$PWD python benchmarks/bad_inputs_tally.py                  # this tree
    git archive 88b93e6 attribution | tar -x -C /tmp/base                  # the code before
    PYTHONPATH=/tmp/base python benchmarks/bad_inputs_tally.py --tests tests

Categories: ``clear`` (the library's own exception with a message naming the column or
parameter and the fix, or the exactly correct result); ``silent wrong`` (a wrong result, or no
error / warning where one was due); ``unclear error`` (the library's exception with a message
lacking the column or the fix); ``raw traceback`` (any other exception, or the CLI calling a
user mistake a bug); ``new API`` (the case uses a parameter or function the code lacks).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings


def classify(fn, engine, mod) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(engine)
    except mod.UnclearError as e:
        return "unclear error", str(e)
    except mod.Defect as e:
        return "raw traceback", str(e)
    except AssertionError as e:  # SilentWrong and failed result checks
        return "silent wrong", str(e)
    except (TypeError, AttributeError, ImportError) as e:
        text = str(e)
        new_kw = any(f"'{k}'" in text for k in ("time_unit", "time_format", "dayfirst"))
        if (("unexpected keyword" in text and new_kw) or "has no attribute" in text or "cannot import" in text):
            return "new API", f"{type(e).__name__}: {text}"
        return "raw traceback", f"{type(e).__name__}: {text}"
    except SystemExit as e:  # argparse refused a flag the code lacks
        return "new API", f"SystemExit {e.code}"
    except Exception as e:  # noqa: BLE001
        if type(e).__name__ == "Skipped":
            return "skipped", str(e)
        return "raw traceback", f"{type(e).__name__}: {e}"
    return "clear", ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", default=os.path.join(os.path.dirname(__file__), "..", "tests"))
    ap.add_argument("--verbose", "-v", action="store_true", help="print the reason of every non-clear case")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.tests))
    import attribution
    import test_bad_inputs as mod

    counts: collections.Counter = collections.Counter()
    detail = collections.defaultdict(list)
    for name, group, engines, fn in mod.CASES:
        for engine in engines:
            if engine == "duckdb" and not mod.HAS_DUCKDB:
                continue
            cat, why = classify(fn, engine, mod)
            counts[cat] += 1
            detail[cat].append(f"{group}/{name}[{engine}]" + (f": {why[:160]}" if args.verbose and why else ""))
    print(f"attribution from {os.path.dirname(attribution.__file__)}")
    print(f"{len(mod.CASES)} cases, {sum(counts.values())} runs (cases x engines)")
    for cat in ("clear", "silent wrong", "raw traceback", "unclear error", "new API", "skipped"):
        print(f"  {cat:14s} {counts.get(cat, 0):4d}")
    for cat in ("silent wrong", "raw traceback", "unclear error", "new API"):
        if detail[cat]:
            print(f"\n{cat}:")
            for line in detail[cat]:
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
