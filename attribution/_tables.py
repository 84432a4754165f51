"""Reading a table from a file by its extension (CSV, TSV, Parquet, newline-delimited JSON).

Used by :meth:`Journeys.from_events` (file paths as inputs) and by the warehouse importers of
:mod:`attribution.io`; it imports nothing of the package, so both can use it.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pandas as pd


_GLOB_CHARS = ("*", "?", "[")
_SKIP = ("_", ".")  # _SUCCESS, _committed_*, .crc files in export folders


def source_files(data, what: str) -> list[Path] | None:
    """The files of a glob (``"export/events_*.parquet"``, ``"**"`` recursive), a list of paths, or a
    folder of CSV / TSV / NDJSON files, in name order; None for one file (or a Parquet folder,
    which Arrow reads as a dataset)."""
    if isinstance(data, (list, tuple)):
        files = [Path(p) for p in data]
    else:
        text = os.fspath(data)
        if any(c in text for c in _GLOB_CHARS):
            files = [Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file()]
            if not files:
                raise FileNotFoundError(f"{what}: no file matches {text!r}.")
        elif Path(text).is_dir():
            files = sorted(p for p in Path(text).iterdir() if p.is_file() and not p.name.startswith(_SKIP))
            if files and all(_base(p).endswith((".parquet", ".pq")) for p in files):
                return None  # a Parquet dataset folder: Arrow reads it
            if not files:
                raise FileNotFoundError(f"{what}: the folder {text!r} holds no data file.")
        else:
            return None
    for p in files:
        if not p.exists():
            raise FileNotFoundError(f"{what}: no such file {str(p)!r}.")
    kinds = {_kind(p) for p in files}
    if len(kinds) > 1:
        raise ValueError(f"{what}: the files mix formats ({sorted(kinds)}); give files of one format.")
    return files


def _base(p: Path) -> str:
    name = p.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _kind(p: Path) -> str:
    base = _base(p)
    for kind, ends in (("parquet", (".parquet", ".pq")), ("json", (".json", ".jsonl", ".ndjson")),
                       ("tsv", (".tsv", ".tab")), ("csv", (".csv",))):
        if base.endswith(ends):
            return kind
    return "other"


def _literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _duckdb():
    """The duckdb module when installed (globs of files are then read through DuckDB), else None."""
    try:
        import duckdb
    except ImportError:
        return None
    return duckdb


def read_files(files: list[Path], what: str, *, sep: str | None = None, header="infer", names=None, columns=None,
               id_columns=(), engine: str = "auto") -> pd.DataFrame:
    """Several files of one format as one table, rows in file order then row order.

    With ``engine="auto"`` they go through DuckDB when it is installed (one scan of all the
    files, schemas united by column name), else through pandas / Arrow file by file. Both give
    the same table as reading the files one by one and concatenating them.
    """
    duckdb = _duckdb() if engine in ("auto", "duckdb") else None
    if engine == "duckdb" and duckdb is None:
        raise ImportError('Reading files through DuckDB needs duckdb: pip install "attribution[duckdb]".')
    kind = _kind(files[0])
    if duckdb is not None and kind in ("parquet", "json", "csv", "tsv"):
        lst = "[" + ", ".join(_literal(str(p)) for p in files) + "]"
        if kind == "parquet":
            body = f"read_parquet({lst}, union_by_name = true)"
        elif kind == "json":
            body = f"read_ndjson_auto({lst}, union_by_name = true)"
        else:
            delim = "\t" if (kind == "tsv" or sep == "\t") else (sep or ",")
            opts = [f"delim = {_literal(delim)}", "union_by_name = true"]
            if kind == "tsv" or sep == "\t":  # the pandas branch reads TSV as text, no quoting
                opts += ["all_varchar = true", "quote = ''", "escape = ''"]
            if header is None:
                opts.append("header = false")
                if names is not None:
                    opts.remove("union_by_name = true")
                    opts.append("names = [" + ", ".join(_literal(n) for n in names) + "]")
            else:
                opts.append("header = true")
            body = f"read_csv({lst}, {', '.join(opts)})"
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET preserve_insertion_order = true")
            if kind == "csv" and id_columns and header is not None:  # ids as text, like pandas' dtype=str
                present = set(con.sql(f"SELECT * FROM read_csv({lst}, header = true, union_by_name = true) "
                                      "LIMIT 0").columns)
                ids = [c for c in id_columns if c in present]
                if ids:
                    body = body[:-1] + ", types = {" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in ids) + "})"
            table = con.sql(f"SELECT * FROM {body}").arrow()
        finally:
            con.close()
        if hasattr(table, "read_all"):  # DuckDB >= 1.4 returns a record batch reader
            table = table.read_all()
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        frame = _arrow_to_frame(table)
        if kind in ("csv", "tsv") and (kind == "tsv" or sep == "\t"):
            frame = frame.astype(object).where(frame.notna(), np.nan)
        return frame
    parts = [read_table(p, what, sep=sep, header=header, names=names, columns=columns, id_columns=id_columns)
             for p in files]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def read_table(data, what: str, *, sep: str | None = None, header="infer", names=None, columns=None,
               id_columns=()):
    """A DataFrame, or a file read by its extension: .csv, .tsv, .parquet (also folders of
    Parquet files), .json / .jsonl / .ndjson (newline-delimited), each optionally .gz.
    ``id_columns`` are read from CSV as strings (an id like ``1000.1700000000`` must not
    become the float 1000.17).

    A glob (``"export/events_*.parquet"``), a list of paths or a folder of files is read as one
    table (:func:`read_files`: through DuckDB when installed, else file by file)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        return read_files(source_files(data, what), what, sep=sep, header=header, names=names, columns=columns,
                          id_columns=id_columns)
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(f"{what} must be a DataFrame or a file path. Got {type(data).__name__} instead.")
    files = source_files(data, what)
    if files is not None:
        return read_files(files, what, sep=sep, header=header, names=names, columns=columns, id_columns=id_columns)
    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"{what}: no such file {str(path)!r}.")
    name = path.name.lower()
    base = name[:-3] if name.endswith(".gz") else name
    if path.is_dir() or base.endswith(".parquet") or base.endswith(".pq"):
        import pyarrow.parquet as pq

        return _arrow_to_frame(pq.read_table(path, columns=columns))
    if base.endswith((".json", ".jsonl", ".ndjson")):
        import pyarrow.json as pj

        if name.endswith(".gz"):
            import gzip
            import io

            with gzip.open(path, "rb") as fh:
                table = pj.read_json(io.BytesIO(fh.read()))
        else:
            table = pj.read_json(path)
        return _arrow_to_frame(table)
    if base.endswith((".tsv", ".tab")) or sep == "\t":
        return pd.read_csv(path, sep="\t", header=header, names=names, dtype=str, keep_default_na=False,
                           na_values=[""], quoting=3)
    if base.endswith(".csv") or sep is not None:
        return pd.read_csv(path, sep=sep or ",", header=header, names=names, low_memory=False,
                           dtype={c: str for c in id_columns})
    raise ValueError(
        f"{what}: cannot tell the format of {str(path)!r} from its extension. Use .csv, .tsv, "
        ".parquet, .json/.jsonl/.ndjson (optionally .gz), or read it into a DataFrame first."
    )


def _arrow_to_frame(table) -> pd.DataFrame:
    """Arrow table -> DataFrame with nested structs flattened to dotted column names
    (``ecommerce.purchase_revenue``); list columns (GA4 ``event_params``) stay as arrow-backed
    lists so :func:`unnest_params` can read them without a Python loop."""
    import pyarrow as pa

    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    frame = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            frame[name] = pd.Series(pd.arrays.ArrowExtensionArray(col))
        else:
            frame[name] = col.to_pandas()
    return pd.DataFrame(frame)
