"""Export the trained track vectors of a data home as a float32 ``.npy`` for bench_vectors.

``bench_vectors.py`` measures HNSW recall on real embeddings, not random ones: this reads the
vectors ``wavelength train`` stored (through the ``VectorStore`` interface, so from either
backend) in catalog order.

    WAVELENGTH_DATA_HOME=/tmp/wl-real python benchmarks/export_vectors.py text out/text-384.npy
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import select

    from storage.db import open_database
    from storage.models import TrackRow
    from vectorstore import CollectionName, VectorName
    from wavelength.components import open_vector_store
    from wavelength.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("space", choices=[v.value for v in VectorName])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)

    settings = Settings()
    engine = open_database(settings.database_url)
    with engine.connect() as conn:
        ids = list(conn.scalars(select(TrackRow.id).order_by(TrackRow.id)))
    store = open_vector_store(settings)
    rows: list[np.ndarray] = []
    try:
        for start in range(0, len(ids), 2048):
            chunk = ids[start : start + 2048]
            found = store.vectors(CollectionName.TRACKS, chunk, using=VectorName(args.space))
            rows.extend(found[i] for i in chunk if i in found)
    finally:
        store.close()
    if not rows:
        print(f"no {args.space} vectors in {settings.vector_dir}: run `wavelength train`")
        return 1
    matrix = np.stack(rows).astype(np.float32)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, matrix)
    print(f"wrote {matrix.shape[0]:,} x {matrix.shape[1]} {args.space} vectors to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
