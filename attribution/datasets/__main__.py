"""Write a simulated data set as CSV files.

Regenerate the bundled sample (``data/samples/``) with::

    python -m attribution.datasets --out data/samples

The defaults are :data:`attribution.datasets.SAMPLE_PARAMS`; the output is byte-for-byte
reproducible.
"""

from __future__ import annotations

import argparse
import sys

from ._simulate import SAMPLE_PARAMS, simulate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, simulate, write the CSV files and list them on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m attribution.datasets",
        description="Simulate an omnichannel event log with known true channel effects and write it as CSV "
        "(touchpoints, conversions, identities, costs, truth, paths).",
    )
    parser.add_argument("--out", required=True, help="output directory (created if missing), e.g. data/samples")
    parser.add_argument("--n-customers", type=int, default=SAMPLE_PARAMS["n_customers"], help="number of simulated people (default: %(default)s)")
    parser.add_argument("--start", default=SAMPLE_PARAMS["start"], help="first day of the window, UTC (default: %(default)s)")
    parser.add_argument("--days", type=int, default=SAMPLE_PARAMS["days"], help="length of the window in days (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SAMPLE_PARAMS["random_state"], help="random seed (default: %(default)s)")
    parser.add_argument("--no-paths", action="store_true", help="do not write paths.csv")
    args = parser.parse_args(argv)
    try:
        data = simulate(args.n_customers, start=args.start, days=args.days, random_state=args.seed)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    for path in data.to_csv(args.out, paths=not args.no_paths):
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
