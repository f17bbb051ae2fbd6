"""Nearest vectors with faiss: exact up to EXACT_LIMIT vectors, approximate above.

Vectors are unit length, so the inner product is the cosine similarity. Up to EXACT_LIMIT
(100 000: ~10 ms per query on one CPU core, memory-bound, next to ~100 ms for the text encoder) a
flat index compares the query with every vector. Above it, an IVF index (inverted file, flat
vectors) groups the vectors into ~sqrt(n) clusters and compares the query only with the vectors of
its `nprobe` nearest clusters. `nprobe` is calibrated at build time: the smallest that gives
recall@10 >= TARGET_RECALL against the exact search on queries drawn from the data; the measured
recall is kept with the index.

IVF rather than HNSW (benchmarks/clip_search.py measures both): HNSW answers faster on well
structured vectors (0.3 ms against 1-8 ms), but it builds ~10x slower, cannot be memory-mapped, and
its recall collapses on hard data without saying so (0.5 at efSearch 128 in our isotropic test),
where a calibrated IVF still reaches the target by scanning more lists. Next to the text
encoder's ~100 ms, a few milliseconds of search do not matter; a silent loss of recall would.

Indexes are written with faiss' own format and read memory-mapped (flat codes and IVF lists):
pages are loaded on demand and shared by every process that opens the file. A memory-mapped
index is read-only (faiss aborts the process on `add`), so updates build a new index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXACT_LIMIT = 100_000
TARGET_RECALL = 0.95
RECALL_K = 10
CALIBRATION_QUERIES = 200
NPROBE_CHOICES = (8, 16, 32, 64, 128, 256)
TRAINING_POINTS_PER_LIST = 40  # k-means needs ~39 points per centroid; more only slows training


@dataclass(frozen=True)
class IndexInfo:
    kind: str  # "flat" (exact) or "ivf" (approximate)
    nlist: int | None = None
    nprobe: int | None = None
    recall_at_10: float | None = None  # of the approximate index against the exact search

    def to_json(self) -> dict:
        return {"kind": self.kind, "nlist": self.nlist, "nprobe": self.nprobe, "recall_at_10": self.recall_at_10}

    @classmethod
    def from_json(cls, data: dict) -> IndexInfo:
        return cls(data["kind"], data.get("nlist"), data.get("nprobe"), data.get("recall_at_10"))


def set_threads(threads: int) -> None:
    import faiss

    faiss.omp_set_num_threads(threads)


def build_index(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT, seed: int = 0):
    """An index over `vectors` (n × d, float32, unit rows) and what kind it is."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = vectors.shape
    if count <= exact_limit:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, IndexInfo("flat")
    nlist = ivf_list_count(count)
    rng = np.random.default_rng(seed)
    training = vectors[np.sort(rng.choice(count, min(count, TRAINING_POINTS_PER_LIST * nlist), replace=False))]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.train(training)
    index.add(vectors)
    nprobe, recall = calibrate_nprobe(index, vectors, rng)
    index.nprobe = nprobe
    return index, IndexInfo("ivf", nlist, nprobe, recall)


def ivf_list_count(count: int) -> int:
    """About sqrt(n) lists, a power of two: 1 024 lists for 1 M vectors of ~1 000 each."""
    return int(2 ** round(np.log2(max(1.0, np.sqrt(count)))))


def calibrate_nprobe(index, vectors: np.ndarray, rng: np.random.Generator) -> tuple[int, float]:
    """The smallest nprobe reaching TARGET_RECALL on queries near stored vectors, and its recall."""
    queries = sample_queries(vectors, CALIBRATION_QUERIES, rng)
    exact = exact_neighbours(vectors, queries, RECALL_K)
    recall = 0.0
    for nprobe in NPROBE_CHOICES:
        index.nprobe = nprobe
        recall = recall_at_k(index.search(queries, RECALL_K)[1], exact)
        if recall >= TARGET_RECALL:
            break
    return index.nprobe, recall


def sample_queries(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Stored vectors nudged a little: like a query that resembles some images without being one."""
    picked = vectors[rng.choice(len(vectors), min(count, len(vectors)), replace=False)]
    noise = rng.standard_normal(picked.shape).astype(np.float32) * (0.5 / np.sqrt(vectors.shape[1]))
    queries = picked + noise
    return (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    return faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)[1]


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """The share of the true k nearest that the search found (k = exact.shape[1])."""
    k = exact.shape[1]
    return float(np.mean([len(set(row[:k]) & set(truth)) / k for row, truth in zip(found, exact, strict=True)]))


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, positions) of the k nearest, best first; positions are -1 past the index's size."""
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def write_index(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_index(path: Path, info: IndexInfo):
    """The index at `path`, memory-mapped (read-only: never add to it)."""
    import faiss

    flags = faiss.IO_FLAG_MMAP_IFC if info.kind == "flat" else faiss.IO_FLAG_MMAP
    index = faiss.read_index(str(path), flags | faiss.IO_FLAG_READ_ONLY)
    if info.nprobe:
        index.nprobe = info.nprobe
    return index
