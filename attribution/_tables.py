"""Reading a table from a file by its extension (CSV, TSV, Parquet, newline-delimited JSON).

Used by :meth:`Journeys.from_events` (file paths as inputs) and by the warehouse importers of
:mod:`attribution.io`; it imports nothing of the package, so both can use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def read_table(data, what: str, *, sep: str | None = None, header="infer", names=None, columns=None,
               id_columns=()):
    """A DataFrame, or a file read by its extension: .csv, .tsv, .parquet (also folders of
    Parquet files), .json / .jsonl / .ndjson (newline-delimited), each optionally .gz.
    ``id_columns`` are read from CSV as strings (an id like ``1000.1700000000`` must not
    become the float 1000.17)."""
    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(f"{what} must be a DataFrame or a file path. Got {type(data).__name__} instead.")
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
