"""Image search benchmarks, each side by side in one run, with a real-size encoder (open_clip
ViT-B-32, random weights: compute does not depend on weight values) on this machine:

1. text query latency, split into encode / search / rendering, at 10 000 and 100 000 vectors,
   against the bare text encode (open_clip tokenizer + encode_text); target: whole query <= 1.2x;
2. memory of 100 000 vectors: files, and what loading and searching them adds to the process;
3. indexing throughput of `index_folder` (hashing, decoding, thumbnails, preprocessing, encoding,
   saving) against raw batched encoding of already-preprocessed images; target >= 0.8x;
4. 1 000 000 synthetic vectors: our approximate index (IVF, nprobe calibrated at build) against the
   exact search, per query on one thread, and its recall@10 on fresh queries; target <= 10 ms at
   recall@10 >= 0.95. Two kinds of vectors: "clip-like", in groups of similar images and with most
   of their variance in a few dozen directions, as CLIP embeddings have (their intrinsic dimension
   is far below 512); and "isotropic", the same groups spread in all 512 directions, a worst case
   that no real embedding reaches. Queries are stored vectors nudged a little (an image-like query).
   --hnsw N adds HNSW at N vectors.

torch and faiss run on --threads threads (default 1, the hub's default on a 2-core machine).
--quick runs every part on small sizes, with a tiny encoder of the same CLIP code (the tests' own,
512 dimensions out; building and running ViT-B-32 took most of the run): seconds, a check that the
benchmark runs, not figures.

    python benchmarks/clip_search.py [--threads 1] [--skip-million] [--hnsw 100000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import psutil
from common import machine_description, median, mib, now, run_benchmark

DIM = 512  # ViT-B-32's embedding size
INTRINSIC_DIM = 64  # directions holding most of the variance of the "clip-like" vectors


class Sizes(NamedTuple):
    latency_vectors: tuple[int, ...]  # collection sizes of the text query's latency
    latency_rounds: int
    memory_vectors: int
    indexed_images: int
    index_batch: int
    index_vectors: int  # the approximate index against the exact search
    index_queries: int


FULL = Sizes((10_000, 100_000), 15, 100_000, 96, 32, 1_000_000, 200)
# Every part on small sizes, for the tests: seconds, to show the benchmark runs (figures meaningless).
QUICK = Sizes((1_000,), 3, 5_000, 8, 4, 20_000, 20)

QUERIES = (
    "Clairière entourée de forêt",
    "Un lotissement avec des piscines",
    "Une rivière qui traverse des champs",
    "A clearing surrounded by forest",
    "Des vignes sur une colline, au bord d'une route départementale",
)


def clustered_vectors(count: int, seed: int = 0, kind: str = "clip-like", chunk: int = 200_000) -> np.ndarray:
    """Unit vectors in groups of ~100 around random centres (built by chunks: 1 M × 512 is 2 GB).
    clip-like: centres and spread in an INTRINSIC_DIM-dimensional subspace, plus a small residual in
    all directions; isotropic: centres and spread in all DIM directions."""
    rng = np.random.default_rng(seed)
    rank = INTRINSIC_DIM if kind == "clip-like" else DIM
    basis = np.linalg.qr(rng.standard_normal((DIM, rank)))[0].T.astype(np.float32)  # rank × DIM, orthonormal
    centres = rng.standard_normal((max(10, count // 100), rank), dtype=np.float32)
    vectors = np.empty((count, DIM), dtype=np.float32)
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        coefficients = centres[rng.integers(0, len(centres), stop - start)]
        coefficients += (0.6 if kind == "clip-like" else 0.9) * rng.standard_normal(
            coefficients.shape, dtype=np.float32
        )
        block = coefficients @ basis
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        if kind == "clip-like":
            block += 0.25 / np.sqrt(DIM) * rng.standard_normal(block.shape, dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:stop] = block
    return vectors


def vit_b_32_encoder(tiny: bool = False):
    """Our ClipEncoder around open_clip's ViT-B-32 with random weights (no download); `tiny`: around
    the tests' tiny CLIP (tests/clip_search_fixtures.py), with DIM dimensions out as ViT-B-32's."""
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    from spaces.clip_search.encoder import ClipEncoder, EncoderIdentity

    if tiny:
        from clip_search_fixtures import PREPROCESS_CFG, TINY_MODEL_CFG

        model = open_clip.factory.CLIP(**{**TINY_MODEL_CFG, "embed_dim": DIM}).eval().requires_grad_(False)
        preprocess_cfg = PreprocessCfg(size=TINY_MODEL_CFG["vision_cfg"]["image_size"], **PREPROCESS_CFG)
        name = "tiny CLIP (random weights)"
    else:
        model = open_clip.create_model("ViT-B-32", pretrained=None).eval().requires_grad_(False)
        preprocess_cfg = PreprocessCfg(**model.visual.preprocess_cfg)
        name = "ViT-B-32 (random weights)"
    preprocess = image_transform_v2(preprocess_cfg, is_train=False)
    identity = EncoderIdentity(name, "0" * 64, DIM)
    return ClipEncoder(
        model, preprocess, open_clip.get_tokenizer("ViT-B-32"), identity, torch.device("cpu"), torch.float32
    )


def timed(function, *arguments):
    started = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - started


def text_query_latency(encoder, sizes: tuple[int, ...], rounds: int) -> dict:
    """Per size: medians of bare encode, and of our encode / search / render, and their ratio."""
    import torch

    from spaces.clip_search.collection import Collection, Item
    from spaces.clip_search.gallery import Result
    from spaces.clip_search.render import result_grid_value, status_html

    tokenizer, model = encoder.tokenizer, encoder.model

    def bare_encode(text: str):
        with torch.inference_mode():
            return model.encode_text(tokenizer([text]))

    results = {}
    with tempfile.TemporaryDirectory(prefix="clip-bench-") as scratch:
        thumbnail = Path(scratch) / "thumbnail.jpg"
        for size in sizes:
            items = [
                Item(
                    f"image{i}.jpg",
                    f"/photos/image{i}.jpg",
                    f"Aerial view of place {i}. deciduous, building",
                    "folder",
                    f"{i:064x}",
                    "thumbnail.jpg",
                )
                for i in range(size)
            ]
            Collection(encoder.identity, items, clustered_vectors(size, seed=size)).save(Path(scratch) / str(size))
            collection = Collection.load(Path(scratch) / str(size), encoder.identity)  # memory-mapped, as served
            bare_encode(QUERIES[0])
            collection.search(encoder.encode_texts([QUERIES[0]])[0], 12)
            timings = {"bare": [], "encode": [], "search": [], "render": [], "whole": []}
            for round_number in range(rounds):
                text = QUERIES[round_number % len(QUERIES)]
                timings["bare"].append(timed(bare_encode, text)[1])
                started = time.perf_counter()
                query = encoder.prepare_query(text)
                vector = encoder.encode_texts([query.text])[0]
                encoded = time.perf_counter()
                hits = collection.search(vector, 12)
                searched = time.perf_counter()
                found = [Result(hit.score, hit.item, thumbnail) for hit in hits]
                result_grid_value(found, "fr"), status_html([f"Pour « {text} » :", "12 images"], [])
                rendered = time.perf_counter()
                timings["encode"].append(encoded - started)
                timings["search"].append(searched - encoded)
                timings["render"].append(rendered - searched)
                timings["whole"].append(rendered - started)
            figures = {f"{name}_ms": median(values) * 1e3 for name, values in timings.items()}
            figures["ratio"] = figures["whole_ms"] / figures["bare_ms"]
            results[size] = figures
            print(
                f"  {size:>7,} vectors: bare encode {figures['bare_ms']:6.1f} ms | ours: encode {figures['encode_ms']:6.1f} "
                f"+ search {figures['search_ms']:5.2f} + render {figures['render_ms']:5.2f} = {figures['whole_ms']:6.1f} ms "
                f"-> {figures['ratio']:.2f}x (target <= 1.2x)"
            )
            del collection
            gc.collect()
    return results


def memory_of_vectors(encoder, count: int) -> dict:
    from spaces.clip_search.collection import Collection, Item, read_current

    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="clip-bench-") as scratch:
        folder = Path(scratch) / "index"
        items = [
            Item(
                f"photos/2024/image{i:06d}.jpg",
                f"/data/photos/2024/image{i:06d}.jpg",
                f"Aerial view of place {i}. deciduous, building",
                "folder",
                f"{i:064x}",
                f"thumbnails/{i:064x}.jpg",
                250_000,
                1_700_000_000_000_000_000,
            )
            for i in range(count)
        ]
        Collection(encoder.identity, items, clustered_vectors(count)).save(folder)
        del items
        gc.collect()
        version = read_current(folder)
        files = {path.name: path.stat().st_size for path in version.iterdir()}
        before = process.memory_info().rss
        collection, load_s = timed(Collection.load, folder, encoder.identity)
        loaded = process.memory_info().rss
        collection.search(clustered_vectors(1, seed=7)[0], 12)
        searched = process.memory_info().rss
        figures = {
            "files": files,
            "load_s": load_s,
            "rss_load_mib": (loaded - before) / 2**20,
            "rss_search_mib": (searched - before) / 2**20,
        }
    print(
        f"  files: index.faiss {mib(files['index.faiss'])}, vectors.npy {mib(files['vectors.npy'])}, "
        f"items.json {mib(files['items.json'])}; load {load_s:.2f} s"
    )
    print(
        f"  process RSS: +{figures['rss_load_mib']:.0f} MiB once loaded (metadata; vectors and index are "
        f"memory-mapped), +{figures['rss_search_mib']:.0f} MiB after a search (the exact index's pages, shared "
        "with other processes through the page cache)"
    )
    return figures


def indexing_throughput(encoder, count: int, batch_size: int) -> dict:
    from PIL import Image

    from spaces.clip_search.index import index_folder

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="clip-bench-") as scratch:
        photos = Path(scratch) / "photos"
        photos.mkdir()
        images = []
        for number in range(count):  # FLAIR-sized patches: 512 × 512 JPEG
            pixels = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
            image = Image.fromarray(pixels).resize((512, 512), Image.Resampling.BICUBIC)
            image.save(photos / f"patch_{number:04d}.jpg", quality=90)
            images.append(image)
        batches = [
            encoder.preprocess_images(images[start : start + batch_size]) for start in range(0, count, batch_size)
        ]
        encoder.encode_pixels(batches[0][:4])  # warm
        _, raw_s = timed(lambda: [encoder.encode_pixels(batch) for batch in batches])
        report, ours_s = timed(index_folder, photos, encoder, Path(scratch) / "index", False, batch_size)
        assert len(report.collection) == count
    raw, ours = count / raw_s, count / ours_s
    print(
        f"  {count} images of 512 px, batches of {batch_size}: raw encode_image {raw:.1f} images/s | "
        f"index_folder {ours:.1f} images/s -> {ours / raw:.2f}x (target >= 0.8x)"
    )
    return {"raw_per_s": raw, "ours_per_s": ours, "ratio": ours / raw}


def million_vectors(kind: str, count: int, queries: int) -> dict:
    from spaces.clip_search import vector_index

    vectors, make_s = timed(clustered_vectors, count, 0, kind)
    rng = np.random.default_rng(123)
    probe = vector_index.sample_queries(vectors, queries, rng)  # fresh: not the calibration queries
    exact_ids = vector_index.exact_neighbours(vectors, probe, 10)
    exact_one = [timed(vector_index.exact_neighbours, vectors, probe[i : i + 1], 10)[1] for i in range(10)]
    # IVF whatever the count: the automatic choice at 1 M vectors, and --quick's count is below EXACT_LIMIT.
    (index, info), build_s = timed(vector_index.build_index, vectors, 0)
    print(
        f"  {count:,} {kind} vectors ({mib(vectors.nbytes)}, made in {make_s:.0f} s); IVF with {info.nlist} lists built "
        f"in {build_s:.0f} s, nprobe calibrated to {info.nprobe} (recall@10 {info.recall_at_10:.3f} on its own queries)"
    )
    rows = {}
    for nprobe in sorted({8, 16, 32, 64, info.nprobe}):
        index.nprobe = nprobe
        found, seconds = timed(
            lambda: np.vstack([vector_index.search(index, probe[i : i + 1], 10)[1] for i in range(queries)])
        )
        rows[nprobe] = (vector_index.recall_at_k(found, exact_ids), seconds / queries * 1e3)
        chosen = " <- calibrated" if nprobe == info.nprobe else ""
        print(f"    nprobe {nprobe:4d}: recall@10 {rows[nprobe][0]:.3f}, {rows[nprobe][1]:6.2f} ms/query{chosen}")
    recall, ivf_ms = rows[info.nprobe]
    exact_ms = median(exact_one) * 1e3
    print(
        f"  exact {exact_ms:.1f} ms/query vs IVF {ivf_ms:.2f} ms/query at recall@10 {recall:.3f} -> "
        f"{exact_ms / ivf_ms:.0f}x faster (target <= 10 ms at >= 0.95)"
    )
    return {
        "exact_ms": exact_ms,
        "ivf_ms": ivf_ms,
        "recall": recall,
        "build_s": build_s,
        "nlist": info.nlist,
        "nprobe": info.nprobe,
    }


def hnsw_comparison(count: int, queries: int = 200) -> None:
    """HNSW against IVF at `count` vectors: build time, and recall / speed per search depth."""
    import faiss

    from spaces.clip_search import vector_index

    vectors = clustered_vectors(count)
    probe = vector_index.sample_queries(vectors, queries, np.random.default_rng(5))
    exact_ids = vector_index.exact_neighbours(vectors, probe, 10)
    hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    _, build_s = timed(hnsw.add, vectors)
    print(f"  HNSW (M=32) at {count:,} vectors built in {build_s:.0f} s")
    for ef in (32, 64, 128, 256):
        hnsw.hnsw.efSearch = ef
        found, seconds = timed(lambda: np.vstack([hnsw.search(probe[i : i + 1], 10)[1] for i in range(queries)]))
        print(
            f"    efSearch {ef:4d}: recall@10 {vector_index.recall_at_k(found, exact_ids):.3f}, "
            f"{seconds / queries * 1e3:6.2f} ms/query"
        )
    (_, info), build_s = timed(vector_index.build_index, vectors, 0)
    print(
        f"  IVF at {count:,} vectors built in {build_s:.0f} s, calibrated nprobe {info.nprobe}, "
        f"recall@10 {info.recall_at_10:.3f}"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-million", action="store_true", help="skip the 1 000 000-vector part (~2 GB, minutes)")
    parser.add_argument("--hnsw", type=int, default=0, help="also compare HNSW with IVF at this many vectors")
    parser.add_argument("--quick", action="store_true", help="every part on small sizes (seconds)")
    arguments = parser.parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(arguments.threads)
    import torch

    from spaces.clip_search.vector_index import set_threads

    torch.set_num_threads(arguments.threads)
    set_threads(arguments.threads)
    print(
        f"== Image search — {now()}; {machine_description()}; torch {torch.__version__}, {arguments.threads} thread(s)"
    )
    encoder = vit_b_32_encoder(tiny=arguments.quick)
    results = {}
    print("1. Text query: encode / search / render, against the bare text encode (medians)")
    results["latency"] = text_query_latency(encoder, sizes.latency_vectors, sizes.latency_rounds)
    print(f"2. Memory of {sizes.memory_vectors:,} vectors (512 dimensions)")
    results["memory"] = memory_of_vectors(encoder, sizes.memory_vectors)
    print("3. Indexing throughput against raw batched encoding")
    results["indexing"] = indexing_throughput(encoder, sizes.indexed_images, sizes.index_batch)
    if not arguments.skip_million:
        print(
            f"4. {sizes.index_vectors:,} vectors: approximate (our automatic choice) against exact, one query at a time"
        )
        del encoder
        gc.collect()
        for kind in ("clip-like", "isotropic"):
            results[f"million {kind}"] = million_vectors(kind, sizes.index_vectors, sizes.index_queries)
            gc.collect()
    if arguments.hnsw:
        print(f"5. HNSW against IVF at {arguments.hnsw:,} vectors")
        hnsw_comparison(arguments.hnsw)
    return results


if __name__ == "__main__":
    run_benchmark(main)
