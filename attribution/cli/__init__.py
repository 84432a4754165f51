"""The ``attribution`` command line: thin argument parsing over the Python API.

Sub-commands: ``compare`` (one input, or a batch from a TOML file), ``kpis``, ``ropo`` and
``simulate``. The work is done by :mod:`attribution.report` (``build_report``) and the analysis
functions it calls; this module reads files, checks the arguments with messages that name the
flag to fix, prints short tables and writes the output folder. User mistakes end in one line on
stderr and exit code 2 (``--verbose`` adds the traceback); unexpected failures exit with 1.

Layout: one module per sub-command (:mod:`.compare`, :mod:`.kpis`, :mod:`.ropo`, :mod:`.calibrate`,
:mod:`.simulate`, :mod:`.customers`, :mod:`.importer`), each with its ``cmd_*`` function and an
``add_parser(sub, fmt)`` that declares its arguments; the shared pieces run one way below them:
:mod:`._args` (argument parsing, common flags, progress, errors) <- :mod:`._inputs` (reading tables
and journeys) <- :mod:`._config` (the input settings and the batch TOML). :mod:`._main` builds the
parser and holds :func:`main`, the ``attribution`` entry point. Every name of the former single
module is importable from here.
"""

from __future__ import annotations

from ._args import (  # noqa: F401
    COLUMN_FLAGS,
    DEFAULT_MODELS,
    UserError,
    _common,
    _input_options,
    _is_user_error,
    _LazyPandas,
    _one_line,
    _parse_bounds,
    _Progress,
    _progress_enabled,
    _split_list,
    _user_errors,
    argv_has,
    check_out,
    parse_lookback,
    parse_models,
    pd,
)
from ._config import (  # noqa: F401
    _INPUT_DEFAULTS,
    _INPUT_KEYS,
    _NAME_RE,
    _TOP_KEYS,
    _check_keys,
    _check_value,
    _config_error,
    _config_tests,
    _namespace_from_args,
    load_config,
)
from ._inputs import (  # noqa: F401
    _DATA_FLAGS,
    _PATH_COUNT_COLUMN,
    _add_data_options,
    _add_source_options,
    _data_flags_to_namespace,
    _event_options,
    _existing_files,
    _load_journeys_duckdb,
    _load_journeys_from_source,
    _path_table_columns,
    _read_source,
    _read_tests,
    _require,
    _source_options,
    _time_options,
    load_journeys,
    read_table,
)
from ._main import (  # noqa: F401
    EXAMPLES,
    _print_notes,
    _version,
    build_parser,
    main,
)
from .calibrate import (  # noqa: F401
    CALIBRATE_EXAMPLES,
    _calibrate_run,
    _calibration_files,
    cmd_calibrate,
)
from .compare import (  # noqa: F401
    COMPARE_EXAMPLES,
    _cmd_batch,
    _print_compare,
    _run_compare,
    _write_journey_credits,
    cmd_compare,
)
from .customers import (  # noqa: F401
    CUSTOMERS_EXAMPLES,
    cmd_customers,
)
from .importer import (  # noqa: F401
    IMPORT_EXAMPLES,
    cmd_import,
)
from .kpis import (  # noqa: F401
    KPIS_EXAMPLES,
    cmd_kpis,
)
from .ropo import (  # noqa: F401
    ROPO_EXAMPLES,
    cmd_ropo,
)
from .simulate import (  # noqa: F401
    SIMULATE_EXAMPLES,
    cmd_simulate,
)

__all__ = ["main", "build_parser"]
