"""The bronze files: ``DIR/movies/ingestion_date=D/movies_raw_HHMMSS.json`` + ``.parquet``.

JSON Lines (one payload a line, as Spark's JSON reader expects) and a Parquet file beside it
(``movie_id, payload (JSON text), payload_hash, ingested_at, run_id, source_flag``). The
Parquet file is written as ``.parquet.tmp`` and renamed on close, so a killed run never
leaves a half-written Parquet file under its final name.

Usage::

    bronze = BronzeWriter(Path("lake/bronze"), started, run_id)
    bronze.write(rows, ingested_at)   # per batch
    bronze.close()
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from extract.tmdb.records import SOURCE_FLAG, Row


class BronzeWriter:
    """One run's JSON Lines and Parquet files, appended batch by batch."""

    def __init__(self, base: Path, started: datetime, run_id: str):
        import pyarrow as pa

        folder = Path(base) / "movies" / f"ingestion_date={started:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"movies_raw_{started:%H%M%S}"
        if (folder / f"{stem}.json").exists() or (folder / f"{stem}.parquet").exists():
            stem = f"{stem}_{run_id[-8:]}"
        self.json_path = folder / f"{stem}.json"
        self.parquet_path = folder / f"{stem}.parquet"
        self.run_id = run_id
        self.schema = pa.schema(
            [
                ("movie_id", pa.int64()),
                ("payload", pa.string()),
                ("payload_hash", pa.string()),
                ("ingested_at", pa.timestamp("us", tz="UTC")),
                ("run_id", pa.string()),
                ("source_flag", pa.string()),
            ]
        )
        self._writer: Any = None

    def write(self, rows: list[Row], ingested_at: datetime) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not rows:
            return
        texts = [json.dumps(payload, ensure_ascii=False) for _, payload, _ in rows]
        with open(self.json_path, "a", encoding="utf-8") as fh:
            fh.writelines(t + "\n" for t in texts)
        table = pa.table(
            {
                "movie_id": [r[0] for r in rows],
                "payload": texts,
                "payload_hash": [r[2] for r in rows],
                "ingested_at": [ingested_at] * len(rows),
                "run_id": [self.run_id] * len(rows),
                "source_flag": [SOURCE_FLAG] * len(rows),
            },
            schema=self.schema,
        )
        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.parquet_path) + ".tmp", self.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            Path(str(self.parquet_path) + ".tmp").rename(self.parquet_path)
            self._writer = None
