"""The journey rules as SQL text, written once for every SQL engine.

Every function here returns SQL text; nothing is executed. The DuckDB engine
(:mod:`attribution.engines.duckdb`) runs it with ``connection.sql``; a Spark engine runs the same
text through ``spark.sql`` on temporary views. The few places where the two dialects differ are
the small functions at the top of this module, each with one branch per dialect; everything else
is plain SQL both engines accept: common table expressions, ``UNION ALL``, ``CASE``,
``COALESCE``, ``LEAST``, ``GROUP BY``, ``NOT EXISTS`` and window functions with explicit
``ROWS`` frames (no ``QUALIFY``, no named ``WINDOW`` clauses, no ``IGNORE NULLS``).

Data flow
---------
1. **Sources** are views over the user's tables with one extra column, :data:`ROW`: a unique
   BIGINT increasing in input order (DuckDB: ``row_number() OVER ()``, 1, 2, ...; any
   increasing ids do, e.g. Spark's ``monotonically_increasing_id()`` over the input in its
   order). It breaks ties between events at the same time the way pandas' stable sort does.
   Making that column is the engine's job.
2. **Staging** (:func:`touches_sql`, :func:`conversions_sql`) casts and cleans the columns and
   gives every event a person (ids joined to the identity map), a time in integer nanoseconds
   since the Unix epoch (UTC), an order key ``o`` and, for touches, a channel code (joined to the
   channel map, ``-1`` for excluded channels).
3. **Journey rules** (:func:`journey_paths_sql`): one window pass over each person's events
   assigns every touch to the conversion that closes its journey and applies the lookback;
   lookback_touches / collapse_repeats and max_length take one more window pass each, only
   when they are on. Touches a rule removes are flagged, never deleted, so every exclusion is
   counted in the same query. Journeys are aggregated to the path table: one row per unique
   (path, place[, ages]) with conversions, nulls and value summed.
4. **Aggregates** over the path table (:func:`transition_counts_sql`,
   :func:`channel_set_counts_sql`, :func:`rule_credits_sql`): what the models need.

The path table's ``path`` column holds channel *codes* (their rank in the sorted channel
list) separated by single spaces, so paths stay short and channel names stay out of the
journey SQL.

Dialect notes (for engine authors)
----------------------------------
* Timestamps become ``BIGINT`` nanoseconds: DuckDB ``epoch_ns`` (its timestamps have
  microsecond precision except ``TIMESTAMP_NS``), Spark ``unix_micros(...) * 1000``. Naive
  values and strings without an offset are read in the session time zone, which the engine
  must set to UTC (DuckDB ``SET TimeZone = 'UTC'``, Spark ``spark.sql.session.timeZone=UTC``).
* Ordered string aggregation: a list of (order key, value) structs, sorted, values joined:
  DuckDB ``array_to_string(list_transform(list_sort(list({...}) FILTER (WHERE ...)), lambda s:
  s.v), ' ')`` (DuckDB >= 1.3), Spark ``concat_ws(' ', transform(array_sort(collect_list(CASE
  WHEN ... THEN named_struct(...) END)), s -> s.v))``.
* Integer division ``//`` vs ``div``; ``1 << c`` vs ``shiftleft(1, c)``; string trimming
  ``trim(x, chars)`` vs ``trim(BOTH chars FROM x)``; identifiers ``"x"`` vs ```x```; string
  literals escape ``'`` as ``''`` vs ``\\'``; paths are split with ``string_split`` + ``unnest``
  vs ``LATERAL VIEW posexplode(split(...))``.
* Spark 4 runs in ANSI mode: the SQL uses ``try_cast`` where a value may not parse and casts
  row numbers to ``BIGINT`` before multiplying them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DIALECTS",
    "ROW",
    "JourneyRules",
    "ident",
    "literal",
    "touches_sql",
    "conversions_sql",
    "person_codes_sql",
    "journey_paths_sql",
    "journey_rows_sql",
    "bucket_parts_sql",
    "path_table_from_parts_sql",
    "transition_counts_sql",
    "channel_set_counts_sql",
    "rule_credits_sql",
]

DIALECTS = ("duckdb", "spark")

#: DuckDB takes the one-window route of :func:`_journey_lists_sql` for the default rules.
_LIST_ROUTE = True

#: Name of the input-row-number column every source view carries (1, 2, ... in input order).
ROW = "__row"

#: State keys of the chain's special nodes in :func:`transition_counts_sql` (channel states
#: are non-negative).
START_KEY, CONVERSION_KEY, NULL_KEY = -1, -2, -3

#: Output columns of :func:`journey_paths_sql` holding the touches each rule excluded.
EXCLUSION_COLUMNS = {
    "excluded_channels": "x_excluded_channels",
    "lookback": "x_lookback",
    "lookback_touches": "x_lookback_touches",
    "collapsed_repeats": "x_collapsed_repeats",
    "max_length": "x_max_length",
}


def check_dialect(dialect: str) -> str:
    """Return ``dialect`` if it is one of :data:`DIALECTS`, else raise ``ValueError``."""
    if dialect not in DIALECTS:
        raise ValueError(f"The 'dialect' parameter must be one of {list(DIALECTS)}. Got {dialect!r} instead.")
    return dialect


# ---------------------------------------------------------------------------------------------
# The functions that differ between dialects
# ---------------------------------------------------------------------------------------------


def ident(name: str, dialect: str) -> str:
    """A quoted identifier (a user's column name)."""
    if check_dialect(dialect) == "spark":
        return "`" + str(name).replace("`", "``") + "`"
    return '"' + str(name).replace('"', '""') + '"'


def literal(text: str, dialect: str) -> str:
    """A quoted string literal."""
    if check_dialect(dialect) == "spark":
        return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + str(text).replace("'", "''") + "'"


def _whitespace() -> str:
    # ASCII white space, spelled with chr() so no escape rules of either dialect apply
    return "concat(' ', chr(9), chr(10), chr(11), chr(12), chr(13))"


def trim(expr: str, dialect: str) -> str:
    """``expr`` with leading and trailing ASCII white space removed."""
    if check_dialect(dialect) == "spark":
        return f"trim(BOTH {_whitespace()} FROM {expr})"
    return f"trim({expr}, {_whitespace()})"


def int_div(a: str, b: str, dialect: str) -> str:
    """Integer division of non-negative integers."""
    if check_dialect(dialect) == "spark":
        return f"(({a}) div ({b}))"
    return f"(({a}) // ({b}))"


def bit(expr: str, dialect: str) -> str:
    """``1 << expr`` as BIGINT."""
    if check_dialect(dialect) == "spark":
        return f"shiftleft(CAST(1 AS BIGINT), {expr})"
    return f"(CAST(1 AS BIGINT) << {expr})"


#: The ``datetime64[ns]`` range: timestamps outside it are refused (as the pandas engine does).
TIME_RANGE = ("1677-09-22 00:00:00", "2262-04-11 00:00:00")
#: strptime formats tried for ``dayfirst`` (DuckDB), by separator.
_DAY_FIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
              "%d-%m-%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S")


def _is_integer_type(kind: str) -> bool:
    return kind in {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                    "UINTEGER", "UBIGINT", "BYTE", "SHORT", "LONG", "INT2", "INT4", "INT8"}


def time_ns(expr: str, dialect: str, source_type: str | None = None, *, time_unit: str | None = None,
            time_format: str | None = None, dayfirst: bool | None = None) -> str:
    """Nanoseconds since the Unix epoch (UTC) of a timestamp, date, ISO-8601 string or epoch number column.

    ``source_type`` is the column's SQL type as the engine reports it (e.g. ``"TIMESTAMP WITH
    TIME ZONE"``, ``"VARCHAR"``); values that cannot be read, and values outside the
    ``datetime64[ns]`` range (:data:`TIME_RANGE`), give NULL (reported by the validation).
    Numbers are epoch times in ``time_unit``; ``time_format`` (strftime) or ``dayfirst``
    read non-ISO text (DuckDB only).
    """
    kind = (source_type or "").upper()
    d = check_dialect(dialect)
    lo, hi = TIME_RANGE
    if time_unit is not None and (kind.split("(")[0] in _NUMERIC or kind.startswith("DECIMAL")):
        factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[time_unit]
        big = "HUGEINT" if d == "duckdb" else "DECIMAL(38, 0)"
        if _is_integer_type(kind):
            wide = f"(CAST({expr} AS {big}) * {factor})"
        else:
            wide = f"CAST(round(CAST({expr} AS DOUBLE) * {factor}) AS {big})"
        lo_ns, hi_ns = -9223286400000000000, 9223286400000000000  # 1677-09-22, 2262-04-11
        return f"(CASE WHEN {wide} BETWEEN {lo_ns} AND {hi_ns} THEN CAST({wide} AS BIGINT) END)"
    if d == "spark":
        if kind.startswith("TIMESTAMP"):
            ts = f"CAST({expr} AS TIMESTAMP)"
        else:
            ts = f"try_cast({expr} AS TIMESTAMP)"
        return (f"(CASE WHEN {ts} >= TIMESTAMP '{lo}' AND {ts} <= TIMESTAMP '{hi}' "
                f"THEN unix_micros({ts}) * 1000 END)")
    if kind.startswith("TIMESTAMP"):
        ts = expr
    elif kind == "DATE":
        ts = f"CAST({expr} AS TIMESTAMP)"
    elif time_format is not None:
        ts = f"try_strptime(CAST({expr} AS VARCHAR), {literal(time_format, d)})"
    elif dayfirst is not None:
        fmts = _DAY_FIRST if dayfirst else tuple(f.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")
                                                 for f in _DAY_FIRST)
        lst = "[" + ", ".join(literal(f, d) for f in fmts) + "]"
        text = f"CAST({expr} AS VARCHAR)"
        ts = f"COALESCE(TRY_CAST({text} AS TIMESTAMPTZ), try_strptime({text}, {lst}))"
    else:
        ts = f"TRY_CAST(CAST({expr} AS VARCHAR) AS TIMESTAMPTZ)"
    return (f"(CASE WHEN {ts} >= TIMESTAMPTZ '{lo}+00' AND {ts} <= TIMESTAMPTZ '{hi}+00' "
            f"THEN epoch_ns({ts}) END)")


def fixed_order_sum(expr: str, order: str, dialect: str, when: str | None = None) -> str:
    """A floating-point sum that does not depend on the engine's thread scheduling.

    DuckDB: a compensated (Kahan) sum in the journeys' order (person, then journey), the order
    in which the pandas engine's ``to_paths`` sums them, so repeated runs are bitwise equal
    and agree with pandas to the last bit in practice. Spark has no ordered aggregates: a plain
    ``SUM`` (equal to pandas within a few units of round-off). ``when``: sum only the rows
    where it holds (0 when none does).
    """
    if check_dialect(dialect) == "duckdb":
        if when is None:
            return f"fsum({expr} ORDER BY {order})"
        return f"COALESCE(fsum({expr} ORDER BY {order}) FILTER (WHERE {when}), 0)"
    return f"SUM({expr})"


def id_text(expr: str, dialect: str, source_type: str | None = None) -> str:
    """A customer id as text; numeric ids normalised as the pandas engine does (1.0 -> '1')."""
    kind = (source_type or "").upper()
    if kind.split("(")[0] in ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8") or kind.startswith("DECIMAL"):
        x = f"CAST({expr} AS DOUBLE)"
        return (f"(CASE WHEN {x} = floor({x}) AND abs({x}) < 9.2e18 THEN CAST(CAST({x} AS BIGINT) AS STRING) "
                f"ELSE CAST({expr} AS STRING) END)")
    return f"CAST({expr} AS STRING)"


_NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE", "BYTE", "SHORT", "LONG", "INT2", "INT4", "INT8",
            "FLOAT4", "FLOAT8", "NUMERIC"}


def ordered_join(value: str, order: list[str], dialect: str, when: str = "TRUE") -> str:
    """Aggregate: the values of the rows where ``when`` holds, ordered by ``order``, joined by ' '.

    Both dialects collect (order key, value) structs unordered, sort the list and keep the
    values: in DuckDB this is several times faster than ``string_agg(... ORDER BY ...)``, which
    sorts every group separately. Gives NULL (DuckDB) or ``''`` (Spark) when no row
    qualifies: wrap it in ``COALESCE(.., '')``. DuckDB needs 1.3 or later (``lambda`` syntax).
    """
    if check_dialect(dialect) == "spark":
        fields = ", ".join(f"'k{i}', {e}" for i, e in enumerate(order))
        return (
            f"concat_ws(' ', transform(array_sort(collect_list(CASE WHEN {when} THEN "
            f"named_struct({fields}, 'v', CAST({value} AS STRING)) END)), s -> s.v))"
        )
    fields = ", ".join(f"'k{i}': {e}" for i, e in enumerate(order))
    return (
        f"array_to_string(list_transform(list_sort(list({{{fields}, 'v': CAST({value} AS VARCHAR)}}) "
        f"FILTER (WHERE {when})), lambda s: s.v), ' ')"
    )


def packed_join(key: str, code: str, base: int, dialect: str, when: str = "TRUE") -> str:
    """Aggregate: ``code`` of the rows where ``when`` holds, ordered by the integer ``key``, joined by ' '.

    For small non-negative codes (below ``base``): each row contributes one BIGINT
    ``key * base + code``, so the list to sort holds plain integers (faster than structs).
    Gives NULL (DuckDB) or ``''`` (Spark) when no row qualifies.
    """
    packed = f"CAST({key} AS BIGINT) * {int(base)} + {code}"
    if check_dialect(dialect) == "spark":
        return (
            f"concat_ws(' ', transform(array_sort(collect_list(CASE WHEN {when} THEN {packed} END)), "
            f"x -> CAST(x % {int(base)} AS STRING)))"
        )
    return (
        f"array_to_string(list_transform(list_sort(list({packed}) FILTER (WHERE {when})), "
        f"lambda x: x % {int(base)}), ' ')"
    )


def explode_paths(table: str, dialect: str) -> str:
    """A query with one row per touch of every non-empty path: ``rid, pos`` (from 0), ``code``."""
    if check_dialect(dialect) == "spark":
        return (
            f"SELECT rid, pos, CAST(tok AS INT) AS code FROM {table} "
            f"LATERAL VIEW posexplode(split(path, ' ')) x AS pos, tok WHERE path <> ''"
        )
    return (
        "SELECT rid, CAST(pos AS BIGINT) - 1 AS pos, CAST(tok AS INTEGER) AS code FROM ("
        "SELECT rid, unnest(s) AS tok, generate_subscripts(s, 1) AS pos FROM ("
        f"SELECT rid, string_split(path, ' ') AS s FROM {table} WHERE path <> '') AS a) AS b"
    )


# ---------------------------------------------------------------------------------------------
# Staging: sources to normalised events
# ---------------------------------------------------------------------------------------------


def missing(expr: str, dialect: str) -> str:
    """Condition: ``expr`` is NULL, empty or only white space (as pandas' ``check_no_missing``).

    The trim (slow on long columns) only runs for values starting with white space.
    """
    s = f"CAST({expr} AS STRING)"
    return f"({expr} IS NULL OR {s} = '' OR (ascii({s}) IN (9, 10, 11, 12, 13, 32) AND {trim(s, dialect)} = ''))"


def flag_sql(column: str, dialect: str, numeric: bool, true_values=()) -> str:
    """Condition: a row of a combined event log is a conversion (see ``conversion_flag``).

    Numeric and boolean flags: non-zero (NULL flags are refused by the validation). Other
    types: the raw value is one of ``true_values`` — the distinct values whose stripped,
    lower-cased text is ``conversion``, ``1``, ``true`` or ``yes``, found by the driver.
    """
    c = ident(column, dialect)
    if numeric:
        return f"COALESCE(CAST({c} AS DOUBLE) <> 0, FALSE)"
    if not true_values:
        return "FALSE"
    values = ", ".join(literal(v, dialect) for v in true_values)
    return f"COALESCE(CAST({c} AS STRING) IN ({values}), FALSE)"


def touches_sql(
    source: str, *, customer: str, time: str, channel: str, dialect: str, time_type: str | None = None,
    flag: str | None = None, conversion_touch: bool = True, channel_map: str = "channel_map",
    id_map: str | None = None, customer_type: str | None = None, time_options: dict | None = None,
    touch_type: str | None = None, type_codes: dict | None = None, visit_code: int = 0,
    person_codes: str | None = None, ids_only: bool = False,
) -> str:
    """Normalised touches: ``p`` (person), ``t`` (ns), ``src``, ``o`` (input row), ``code`` (channel code), ``ty``.

    Parameters
    ----------
    source : str
        View with the user's columns and :data:`ROW`.
    customer, time, channel : str
        Column names.
    flag : str, optional
        SQL condition marking conversion rows of a combined log (:func:`flag_sql`); those rows
        are touches only with ``conversion_touch`` and a non-NULL channel; they get
        ``src = 1`` (0 for plain touch rows) and sort after the plain touch rows at the same
        time, as in the pandas engine, which appends them.
    channel_map : str
        Table ``raw STRING, code INT``: every distinct channel value as text, and the code of
        its stripped name (``-1`` for excluded channels). Joining on the raw text saves
        trimming every row.
    id_map : str, optional
        Table ``id STRING, person STRING`` of ids merged by identities (others are their own
        person).
    touch_type, type_codes, visit_code : optional
        The touch-type column and the code of each of its raw values (as text); a touch taken
        from a conversion row without a type gets ``visit_code``. ``ty`` is 0 without types.
    person_codes : str, optional
        Table ``id STRING, pc`` (integer; :func:`person_codes_sql`): with it ``p`` is the
        person's dense integer code instead of its text (the table already applies the
        identities: ``id_map`` is then ignored).
    ids_only : bool
        Return only the ``id`` column (the customer id as text, before identities) of the
        rows that are touches: an input of :func:`person_codes_sql`.
    """
    q = lambda c: ident(c, dialect)  # noqa: E731
    cid = id_text(q(customer), dialect, customer_type)
    ty = type_sql(touch_type, type_codes or {}, visit_code, dialect)
    if flag is None:
        where, src = "", "0"
    else:
        where = f" WHERE NOT ({flag})" + (f" OR {q(channel)} IS NOT NULL" if conversion_touch else "")
        src = f"CASE WHEN {flag} THEN 1 ELSE 0 END"
    if ids_only:
        return f"SELECT {cid} AS id FROM {source}{where}"
    inner = (
        f"SELECT {cid} AS id, {time_ns(q(time), dialect, time_type, **(time_options or {}))} AS t, {src} AS src, CAST({ROW} AS BIGINT) AS o, "
        f"CAST({q(channel)} AS STRING) AS ch, {ty} AS ty FROM {source}{where}"
    )
    if person_codes is not None:
        return (
            f"SELECT d.pc AS p, s.t, s.src, s.o, m.code, s.ty FROM ({inner}) AS s "
            f"JOIN {channel_map} AS m ON m.raw = s.ch JOIN {person_codes} AS d ON d.id = s.id"
        )
    if id_map is None:
        return f"SELECT s.id AS p, s.t, s.src, s.o, m.code, s.ty FROM ({inner}) AS s JOIN {channel_map} AS m ON m.raw = s.ch"
    return (
        f"SELECT COALESCE(i.person, s.id) AS p, s.t, s.src, s.o, m.code, s.ty FROM ({inner}) AS s "
        f"JOIN {channel_map} AS m ON m.raw = s.ch LEFT JOIN {id_map} AS i ON i.id = s.id"
    )


def type_sql(column: str | None, codes: dict, visit_code: int, dialect: str) -> str:
    """The touch-type code of a row: its raw value (as text) looked up in ``codes``; a NULL
    type (only on touches taken from conversion rows, after validation) is ``visit_code``."""
    if column is None or not codes:
        return "CAST(0 AS INT)"
    c = ident(column, dialect)
    whens = " ".join(f"WHEN {literal(raw, dialect)} THEN {int(k)}" for raw, k in codes.items())
    return f"CAST(CASE WHEN {c} IS NULL THEN {int(visit_code)} ELSE CASE CAST({c} AS STRING) {whens} END END AS INT)"


def conversions_sql(
    source: str, *, customer: str, time: str, dialect: str, value: str | None = None,
    place: str | None = None, time_type: str | None = None, flag: str | None = None,
    id_map: str | None = None, customer_type: str | None = None, time_options: dict | None = None,
    person_codes: str | None = None, ids_only: bool = False,
) -> str:
    """Normalised conversions: ``p``, ``t`` (ns), ``o`` (input row), ``value`` (DOUBLE), ``place``.

    With ``person_codes`` (see :func:`touches_sql`) ``p`` is the person's integer code and a
    last column ``has_touch`` (1 or 0) says whether the person has any touch; ``ids_only``
    returns the ``id`` column alone.
    """
    q = lambda c: ident(c, dialect)  # noqa: E731
    val = f"try_cast({q(value)} AS DOUBLE)" if value else "CAST(0 AS DOUBLE)"
    plc = f"CAST({q(place)} AS STRING)" if place else "CAST(NULL AS STRING)"
    where = "" if flag is None else f" WHERE {flag}"
    if ids_only:
        return f"SELECT {id_text(q(customer), dialect, customer_type)} AS id FROM {source}{where}"
    inner = (
        f"SELECT {id_text(q(customer), dialect, customer_type)} AS id, "
        f"{time_ns(q(time), dialect, time_type, **(time_options or {}))} AS t, "
        f"CAST({ROW} AS BIGINT) AS o, {val} AS value, {plc} AS place FROM {source}{where}"
    )
    if person_codes is not None:
        return (
            f"SELECT d.pc AS p, s.t, s.o, s.value, s.place, d.has_touch FROM ({inner}) AS s "
            f"JOIN {person_codes} AS d ON d.id = s.id"
        )
    if id_map is None:
        return f"SELECT id AS p, t, o, value, place FROM ({inner}) AS s"
    return (
        f"SELECT COALESCE(i.person, s.id) AS p, s.t, s.o, s.value, s.place FROM ({inner}) AS s "
        f"LEFT JOIN {id_map} AS i ON i.id = s.id"
    )


def person_codes_sql(touch_ids: str, conversion_ids: str, id_map: str | None = None) -> str:
    """A dictionary of customer ids: ``id`` (text), ``pc`` (the person's dense code, BIGINT), ``has_touch``.

    Parameters
    ----------
    touch_ids, conversion_ids : str
        Queries with one column ``id``: the ids of the touch rows and of the conversion rows
        (``touches_sql(..., ids_only=True)``, ``conversions_sql(..., ids_only=True)``).
    id_map : str, optional
        Table ``id, person`` of ids merged by identities; an id not in it is its own person.

    Notes
    -----
    One row per distinct id. A person is ``COALESCE(person, id)``; persons are numbered 1, 2,
    ... in the order of their text (``DENSE_RANK``): every id of a person gets the same
    code and two persons never share one (a dictionary, not a hash that could collide).
    Numbering in text order keeps every later ``ORDER BY p`` (the ordered value sum of
    :func:`journey_paths_sql`) in the order of the text itself, so results are bitwise those
    of text keys, while the window functions partition, sort and group by one integer
    instead of a string. ``has_touch`` is 1 when any id of the person has a touch.
    The numbering is one global sort of the distinct ids: a parallel sort of O(ids) rows in
    DuckDB, but a single partition in Spark, which therefore keeps text keys.
    """
    ids = (
        f"SELECT id, MAX(h) AS h FROM (SELECT id, 1 AS h FROM ({touch_ids}) AS a "
        f"UNION ALL SELECT id, 0 AS h FROM ({conversion_ids}) AS b) AS ab GROUP BY id"
    )
    if id_map is None:
        return f"SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS pc, h AS has_touch FROM ({ids}) AS u"
    return (
        "SELECT id, DENSE_RANK() OVER (ORDER BY person) AS pc, MAX(h) OVER (PARTITION BY person) AS has_touch FROM ("
        f"SELECT u.id, COALESCE(i.person, u.id) AS person, u.h FROM ({ids}) AS u "
        f"LEFT JOIN {id_map} AS i ON i.id = u.id) AS m"
    )


# ---------------------------------------------------------------------------------------------
# The journey rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JourneyRules:
    """The journey rules in engine units.

    Attributes
    ----------
    n_codes : int
        Number of channel codes (kept channels); used to pack (row, code) pairs.
    lookback_ns : int or None
        Lookback window in nanoseconds.
    lookback_touches, max_length : int or None
    collapse_repeats : bool
    age_step_ns : int or None
        With a value, every touch's age (journey end minus touch time) is kept, in whole
        multiples of this step (rounded down), as a second key of the path table.
    n_types : int
        Number of touch types (0: the touches carry none). With types the path table gets a
        ``types`` column (type codes in path order) as one more key, and repeats are touches
        of the same channel *and* type.
    type_lookback_ns : tuple of int, optional
        One lookback per type code (-1: no window), instead of ``lookback_ns``.
    """

    n_codes: int
    lookback_ns: int | None = None
    lookback_touches: int | None = None
    collapse_repeats: bool = False
    max_length: int | None = None
    age_step_ns: int | None = None
    n_types: int = 0
    type_lookback_ns: tuple | None = None


def journey_paths_sql(touches: str, conversions: str, rules: JourneyRules, dialect: str) -> str:
    """The path table from normalised touches and conversions (:func:`touches_sql`, :func:`conversions_sql`).

    Columns: ``rid`` (row id from 0, in (path, ages, place) order), ``path`` (channel codes
    separated by spaces, ``''`` for a journey without touches), ``ages`` (only with
    ``rules.age_step_ns``: the touches' ages in steps, in the same order), ``types`` (only with
    ``rules.n_types``: the touches' type codes, in the same order), ``place`` (NULL for
    non-converting journeys), ``total_conversions``, ``total_conversion_value``,
    ``total_null`` and one column per exclusion rule (:data:`EXCLUSION_COLUMNS`, touches
    excluded by the rule in the row's journeys).

    Notes
    -----
    Each person's events are ordered by (time, ``kind``, input row) with ``kind`` 0 for a
    touch, 1 for a touch taken from a conversion row (combined layout) and 2 for a
    conversion: the pandas engine's stable sort of [touch rows, conversion-row touches] with
    conversions after touches at the same time. A journey is ``(p, k)`` where ``k`` counts
    the person's conversions before the event: conversion ``k`` closes journey ``k``, and a
    touch belongs to the first conversion at or after it (a tie counts as before); touches
    after the last conversion form the non-converting journey ``k = number of conversions``.
    Journeys and paths keep touches in this order (the per-person row number ``seq``). Touches are then flagged
    alive after each rule (``a0`` .. ``a4``), in the order of ``Journeys.transform``:

    ``a0`` channel not excluded; ``a1`` lookback: ``end - t <= lookback`` (or the window of
    the touch's type) with ``end`` the conversion time, or for a non-converting journey its
    last ``a0`` touch; ``a2``
    lookback_touches: among the last ``lookback_touches`` ``a1`` touches; ``a3`` collapse
    repeats: not the same channel as the previous ``a2`` touch; ``a4`` max_length: among the
    last ``max_length`` ``a3`` touches. "The last n" is a running count from the end
    (``n_alive - running_alive + 1 <= n``); "the previous alive touch" is the largest
    ``(row number, code)`` pair packed into one BIGINT over the preceding rows. Rules that are
    off cost nothing: their window passes are left out.

    DuckDB without lookback_touches, collapse_repeats and max_length (the default rules) takes
    a shorter route to the same table (:func:`_journey_lists_sql`): one window pass for ``k``
    and ``seq`` only, and the journey's end and the lookback applied to per-journey lists.

    The path table is also :func:`path_table_from_parts_sql` over the :func:`bucket_parts_sql`
    of :func:`journey_rows_sql` run on disjoint sets of persons: the DuckDB engine's route for
    event logs too large for one pass in memory.
    """
    d = check_dialect(dialect)
    return _path_table_sql(_journey_ctes(touches, conversions, rules, d), rules, d)


def journey_rows_sql(touches: str, conversions: str, rules: JourneyRules, dialect: str) -> str:
    """One row per journey (the ``jn`` step of :func:`journey_paths_sql`), not yet aggregated to paths.

    Columns: ``p``, ``k`` (the journey), ``conv`` (1 or 0), ``value``, ``place``, ``path``
    (and ``ages`` / ``types`` with those rules) and the exclusion columns
    (:data:`EXCLUSION_COLUMNS`).
    """
    d = check_dialect(dialect)
    ctes = _journey_ctes(touches, conversions, rules, d)
    return "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in ctes) + "\nSELECT * FROM jn"


def _keys(rules: JourneyRules) -> str:
    """The path table's key columns."""
    return "path" + (", ages" if rules.age_step_ns else "") + (", types" if rules.n_types else "") + ", place"


def bucket_parts_sql(journeys: str, rules: JourneyRules) -> tuple[str, str]:
    """The two parts a bucket of persons adds to the path table (DuckDB): counts and values.

    ``journeys`` is a :func:`journey_rows_sql` table over some persons. The first query counts
    its journeys per path key (conversions, nulls, exclusions: integers, so the buckets' counts
    add exactly); the second keeps the converting journeys' ``p, k, value`` per path key, so
    that :func:`path_table_from_parts_sql` sums every path's values in one ordered pass over all
    buckets, exactly as the one-pass query does.
    """
    keys = _keys(rules)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in EXCLUSION_COLUMNS.values())
    counts = (f"SELECT {keys}, SUM(conv) AS n_conv, SUM(1 - conv) AS n_null, {sums} "
              f"FROM {journeys} GROUP BY {keys}")
    values = f"SELECT {keys}, p, k, value FROM {journeys} WHERE conv = 1"
    return counts, values


def path_table_from_parts_sql(counts: str, values: str, rules: JourneyRules) -> str:
    """The path table of :func:`journey_paths_sql` (DuckDB) from the buckets' :func:`bucket_parts_sql` tables.

    Counts add up; each path's value is one compensated sum over its converting journeys in
    (person, journey) order, the order and the rows of the one-pass query, so the table is the
    same whatever the number of buckets.
    """
    keys = _keys(rules)
    x = list(EXCLUSION_COLUMNS.values())
    sums = ", ".join(f"SUM({c}) AS {c}" for c in x)
    on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM v.{k}" for k in keys.split(", "))
    ckeys = ", ".join(f"c.{k}" for k in keys.split(", "))
    c = f"SELECT {keys}, SUM(n_conv) AS n_conv, SUM(n_null) AS n_null, {sums} FROM {counts} GROUP BY {keys}"
    v = (f"SELECT {keys}, {fixed_order_sum('COALESCE(value, 0)', 'p, k', 'duckdb')} AS value "
         f"FROM {values} GROUP BY {keys}")
    pt = (f"SELECT {ckeys}, CAST(c.n_conv AS DOUBLE) AS total_conversions, "
          f"CAST(COALESCE(v.value, 0) AS DOUBLE) AS total_conversion_value, CAST(c.n_null AS DOUBLE) AS total_null, "
          f"{', '.join('c.' + n for n in x)} FROM c LEFT JOIN v ON {on}")
    return (f"WITH c AS ({c}), v AS ({v}), pt AS ({pt})\n"
            f"SELECT ROW_NUMBER() OVER (ORDER BY {keys} NULLS FIRST) - 1 AS rid, * FROM pt")


def _journey_ctes(touches: str, conversions: str, rules: JourneyRules, d: str) -> list[tuple[str, str]]:
    """The CTEs of :func:`journey_paths_sql` up to ``jn`` (one row per journey)."""
    if (d == "duckdb" and _LIST_ROUTE and rules.lookback_touches is None and not rules.collapse_repeats
            and rules.max_length is None and not rules.n_types and rules.type_lookback_ns is None):
        return _journey_lists_sql(touches, conversions, rules)  # (the list route carries no touch types)
    run = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    whole = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    by_person = "PARTITION BY p ORDER BY t, kind, o"
    by_journey = "PARTITION BY p, k ORDER BY t, kind, o"
    cols = "p, k, t, kind, o, code, value, place, ty"
    cb = max(int(rules.n_codes), 1)  # codes are below cb: (row, code) pairs pack into one BIGINT
    nt = max(int(rules.n_types), 1)  # (code, type) pairs pack into code * nt + ty
    is_conv = "CASE WHEN kind = 2 THEN 1 ELSE 0 END"
    ctes: list[tuple[str, str]] = []

    ctes.append(("ev", (
        f"SELECT p, t, src AS kind, o, code, CAST(NULL AS DOUBLE) AS value, CAST(NULL AS STRING) AS place, ty FROM {touches} "
        f"UNION ALL SELECT p, t, 2 AS kind, o, -1 AS code, value, place, -1 AS ty FROM {conversions}"
    )))
    seq = f", ROW_NUMBER() OVER ({by_person}) AS seq"
    ctes.append(("wa", (
        f"SELECT p, t, kind, o, code, value, place, ty, "
        f"CAST(SUM({is_conv}) OVER ({by_person} {run}) - {is_conv} AS INTEGER) AS k, "
        f"MIN(CASE WHEN kind = 2 THEN t END) OVER ({by_person} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS t_conv, "
        f"MAX(CASE WHEN kind < 2 AND code >= 0 THEN t END) OVER ({by_person} {whole}) AS t_last{seq} FROM ev"
    )))
    end = "COALESCE(t_conv, t_last)"
    a0 = "CASE WHEN kind < 2 AND code >= 0 THEN 1 ELSE 0 END"
    if rules.type_lookback_ns is not None:  # one window per touch type (-1: none)
        whens = " ".join(f"WHEN {k} THEN {int(w)}" for k, w in enumerate(rules.type_lookback_ns))
        win = f"CASE ty {whens} ELSE -1 END" if whens else "-1"  # no types (an empty log): no window
        a1 = f"CASE WHEN kind < 2 AND code >= 0 AND ({win} < 0 OR {end} - t <= {win}) THEN 1 ELSE 0 END"
    elif rules.lookback_ns is None:
        a1 = a0
    else:
        a1 = f"CASE WHEN kind < 2 AND code >= 0 AND {end} - t <= {int(rules.lookback_ns)} THEN 1 ELSE 0 END"
    age = f", {int_div(f'{end} - t', str(int(rules.age_step_ns)), d)} AS age" if rules.age_step_ns else ""
    extra = ", seq"
    ctes.append(("ra", f"SELECT {cols}, {a0} AS a0, {a1} AS a1{age}{extra} FROM wa"))
    carry = "seq, a0, a1" + (", age" if rules.age_step_ns else "")
    last = "ra"

    if rules.lookback_touches is not None or rules.collapse_repeats:
        # with touch types a repeat is the same channel and type: pack (code, type) as one code
        ct, cbt = ("code", cb) if not rules.n_types else (f"(code * {nt} + ty)", cb * nt)
        prev = (
            f", MAX(CASE WHEN a1 = 1 THEN CAST(seq AS BIGINT) * {cbt} + {ct} END) OVER ({by_journey} "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev1"
            if rules.collapse_repeats else ""
        )
        ctes.append(("wb", (
            f"SELECT {cols}, {carry}, SUM(a1) OVER ({by_journey} {whole}) AS n1, "
            f"SUM(a1) OVER ({by_journey} {run}) AS c1{prev} FROM {last}"
        )))
        from_end = "(n1 - c1 + 1)"
        if rules.lookback_touches is None:
            a2, limit = "a1", "n1"
        else:
            L = int(rules.lookback_touches)
            a2 = f"CASE WHEN a1 = 1 AND {from_end} <= {L} THEN 1 ELSE 0 END"
            limit = f"LEAST(n1, {L})"
        if rules.collapse_repeats:
            # a repeat: not the first kept touch, and the previous kept touch has the same channel
            a3 = f"CASE WHEN a1 = 1 AND {from_end} < {limit} AND prev1 % {cbt} = {ct} THEN 0 ELSE a2 END"
        else:
            a3 = "a2"
        ctes.append(("rb", f"SELECT {cols}, {carry}, {a2} AS a2, {a3} AS a3 FROM wb"))
        last = "rb"
    else:
        ctes.append(("rb", f"SELECT {cols}, {carry}, a1 AS a2, a1 AS a3 FROM {last}"))
        last = "rb"
    carry += ", a2, a3"

    if rules.max_length is not None:
        M = int(rules.max_length)
        ctes.append(("wc", (
            f"SELECT {cols}, {carry}, SUM(a3) OVER ({by_journey} {whole}) AS n3, "
            f"SUM(a3) OVER ({by_journey} {run}) AS c3 FROM {last}"
        )))
        ctes.append(("rc", f"SELECT {cols}, {carry}, CASE WHEN a3 = 1 AND n3 - c3 + 1 <= {M} THEN 1 ELSE 0 END AS a4 FROM wc"))
    else:
        ctes.append(("rc", f"SELECT {cols}, {carry}, a3 AS a4 FROM {last}"))

    ages = (
        f", COALESCE({ordered_join('age', ['seq'], d, 'a4 = 1')}, '') AS ages" if rules.age_step_ns else ""
    )
    if rules.n_types:
        ages += f", COALESCE({packed_join('seq', 'ty', nt, d, 'a4 = 1')}, '') AS types"
    x = EXCLUSION_COLUMNS
    ctes.append(("jn", (
        f"SELECT p, k, MAX({is_conv}) AS conv, MAX(CASE WHEN kind = 2 THEN value END) AS value, "
        "MAX(CASE WHEN kind = 2 THEN place END) AS place, "
        f"COALESCE({packed_join('seq', 'code', cb, d, 'a4 = 1')}, '') AS path{ages}, "
        f"SUM(CASE WHEN kind < 2 THEN 1 - a0 ELSE 0 END) AS {x['excluded_channels']}, SUM(a0 - a1) AS {x['lookback']}, "
        f"SUM(a1 - a2) AS {x['lookback_touches']}, SUM(a2 - a3) AS {x['collapsed_repeats']}, "
        f"SUM(a3 - a4) AS {x['max_length']} FROM rc GROUP BY p, k"
    )))
    return ctes


def _path_table_sql(ctes: list[tuple[str, str]], rules: JourneyRules, dialect: str) -> str:
    """The path table (``pt`` and the final row ids) from a ``jn`` CTE of one row per journey."""
    x = EXCLUSION_COLUMNS
    keys = _keys(rules)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in x.values())
    # the value sum runs over the converting journeys only (the others add 0 and change no bit),
    # the rows path_table_from_parts_sql sums
    ctes = ctes + [("pt", (
        f"SELECT {keys}, CAST(SUM(conv) AS DOUBLE) AS total_conversions, "
        f"CAST({fixed_order_sum('COALESCE(value, 0)', 'p, k', dialect, 'conv = 1')} AS DOUBLE) AS total_conversion_value, "
        f"CAST(SUM(1 - conv) AS DOUBLE) AS total_null, {sums} FROM jn GROUP BY {keys}"
    ))]
    # a row id in (path, ages, place) order: the path table is small, one sort is cheap
    final = f"SELECT ROW_NUMBER() OVER (ORDER BY {keys} NULLS FIRST) - 1 AS rid, * FROM pt"
    return "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in ctes) + "\n" + final


def _journey_lists_sql(touches: str, conversions: str, rules: JourneyRules) -> list[tuple[str, str]]:
    """DuckDB, rules without lookback_touches / collapse_repeats / max_length: the journeys of
    :func:`journey_paths_sql` (its CTEs up to ``jn``) with one window pass and per-journey lists.

    The window pass (per person, in event order) gives only ``k`` (conversions before the
    event) and ``seq`` (row number). A journey ``(p, k)`` then collects its kept-channel
    touches as two sorted lists, packed ``seq * n_codes + code`` and times ``t``; its end is
    its conversion's time, or without one its last kept-channel touch (the same ``end`` as
    :func:`journey_paths_sql`: the person's last such touch lies in the last journey). Times
    do not decrease along ``seq``, so the touches within the lookback (``end - t <=
    lookback``) are the last ``kept`` elements of both lists, ``kept`` counted on the times:
    the path is their codes, the ages ``(end - t) // step`` of the same elements (the times
    are sorted only for the ages: the lookback counts them in any order).
    """
    cb = max(int(rules.n_codes), 1)
    by_person = "PARTITION BY p ORDER BY t, kind, o"
    is_conv = "CASE WHEN kind = 2 THEN 1 ELSE 0 END"
    touch = "kind < 2 AND code >= 0"
    x = EXCLUSION_COLUMNS
    # a conversion's value and place join its journey afterwards (by its input row ``o``):
    # the window sorts and the lists group narrow integer rows only
    ctes = [("ev", (
        f"SELECT p, t, src AS kind, o, code FROM {touches} "
        f"UNION ALL SELECT p, t, 2 AS kind, o, -1 AS code FROM {conversions}"
    ))]
    ctes.append(("wa", (
        f"SELECT p, t, kind, code, o, CAST(SUM({is_conv}) OVER ({by_person} "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - {is_conv} AS INTEGER) AS k, "
        f"ROW_NUMBER() OVER ({by_person}) AS seq FROM ev"
    )))
    need_t = rules.lookback_ns is not None or rules.age_step_ns is not None
    # the lookback only counts the times (any order); ages take the last ``kept`` in seq order
    sort_t = (lambda e: f"list_sort({e})") if rules.age_step_ns is not None else (lambda e: e)
    times = f", {sort_t(f'list(t) FILTER (WHERE {touch})')} AS tl" if need_t else ""
    ctes.append(("jo", (
        f"SELECT p, k, MAX({is_conv}) AS conv, MAX(CASE WHEN kind = 2 THEN o END) AS co, "
        f"COALESCE(MAX(CASE WHEN kind = 2 THEN t END), MAX(CASE WHEN {touch} THEN t END)) AS t_end, "
        f"COALESCE(list_sort(list(CAST(seq AS BIGINT) * {cb} + code) FILTER (WHERE {touch})), []) AS sl{times}, "
        f"SUM(CASE WHEN kind < 2 AND code < 0 THEN 1 ELSE 0 END) AS {x['excluded_channels']} FROM wa GROUP BY p, k"
    )))
    ctes.append(("jg", (  # a journey holds at most one conversion; its input row is unique
        f"SELECT jo.*, cv.value, cv.place FROM jo LEFT JOIN (SELECT o, value, place FROM {conversions}) AS cv "
        "ON cv.o = jo.co"
    )))
    if rules.lookback_ns is None:
        kept = "len(sl)"
    else:
        kept = f"COALESCE(len(list_filter(tl, lambda v: t_end - v <= {int(rules.lookback_ns)})), 0)"
    ctes.append(("jk", f"SELECT *, {kept} AS kept FROM jg"))
    tail = "list_slice({l}, len(sl) - kept + 1, len(sl))"
    ages = (
        f", COALESCE(array_to_string(list_transform({tail.format(l='tl')}, "
        f"lambda v: (t_end - v) // {int(rules.age_step_ns)}), ' '), '') AS ages" if rules.age_step_ns else ""
    )
    ctes.append(("jn", (
        f"SELECT p, k, conv, value, place, COALESCE(array_to_string(list_transform({tail.format(l='sl')}, "
        f"lambda v: v % {cb}), ' '), '') AS path{ages}, {x['excluded_channels']}, "
        f"len(sl) - kept AS {x['lookback']}, 0 AS {x['lookback_touches']}, 0 AS {x['collapsed_repeats']}, "
        f"0 AS {x['max_length']} FROM jk"
    )))
    return ctes


# ---------------------------------------------------------------------------------------------
# Aggregates over the path table
# ---------------------------------------------------------------------------------------------


def path_touches_sql(paths: str, dialect: str, with_ages: bool = False, with_types: bool = False) -> str:
    """One row per touch of the path table: ``rid, pos, n`` (path length), ``code`` [, ``age``] [, ``ty``]."""
    base = explode_paths(paths, dialect)
    if not with_ages and not with_types:
        return f"SELECT rid, pos, code, COUNT(*) OVER (PARTITION BY rid) AS n FROM ({base}) AS e"
    cols, joins = [], []
    if with_ages:
        ages = explode_paths(f"(SELECT rid, ages AS path FROM {paths}) AS g", dialect)
        cols.append("CAST(a.code AS BIGINT) AS age")
        joins.append(f"JOIN ({ages}) AS a ON a.rid = e.rid AND a.pos = e.pos")
    if with_types:
        types = explode_paths(f"(SELECT rid, types AS path FROM {paths}) AS h", dialect)
        cols.append("CAST(y.code AS INT) AS ty")
        joins.append(f"JOIN ({types}) AS y ON y.rid = e.rid AND y.pos = e.pos")
    return (
        f"SELECT e.rid, e.pos, e.code, COUNT(*) OVER (PARTITION BY e.rid) AS n, {', '.join(cols)} "
        f"FROM ({base}) AS e {' '.join(joins)}"
    )


def click_priority_touches_sql(touches: str, click_codes, with_ages: bool = False) -> str:
    """The touches a click-priority rule looks at (every click-class touch; the impressions of
    paths without a click), renumbered: ``rid, pos, n, code[, age]``."""
    clicks = ", ".join(str(int(c)) for c in click_codes) or "-1"
    is_click = f"ty IN ({clicks})"
    age = ", age" if with_ages else ""
    kept = (
        f"SELECT * FROM (SELECT *, MAX(CASE WHEN {is_click} THEN 1 ELSE 0 END) OVER (PARTITION BY rid) AS hc "
        f"FROM {touches}) AS c WHERE {is_click} OR hc = 0"
    )
    return (
        "SELECT rid, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY pos) - 1 AS pos, "
        f"COUNT(*) OVER (PARTITION BY rid) AS n, code{age} FROM ({kept}) AS k"
    )


def transition_counts_sql(paths: str, touches: str, order: int, n_channels: int) -> tuple[str, str]:
    """Order-``order`` edge counts and outcome totals (see :mod:`attribution.graph`).

    A state is the window of the last ``order`` channel codes (or the whole path when it is
    shorter), keyed ``sum_d (code[pos - d] + 1) * (C + 1)^d`` with the latest touch in the
    lowest digit, exactly as :func:`attribution.graph.state_sequence`. Special nodes:
    :data:`START_KEY`, :data:`CONVERSION_KEY`, :data:`NULL_KEY`.

    Returns
    -------
    (edges, outcomes) : SQL
        ``src, dst, count`` (every distinct edge, counts weighted by conversions + nulls for
        inner steps) and ``last, place, conversions, value`` (the node each path row leaves
        to conversion).
    """
    base = int(n_channels) + 1
    terms = ["(code + 1)"] + [
        f"CASE WHEN pos >= {k} THEN (LAG(code, {k}) OVER (PARTITION BY rid ORDER BY pos) + 1) * {base ** k} ELSE 0 END"
        for k in range(1, order)
    ]
    key = " + ".join(terms)
    ends = f"pos >= {order - 1} OR (n < {order} AND pos = n - 1)"
    states = (
        f"WITH st AS (SELECT rid, pos, n, {key} AS skey FROM {touches}), "
        f"se AS (SELECT rid, pos, skey FROM st WHERE {ends}), "
        "sq AS (SELECT rid, skey, LAG(skey) OVER (PARTITION BY rid ORDER BY pos) AS prev, "
        "ROW_NUMBER() OVER (PARTITION BY rid ORDER BY pos DESC) AS from_end FROM se), "
        f"lst AS (SELECT p.rid, COALESCE(q.skey, {START_KEY}) AS last, p.place, p.total_conversions, "
        f"p.total_conversion_value, p.total_null FROM {paths} AS p LEFT JOIN (SELECT rid, skey FROM sq WHERE from_end = 1) AS q ON q.rid = p.rid)"
    )
    edges = (
        f"{states}, ed AS ("
        f"SELECT COALESCE(q.prev, {START_KEY}) AS src, q.skey AS dst, p.total_conversions + p.total_null AS w "
        f"FROM sq AS q JOIN {paths} AS p ON p.rid = q.rid "
        f"UNION ALL SELECT last, {CONVERSION_KEY}, total_conversions FROM lst "
        f"UNION ALL SELECT last, {NULL_KEY}, total_null FROM lst) "
        "SELECT src, dst, SUM(w) AS count FROM ed GROUP BY src, dst"
    )
    outcomes = (
        f"{states} SELECT last, place, SUM(total_conversions) AS conversions, "
        "SUM(total_conversion_value) AS value FROM lst GROUP BY last, place"
    )
    return edges, outcomes


def channel_set_counts_sql(paths: str, touches: str, dialect: str) -> str:
    """Channel sets as bitmasks (bit ``c`` = channel code ``c``) with their totals per place.

    Columns ``mask, place, journeys, conversions, value`` (``journeys`` = conversions + nulls).
    """
    return (
        f"WITH m AS (SELECT rid, bit_or({bit('code', dialect)}) AS mask FROM {touches} GROUP BY rid) "
        "SELECT COALESCE(m.mask, 0) AS mask, p.place, SUM(p.total_conversions + p.total_null) AS journeys, "
        "SUM(p.total_conversions) AS conversions, SUM(p.total_conversion_value) AS value "
        f"FROM {paths} AS p LEFT JOIN m ON m.rid = p.rid GROUP BY COALESCE(m.mask, 0), p.place"
    )


def _num(x: float) -> str:
    return f"CAST({float(x)!r} AS DOUBLE)"


def rule_weight_sql(rule: str, params: dict) -> tuple[str, str]:
    """(window columns, weight expression) of a rule model over :func:`path_touches_sql` rows.

    Rules: ``first_touch``, ``last_touch``, ``linear``, ``position_based`` (``first``,
    ``last``), ``last_non_direct`` (``direct_codes``: list of int), ``time_decay``
    (``half_life_ns``, ``age_step_ns``). The weights equal the Python models' (see
    :mod:`attribution.models.rules`).
    """
    if rule == "first_touch":
        return "", "CASE WHEN pos = 0 THEN 1.0 ELSE 0.0 END"
    if rule == "last_touch":
        return "", "CASE WHEN pos = n - 1 THEN 1.0 ELSE 0.0 END"
    if rule == "linear":
        return "", "1.0 / CAST(n AS DOUBLE)"
    if rule == "position_based":
        f, l_ = float(params["first"]), float(params["last"])
        m = max(0.0, 1.0 - f - l_)
        fl = f + l_
        two_first, two_last = (f / fl, l_ / fl) if fl > 0 else (0.5, 0.5)
        w = (
            f"CASE WHEN n = 1 THEN 1.0 WHEN n = 2 AND pos = 0 THEN {_num(two_first)} "
            f"WHEN n = 2 THEN {_num(two_last)} WHEN pos = 0 THEN {_num(f)} WHEN pos = n - 1 THEN {_num(l_)} "
            f"ELSE {_num(m)} / CAST(n - 2 AS DOUBLE) END"
        )
        return "", w
    if rule == "last_non_direct":
        codes = [int(c) for c in params["direct_codes"]]
        non_direct = f"code NOT IN ({', '.join(map(str, codes))})" if codes else "TRUE"
        win = f", MAX(CASE WHEN {non_direct} THEN pos END) OVER (PARTITION BY rid) AS lnd"
        return win, "CASE WHEN pos = COALESCE(lnd, n - 1) THEN 1.0 ELSE 0.0 END"
    if rule == "time_decay":
        step, H = int(params["age_step_ns"]), float(params["half_life_ns"])
        # ages from the journey's last touch (the youngest), as TimeDecay measures them
        win = ", MIN(age) OVER (PARTITION BY rid) AS min_age"
        raw = f"power(2.0, -CAST((age - min_age) * {step} AS DOUBLE) / {_num(H)})"
        return win, f"{raw} / SUM({raw}) OVER (PARTITION BY rid)"
    raise ValueError(f"No SQL weights for rule {rule!r}.")


def rule_credits_sql(paths: str, touches: str, rule: str, params: dict, click_codes=None) -> str:
    """Credit per channel code and place: ``code, place, conversions, value`` (touched journeys only).

    ``click_codes`` (type codes of click-class touches): the rule runs with click priority,
    on :func:`click_priority_touches_sql`.
    """
    win, weight = rule_weight_sql(rule, params)
    if click_codes is not None:
        touches = f"({click_priority_touches_sql(touches, click_codes, rule == 'time_decay')}) AS cp"
    # the window columns (last non-direct position, youngest age) one level below the weight
    inner = f"SELECT rid, code, {weight} AS w FROM (SELECT *{win} FROM {touches}) AS a"
    return (
        "SELECT w.code, p.place, SUM(w.w * p.total_conversions) AS conversions, "
        f"SUM(w.w * p.total_conversion_value) AS value FROM ({inner}) AS w JOIN {paths} AS p ON p.rid = w.rid "
        "GROUP BY w.code, p.place"
    )
