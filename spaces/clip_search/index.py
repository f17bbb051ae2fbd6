"""Index a folder of images for the image search, from the command line (like rclip or clip-retrieval).

    python -m spaces.clip_search.index DIR                 # index DIR (recursively), then say what changed
    python -m spaces.clip_search.index DIR --query "forêt"  # ...and search it
    python -m spaces.clip_search.index --gallery            # fetch and index the hub's default gallery

The index goes to DIR/.clip-search-index (or --index PATH), where the hub finds it when
IAGEN_CLIP_GALLERY=DIR. A second run re-embeds only new or changed files, an interrupted run
resumes, and a file that cannot be read is skipped and listed at the end (the work is
spaces/clip_search/indexing.py's, shared with the hub's gallery). The encoder is the hub's
(IAGEN_CLIP_MODEL), and an index built by another encoder is refused unless --rebuild.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from spaces.clip_search.collection import EncoderMismatch
from spaces.clip_search.indexing import BATCH_SIZE, INDEX_FOLDER, index_folder


def print_hits(hits: Iterable) -> None:
    for rank, hit in enumerate(hits, start=1):
        caption = hit.item.caption if hit.item.caption != hit.item.key else ""
        print(f"{rank:3d}. {hit.score:.3f}  {hit.item.path}  {caption}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, help="folder of images to index (recursively)")
    parser.add_argument("--index", type=Path, help=f"where the index goes (default: FOLDER/{INDEX_FOLDER})")
    parser.add_argument("--rebuild", action="store_true", help="start again, e.g. after changing the encoder")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--query", help="a text to search for once the index is up to date")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument(
        "--gallery",
        action="store_true",
        help="fetch and index the hub's default gallery (IAGEN_CLIP_GALLERY) instead of FOLDER",
    )
    arguments = parser.parse_args(argv)
    if (arguments.folder is None) == (not arguments.gallery):
        parser.error("give a FOLDER, or --gallery")
    if arguments.folder is not None and not arguments.folder.is_dir():
        parser.error(f"{arguments.folder} is not a folder")

    from shared.settings import SettingsError, apply_process_settings, load_settings

    try:
        settings = load_settings([])
    except SettingsError as error:
        parser.error(str(error))
    apply_process_settings(settings)
    from tqdm import tqdm

    from shared.hub import Hub
    from shared.weights import WeightsUnavailable
    from spaces.clip_search.encoder import EncoderSettingError, get_encoder
    from spaces.clip_search.gallery import GalleryUnavailable, build_base
    from spaces.clip_search.vector_index import set_threads

    hub = Hub(settings)
    set_threads(settings.torch_threads)
    try:
        encoder = get_encoder(hub)
        print(f"encoder: {encoder.identity.describe()}")
        if arguments.gallery:
            with tqdm(unit="image", desc="gallery") as bar:

                def show(done: int, total: int, stage: str) -> None:
                    bar.total, bar.n = total, done
                    bar.set_description(stage)
                    bar.refresh()

                collection, unreadable = build_base(hub, encoder, show)
            print(f"{len(collection)} images in the gallery ({collection.folder}); {len(unreadable)} unreadable")
            return 0
        with tqdm(unit="image", desc=str(arguments.folder)) as bar:

            def show_progress(done: int, total: int) -> None:
                bar.total, bar.n = total, done
                bar.refresh()

            report = index_folder(
                arguments.folder, encoder, arguments.index, arguments.rebuild, arguments.batch_size, show_progress
            )
    except (WeightsUnavailable, EncoderSettingError, EncoderMismatch, GalleryUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    for name, why in report.unreadable:
        print(f"  skipped {name}: {why}")
    if arguments.query:
        query = encoder.prepare_query(arguments.query)
        if query.truncated:
            print(f"(query truncated to the text context: {query.kept!r})")
        print_hits(report.collection.search(encoder.encode_texts([query.text])[0], arguments.top_k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
