"""The entry point: the parser of every sub-command, :func:`main`, and how a failure ends
(the message and exit code of a failure are decided in :mod:`._args`)."""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings

from . import calibrate, compare, customers, importer, kpis, ropo, simulate
from ._args import _common, _is_user_error, _one_line, argv_has

EXAMPLES = """\
examples:
  # the bundled sample: events, identities, costs and the simulator's truth -> results/report.html
  attribution compare data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv \\
      --customers data/samples/customers.csv --truth data/samples/truth.csv --out results

  # an aggregated path table (path;total_conversions;total_conversion_value;total_null)
  attribution compare data/samples/paths.csv --paths --models last_touch,linear,markov:order=2,shapley

  # several inputs x several model sets, one folder each and a combined summary.csv
  attribution compare --config runs.toml

  attribution kpis data/samples/touchpoints.csv --conversions data/samples/conversions.csv --out kpis
  attribution ropo data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --customers data/samples/customers.csv --out ropo
  attribution calibrate data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv --tests tests.csv --out calibration
  attribution simulate --out my-sample

Run 'attribution COMMAND --help' for every option of a command.
"""


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="attribution",
        description=(
            "Multi-touch marketing attribution: compare models on event logs or path tables, with ROI,\n"
            "budget plans, ROPO and journey KPIs, in one self-contained HTML report."
        ),
        epilog=EXAMPLES, formatter_class=fmt,
    )
    _common(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"attribution {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare.add_parser(sub, fmt)
    kpis.add_parser(sub, fmt)
    ropo.add_parser(sub, fmt)
    calibrate.add_parser(sub, fmt)
    simulate.add_parser(sub, fmt)
    customers.add_parser(sub, fmt)
    importer.add_parser(sub, fmt)
    return parser


def _version() -> str:
    try:
        from .. import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 usage or input error, 1 unexpected)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (argparse printed them)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    args.out_given = argv_has(argv, "--out")
    caught: list = []
    code = 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = args.func(args)
    except KeyboardInterrupt:
        print("attribution: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. '| head'): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - every failure ends in one line and an exit code
        _print_notes(caught, args)
        user = _is_user_error(exc)
        head, rows = _one_line(exc)
        if args.verbose:
            traceback.print_exc()
        if user:
            print(f"attribution {args.command}: error: {head}", file=sys.stderr)
            for row in rows:
                print(f"    {row}", file=sys.stderr)
        else:
            print(f"attribution {args.command}: unexpected error: {type(exc).__name__}: {head} -- this is a bug, please "
                  "report it" + ("" if args.verbose else " with the output of --verbose"), file=sys.stderr)
        return 2 if user else 1
    _print_notes(caught, args)
    return code


def _print_notes(caught, args) -> None:
    if args.quiet:
        return
    for message in dict.fromkeys(str(w.message) for w in caught or []):
        first = message.strip().splitlines()[0] if message.strip() else message
        print(f"note: {first}", file=sys.stderr)
