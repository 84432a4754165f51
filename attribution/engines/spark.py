"""The Spark engine: journeys from event logs on a cluster, as Spark SQL over DataFrames, tables or files.

The journey rules of :meth:`attribution.Journeys.from_events` run in Spark as the same SQL text
the DuckDB engine runs (generated once by :mod:`attribution.engines._sql`, in its Spark
dialect), through ``spark.sql`` on temporary views. The cluster does the heavy part — the
sorts and window passes over every event — and keeps the aggregated path table (one row per
unique path × conversion place) on the executors; the driver receives only that table and the
aggregates models need, computed from it in Spark SQL
(:class:`~attribution.engines._common.PathAggregates`): transition counts of any order,
channel-set (bitmask) counts for Shapley, rule-based credits from per-touch weights.

Install with ``pip install "attribution[spark]"``. Spark needs a Java runtime: Java 17 or
later for Spark 4 (e.g. ``apt-get install default-jre-headless``).

The engine runs on *your* SparkSession (the one of the DataFrames you pass, ``spark=``, or
the active one) and never creates or stops one; :func:`local_session` makes a small local
session for trying it on one machine.

Examples
--------
>>> import pandas as pd
>>> from attribution.engines import spark as sp
>>> session = sp.local_session()                               # doctest: +SKIP
>>> touches = session.createDataFrame(pd.DataFrame({           # doctest: +SKIP
...     "customer_id": ["u1", "u1", "u2"], "channel": ["email", "search", "email"],
...     "timestamp": ["2026-03-01", "2026-03-05", "2026-03-02"]}))
>>> buys = session.createDataFrame(pd.DataFrame(               # doctest: +SKIP
...     {"customer_id": ["u1"], "timestamp": ["2026-03-06"], "value": [30.0]}))
>>> sp.from_spark(touches, buys).to_paths()                    # doctest: +SKIP
             path  total_conversions  total_conversion_value  total_null
0           email                0.0                     0.0         1.0
1  email > search                1.0                    30.0         0.0
>>> with sp.aggregate_spark(touches, buys) as agg:             # doctest: +SKIP
...     agg.rule_credits("linear")["conversions"].to_dict()
{'email': 0.5, 'search': 0.5}
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import uuid

import numpy as np
import pandas as pd

from . import _sql
from ._common import PathAggregates, Source, build_paths

__all__ = ["PathAggregates", "aggregate_spark", "from_spark", "local_session"]

_PARQUET = (".parquet", ".pq", ".parq")
_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")

#: Session settings the engine sets while the journey query is built, and restores afterwards.
_BUILD_CONF = {"spark.sql.session.timeZone": "UTC"}

_JAVA_HELP = (
    "Spark needs a Java runtime: Java 17 or later for Spark 4 (Spark 3.5 also runs on 8 or 11). "
    "Install one, e.g. `apt-get install default-jre-headless` (Debian/Ubuntu), "
    "`brew install openjdk@17` (macOS) or `conda install -c conda-forge openjdk=17`, and put its "
    "`java` on PATH or set JAVA_HOME."
)


def import_pyspark():
    """The ``pyspark`` module, or an ImportError naming the extra to install."""
    try:
        import pyspark
        import pyspark.sql
    except ImportError as err:
        raise ImportError(
            "The Spark engine needs the optional dependency 'pyspark'. Install it with "
            'pip install "attribution[spark]" (or pip install pyspark); Spark also needs Java 17 or later.'
        ) from err
    return pyspark


def _java() -> tuple[str | None, str]:
    """The ``java`` executable Spark would start (JAVA_HOME first, then PATH) and its version
    line; ``(None, why)`` when there is none."""
    home = os.environ.get("JAVA_HOME")
    exe = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not exe or not os.path.exists(exe):
        return None, (f"JAVA_HOME={home} has no bin/java" if home else "no JAVA_HOME, no `java` on PATH")
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30, check=False)
        lines = (out.stderr or out.stdout).strip().splitlines()
        return exe, lines[0] if lines else ""
    except (OSError, subprocess.SubprocessError):
        return exe, ""


def local_session(cores: int = 2, memory: str = "1g", shuffle_partitions: int = 4, log_level: str = "ERROR", **config):
    """A local SparkSession (``local[cores]``) set up for this engine, for one machine.

    For tests, examples and data that fit one machine; on a cluster, use the session you
    have. The session reads naive times as UTC, has no web UI, no progress bars and few
    shuffle partitions (Spark's default of 200 is meant for clusters). If a session is already
    active, Spark returns it (with ``config`` applied where Spark allows). Stop it with
    ``session.stop()`` when done.

    Parameters
    ----------
    cores : int, default 2
        Worker threads (``local[cores]``).
    memory : str, default "1g"
        Driver memory (``spark.driver.memory``); in local mode the driver does all the work.
    shuffle_partitions : int, default 4
        ``spark.sql.shuffle.partitions``.
    log_level : str, default "ERROR"
        Spark's log level.
    **config
        Further Spark settings, e.g. ``**{"spark.local.dir": "/scratch"}``.

    Raises
    ------
    ImportError
        Without pyspark (``pip install "attribution[spark]"``).
    RuntimeError
        Without a Java runtime, or when Spark cannot start on the one found: the message says
        which Java was found and how to install Java 17.
    """
    import_pyspark()
    from pyspark.sql import SparkSession

    exe, version = _java()
    if exe is None:
        raise RuntimeError(f"No Java runtime found ({version}). {_JAVA_HELP}")
    builder = (
        SparkSession.builder.master(f"local[{int(cores)}]").appName("attribution")
        .config("spark.driver.memory", str(memory))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in config.items():
        builder = builder.config(key, str(value))
    try:
        session = builder.getOrCreate()
    except Exception as err:  # the JVM did not start: say why in Java terms
        raise RuntimeError(
            f"Spark could not start with the Java runtime {exe} ({version or 'version unknown'}): "
            f"{str(err).strip().rstrip('.')}. {_JAVA_HELP} A trimmed runtime (a jlink image) may lack "
            "modules Spark needs, such as jdk.incubator.vector: use a full JRE or JDK."
        ) from err
    session.sparkContext.setLogLevel(log_level)
    return session


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


_ARROW = "spark.sql.execution.arrow.pyspark.enabled"


def _to_pandas(df) -> pd.DataFrame:
    """A Spark DataFrame's rows as pandas (through Arrow)."""
    if hasattr(df, "toArrow"):  # Spark >= 4.0
        return df.toArrow().to_pandas()
    spark = df.sparkSession
    old = spark.conf.get(_ARROW)
    spark.conf.set(_ARROW, "true")  # Spark 3.5: Arrow only when enabled (falls back by itself)
    try:
        return df.toPandas()
    finally:
        spark.conf.set(_ARROW, old)


def _to_arrow(df):
    """A Spark DataFrame's rows as a ``pyarrow.Table``."""
    import pyarrow as pa

    if hasattr(df, "toArrow"):  # Spark >= 4.0
        return df.toArrow()
    return pa.Table.from_pandas(_to_pandas(df), preserve_index=False)


def _arrow_safe(frame: pd.DataFrame):
    """``frame`` as a ``pyarrow.Table`` Spark can take: object columns Arrow cannot type become
    strings (as their text, missing values kept), all-missing columns become string columns."""
    import pyarrow as pa

    arrays, names = [], []
    for name in frame.columns:
        col = frame[name]
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arr = pa.array([None if pd.isna(v) else str(v) for v in col.tolist()], type=pa.string())
        if pa.types.is_dictionary(arr.type):  # pandas categoricals: Spark takes plain values
            arr = arr.dictionary_decode()
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        elif pa.types.is_timestamp(arr.type) and arr.type.unit == "ns":
            # Spark keeps microseconds: drop the nanoseconds here (they would be cut anyway)
            arr = arr.cast(pa.timestamp("us", tz=arr.type.tz), safe=False)
        arrays.append(arr)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _create_frame(spark, frame: pd.DataFrame):
    """A Spark DataFrame from a pandas one, typed from its Arrow schema (no inference from rows)."""
    import pyspark

    table = _arrow_safe(frame)
    if int(pyspark.__version__.split(".")[0]) >= 4:  # takes Arrow tables
        return spark.createDataFrame(table)
    from pyspark.sql.pandas.types import from_arrow_schema

    old = spark.conf.get(_ARROW)
    spark.conf.set(_ARROW, "true")  # Spark 3.5: through Arrow (naive times in the session time zone)
    try:
        return spark.createDataFrame(table.to_pandas(), schema=from_arrow_schema(table.schema))
    finally:
        spark.conf.set(_ARROW, old)


def _release(frame) -> None:
    """Free a local checkpoint's blocks now (Spark frees them anyway once the DataFrame is
    garbage collected, which may take a while)."""
    try:
        frame._jdf.queryExecution().analyzed().rdd().unpersist(False)
    except Exception:  # noqa: BLE001 - Spark Connect, or internals changed: leave it to the GC
        pass


class _SparkBackend:
    """The driver's backend on one SparkSession: temporary views, and tables as local checkpoints.

    A table (the path table, its touches) is computed once, when it is made, and kept on the
    executors as a *local checkpoint* (memory, spilling to disk). Unlike ``cache()``, that
    truncates its lineage: later queries see a leaf instead of the whole journey query, which
    keeps their planning fast (Spark re-analyses and matches a cached plan in every query,
    seconds per query for the journey query's plan). The price: a lost executor loses the
    blocks, and queries on the table then fail (build the aggregates again).
    """

    dialect = "spark"

    def __init__(self, spark):
        self.spark = spark
        self._tables: dict = {}

    def fetch(self, sql: str) -> pd.DataFrame:
        return _to_pandas(self.spark.sql(sql))

    def fetch_arrow(self, sql: str):
        return _to_arrow(self.spark.sql(sql))

    def register(self, name: str, df: pd.DataFrame) -> None:
        _create_frame(self.spark, df).createOrReplaceTempView(name)

    def create_view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def create_table(self, name: str, sql: str) -> None:
        frame = self.spark.sql(sql).localCheckpoint(eager=True)
        self._tables[name] = frame
        frame.createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        frame = self._tables.pop(name, None)
        self.spark.catalog.dropTempView(name)
        if frame is not None:
            _release(frame)


# ---------------------------------------------------------------------------------------------
# Inputs: DataFrames, tables and files to views with an input row number
# ---------------------------------------------------------------------------------------------


def _is_spark_frame(obj) -> bool:
    try:
        from pyspark.sql import DataFrame
    except ImportError:  # pragma: no cover - checked by import_pyspark first
        return False
    return isinstance(obj, DataFrame)


def _paths(obj) -> list[str] | None:
    """The path list of a path-like input, None for a table name or another object."""
    if isinstance(obj, os.PathLike):
        return [os.fspath(obj)]
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(p, (str, os.PathLike)) for p in obj):
        return [os.fspath(p) for p in obj]
    if isinstance(obj, str):
        low = obj.lower()
        if "://" in obj or low.endswith(_PARQUET + _CSV) or any(ch in obj for ch in "*?[/\\") or os.path.exists(obj):
            return [obj]
    return None


def _expand(paths: list[str], what: str) -> list[str]:
    """Local paths, globs and folders expanded to files in name order (checked to exist);
    remote paths as given. A folder stands for its CSV / Parquet files (not sub-folders; names
    starting with ``_`` or ``.``, such as Spark's ``_SUCCESS``, are skipped)."""
    files = []
    for p in paths:
        if "://" in p:
            files.append(p)
            continue
        found = sorted(glob.glob(p))
        if not found:
            raise FileNotFoundError(f"No file matches {p!r} ({what}).")
        for f in found:
            if not os.path.isdir(f):
                files.append(os.path.abspath(f))
                continue
            inner = sorted(
                x for x in glob.glob(os.path.join(f, "*"))
                if os.path.isfile(x) and not os.path.basename(x).startswith(("_", ".")) and x.lower().endswith(_PARQUET + _CSV)
            )
            if not inner:
                raise FileNotFoundError(
                    f"No CSV or Parquet file in the folder {f!r} ({what}). For other layouts (e.g. partitioned "
                    "folders) read the data into a Spark DataFrame and pass that."
                )
            files += [os.path.abspath(x) for x in inner]
    return files


def _read_files(spark, paths: list[str], what: str):
    """CSV or Parquet files as one DataFrame, rows in the order of the files given.

    Several files are read one by one (with the schema read or inferred from all of them)
    and concatenated, so that Spark's input order — which breaks ties between events at the
    same time — follows the files in the order given; Spark alone would order them by size.
    """
    files = _expand(paths, what)
    low = files[0].lower()
    if low.endswith(_PARQUET):
        reader = spark.read.format("parquet")
    elif low.endswith(_CSV):
        sep = "\t" if low.endswith((".tsv", ".tsv.gz")) else ","
        reader = spark.read.format("csv").options(header="true", inferSchema="true", sep=sep)
    else:
        raise ValueError(
            f"Cannot tell the file format of {files[0]!r} ({what}): expected a name ending in "
            f"{', '.join(_PARQUET + _CSV)}. Read it into a Spark DataFrame and pass that instead."
        )
    if len(files) == 1:
        return reader.load(files[0])
    schema = reader.load(files).schema
    parts = [reader.schema(schema).load(f) for f in files]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _spark_frame(spark, obj, what: str):
    """``obj`` as a Spark DataFrame: a DataFrame itself, files, or a table / view name."""
    if _is_spark_frame(obj):
        return obj
    paths = _paths(obj)
    if paths is not None:
        return _read_files(spark, paths, what)
    if isinstance(obj, str):
        if not spark.catalog.tableExists(obj):
            raise ValueError(
                f"{what}={obj!r} is neither a file nor a table or view of the Spark session. Pass a Spark "
                "DataFrame, a table name, or a CSV / Parquet path."
            )
        return spark.table(obj)
    raise TypeError(
        f"{what} must be a Spark DataFrame, a pandas DataFrame, a table or view name, or a CSV / Parquet "
        f"file path, glob or list of paths. Got {type(obj).__name__} instead."
    )


def _register_source(spark, obj, what: str, prefix: str, backend: _SparkBackend, made: list[str]) -> Source:
    """A temporary view over ``obj`` with the input row number :data:`_sql.ROW`.

    pandas frames get their row positions (1, 2, ...); Spark DataFrames
    ``monotonically_increasing_id() + 1``, which increases in the DataFrame's row order
    (partition by partition) without a pass over the data.
    """
    view = prefix + what + "_src"
    if isinstance(obj, pd.DataFrame):
        if _sql.ROW in obj.columns:
            raise ValueError(f"{what} has a column named {_sql.ROW!r}, a name the Spark engine uses; rename it.")
        frame = obj.copy(deep=False)
        frame[_sql.ROW] = np.arange(1, len(obj) + 1, dtype=np.int64)
        sdf = _create_frame(spark, frame)
    else:
        from pyspark.sql import functions as F

        sdf = _spark_frame(spark, obj, what)
        if _sql.ROW in sdf.columns:
            raise ValueError(f"{what} has a column named {_sql.ROW!r}, a name the Spark engine uses; rename it.")
        sdf = sdf.withColumn(_sql.ROW, F.monotonically_increasing_id() + F.lit(1))
    sdf.createOrReplaceTempView(view)
    made.append(view)
    columns = {c: t for c, t in sdf.dtypes if c != _sql.ROW}
    return Source(view, columns)


def _identities_frame(spark, identities) -> pd.DataFrame | None:
    """Identity links as a pandas DataFrame: collected to the driver (they are O(ids)), where
    connected components run with scipy."""
    if identities is None or isinstance(identities, pd.DataFrame):
        return identities
    return _to_pandas(_spark_frame(spark, identities, "identities"))


def _same_session(a, b) -> bool:
    """Whether two SparkSession objects are the same session (temporary views are per session)."""
    if a is b:
        return True
    try:
        return bool(a._jsparkSession.equals(b._jsparkSession))
    except Exception:  # noqa: BLE001 - Spark Connect sessions: compare their ids
        return getattr(a, "session_id", None) is not None and a.session_id == getattr(b, "session_id", None)


def _session(spark, *inputs):
    """The session to run on: ``spark``, else the one of the Spark DataFrames given, else the active one."""
    from pyspark.sql import SparkSession

    owners = []
    for x in inputs:
        if _is_spark_frame(x) and not any(_same_session(x.sparkSession, o) for o in owners):
            owners.append(x.sparkSession)
    if spark is not None:
        if any(not _same_session(o, spark) for o in owners):
            raise ValueError("The Spark DataFrames given belong to another SparkSession than spark=.")
        return spark
    if len(owners) > 1:
        raise ValueError("The Spark DataFrames given belong to different SparkSessions; pass DataFrames of one session.")
    if owners:
        return owners[0]
    active = SparkSession.getActiveSession()
    if active is None:
        raise ValueError(
            "The Spark engine runs on an existing SparkSession and none is active. Pass spark=<session> "
            "(engine_options={'spark': session} with Journeys.from_events), or start one, e.g. "
            "attribution.engines.spark.local_session() on one machine."
        )
    return active


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


def aggregate_spark(
    touchpoints,
    conversions=None,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    channel: str = "channel",
    value: str | None = "value",
    place: str | None = "place",
    lookback="30D",
    lookback_touches: int | None = None,
    identities=None,
    conversion_flag: str | None = None,
    conversion_touch: bool = True,
    exclude=None,
    collapse_repeats: bool = False,
    max_length: int | None = None,
    sep: str = ">",
    unknown_customers: str = "keep",
    age_resolution=None,
    time_unit: str | None = None,
    time_format: str | None = None,
    dayfirst: bool | None = None,
    touch_type: str | None = "touch_type",
    campaign: str | None = "campaign",
    level: str = "channel",
    spark=None,
) -> PathAggregates:
    """Run the journey rules in Spark and keep the aggregated path table there.

    Parameters
    ----------
    touchpoints, conversions : Spark DataFrame, pandas DataFrame, table name or path
        The event tables, as for :meth:`attribution.Journeys.from_events`: Spark DataFrames,
        names of tables or temporary views of the session, CSV / Parquet files given as a
        path, a glob, a folder or a list of these (the format is read from the file names;
        CSV files are read with a header and ``inferSchema``; for other options or layouts,
        such as partitioned folders, read them yourself), or pandas DataFrames (sent to
        Spark; handy for small data and tests).
        ``conversions=None``: the combined (Kaggle) layout.
    customer, time, channel, value, place, lookback, lookback_touches, conversion_flag, conversion_touch, exclude, collapse_repeats, max_length, sep, unknown_customers, touch_type, campaign, level
        As :meth:`attribution.Journeys.from_events`, with the same checks and messages. ``time_unit``,
        ``time_format`` and ``dayfirst`` too (``time_format`` and ``dayfirst`` with DuckDB only).
    identities : pandas DataFrame, Spark DataFrame, table name or path, optional
        Id links. They are collected to the driver (links are O(ids), not O(events)) and
        merged by connected components with scipy; the id -> person map is sent back to
        Spark and joined there.
    age_resolution : duration, optional
        Keep every touch's age in whole multiples of this step (e.g. ``"1s"``, ``"1h"``), so
        that :class:`~attribution.models.TimeDecay` can run on the result (see
        :func:`attribution.engines.duckdb.aggregate_events`). Default None: no ages.
    spark : SparkSession, optional
        The session to run on. Default: the session of the Spark DataFrames given, else the
        active session. The engine never creates or stops a session (see
        :func:`local_session`).

    Returns
    -------
    PathAggregates
        Holds the path table on the executors, as a temporary view (``.table``; the
        session is ``.spark``) over a local checkpoint; ``.to_journeys()`` brings it to the driver as
        :class:`~attribution.Journeys`, ``.transition_counts(k)``, ``.channel_set_counts()``,
        ``.mask_totals()`` and ``.rule_credits(model)`` compute model aggregates in Spark.
        Close it (or use it in a ``with`` block) to drop the views and free the checkpoints.

    Raises
    ------
    ImportError
        When pyspark is not installed (``pip install "attribution[spark]"``).
    JourneyValidationError
        For the data problems the pandas engine reports, with example rows.

    Notes
    -----
    *Same rules as pandas.* The Spark SQL is the pandas engine's algorithm (see
    :func:`attribution.engines._sql.journey_paths_sql`); the path table equals
    ``Journeys.from_events(...).to_paths()`` of the pandas engine on the same data, which the
    tests check on simulated, public and generated event logs.

    *Ties.* Events of one person at the same time keep their input order, as in pandas.
    The input order of a Spark DataFrame is its row order, partition by partition
    (``monotonically_increasing_id``): the order of a file read, of ``createDataFrame``, of
    ``union``. After a shuffle (``repartition``, a join, ...) that order is arbitrary and may
    change between runs, and so may the order of tied events — give them distinct times if
    it matters. Several files are read one by one and concatenated in the order given.
    pandas frames keep their row order. Example rows in error messages are labelled with
    the row position for pandas frames, and ``monotonically_increasing_id`` for Spark
    DataFrames (the position in the first partition, large numbers in the others).

    *Timestamps* are compared as integer nanoseconds since the epoch, UTC, from Spark's
    microsecond timestamps: sub-microsecond differences are lost where pandas keeps them.
    Strings are cast by Spark (ISO-8601, an offset honoured, none means UTC); pandas'
    ``format="mixed"`` fall-back for other spellings is not available. The session time zone
    is set to UTC while the journey query is defined and restored afterwards.

    *Only aggregates reach the driver*: validation counts per distinct channel, at most three
    example rows per error, the identity links, and the path table. The events are scanned
    twice: validation, then the journey query, run once when the aggregates are made; its
    result, the path table, is kept on the executors as a local checkpoint (memory, spilling to
    disk), and so is the table of its touches once an aggregate needs it. Local checkpoints
    truncate the query lineage, which keeps every later query fast to plan, but they do not
    survive the loss of an executor: queries on the aggregates then fail, and building them
    again is the remedy.
    """
    import_pyspark()
    session = _session(spark, touchpoints, conversions, identities)
    backend = _SparkBackend(session)
    prefix = f"__attribution_{uuid.uuid4().hex[:10]}_"
    made: list[str] = []
    restore = {key: session.conf.get(key) for key in _BUILD_CONF}

    def drop_sources():
        for name in reversed(made):
            try:
                backend.drop(name)
            except Exception:  # noqa: BLE001 - best effort: the session may be gone
                pass

    try:
        for key, v in _BUILD_CONF.items():
            session.conf.set(key, v)
        tsrc = _register_source(session, touchpoints, "touchpoints", prefix, backend, made)
        csrc = None if conversions is None else _register_source(session, conversions, "conversions", prefix, backend, made)
        ids = _identities_frame(session, identities)
        result = build_paths(
            backend, tsrc, csrc, customer=customer, time=time, channel=channel, value=value,
            place=place, lookback=lookback, lookback_touches=lookback_touches, identities=ids,
            conversion_flag=conversion_flag, conversion_touch=conversion_touch, exclude=exclude,
            collapse_repeats=collapse_repeats, max_length=max_length, sep=sep,
            unknown_customers=unknown_customers, age_resolution=age_resolution,
            time_unit=time_unit, time_format=time_format, dayfirst=dayfirst,
            touch_type=touch_type, campaign=campaign, level=level,
            on_close=drop_sources,
        )
    except BaseException:
        drop_sources()
        raise
    finally:
        for key, old in restore.items():
            session.conf.set(key, old)
    result.spark = session
    return result


def from_spark(touchpoints, conversions=None, *, spark=None, warn: bool = True, **options):
    """Journeys from event logs with the Spark engine (see :func:`aggregate_spark`).

    Same parameters as :func:`aggregate_spark` (and ``warn``: warn once when rules excluded
    touches). Returns :class:`~attribution.Journeys` built from the aggregated path table,
    one journey row per unique path × place (× ages with ``age_resolution``); the Spark
    views and checkpoints are dropped before returning. ``Journeys.from_events(...,
    engine="spark")`` calls this.
    """
    with aggregate_spark(touchpoints, conversions, spark=spark, **options) as agg:
        return agg.to_journeys(warn=warn)


#: Alias used by :func:`attribution.engines.from_events`.
from_events = from_spark
