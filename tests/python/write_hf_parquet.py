"""Writes Parquet files the way Hugging Face `datasets` does (pyarrow, one table per shard), for
rlxf-data's Parquet loader tests.

Usage: write_hf_parquet.py OUT_DIR
Creates OUT_DIR/data/train-00000-of-00002.parquet (snappy, two row groups) and
OUT_DIR/data/train-00001-of-00002.parquet (zstd), with columns of every type the loader maps:
string, large_string, int64, float64, bool, list<string>, and a chat `messages` list<struct<role, content>>.
Row 2 of the second shard has a null `problem` (a bad row the loader must report).
"""
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("problem", pa.string()),
        ("solution", pa.large_string()),
        ("answer", pa.int64()),
        ("difficulty", pa.float64()),
        ("verified", pa.bool_()),
        ("tags", pa.list_(pa.string())),
        (
            "messages",
            pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
        ),
    ]
)


def rows(start, count):
    out = []
    for i in range(start, start + count):
        out.append(
            {
                "problem": f"What is {i} + {i}?",
                "solution": f"{i} + {i} = {2 * i}",
                "answer": 2 * i,
                "difficulty": i / 4,
                "verified": i % 2 == 0,
                "tags": ["arithmetic", f"n{i}"],
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": f"What is {i} + {i}?"},
                ],
            }
        )
    return out


def main():
    data = Path(sys.argv[1]) / "data"
    data.mkdir(parents=True, exist_ok=True)
    first = pa.Table.from_pylist(rows(0, 4), schema=SCHEMA)
    pq.write_table(first, data / "train-00000-of-00002.parquet", row_group_size=2, compression="snappy")
    second_rows = rows(4, 3)
    second_rows[1]["problem"] = None
    second = pa.Table.from_pylist(second_rows, schema=SCHEMA)
    pq.write_table(second, data / "train-00001-of-00002.parquet", compression="zstd")


if __name__ == "__main__":
    main()
