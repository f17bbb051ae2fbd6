"""Seg2Sat's palette, snapping and example sketches: no model, no Gradio."""

import numpy as np
import pytest
from PIL import Image

from spaces.seg2sat import palette
from spaces.seg2sat.examples import CREDIT, EXAMPLES

# docs/models.md's table, which must match what the ControlNet was trained on.
FLAIR_TABLE = [
    (1, "building", "bâtiment", "#db0e9a"),
    (2, "pervious surface", "zone perméable", "#938e7b"),
    (3, "impervious surface", "zone imperméable", "#f80c00"),
    (4, "bare soil", "sol nu", "#a97101"),
    (5, "water", "eau", "#1553ae"),
    (6, "coniferous", "conifère", "#194a26"),
    (7, "deciduous", "feuillu", "#46e483"),
    (8, "brushwood", "broussaille", "#f3a60d"),
    (9, "vineyard", "vigne", "#660082"),
    (10, "herbaceous vegetation", "surface herbacée", "#55ff00"),
    (11, "agricultural land", "culture", "#fff30d"),
    (12, "plowed land", "terre labourée", "#e4df7c"),
    (13, "swimming pool", "piscine", "#3de6eb"),
    (14, "snow", "neige", "#ffffff"),
    (15, "clear cut", "coupe", "#8ab3a0"),
    (16, "mixed", "mixte", "#6b714f"),
    (17, "ligneous", "ligneux", "#c5dc42"),
    (18, "greenhouse", "serre", "#9999ff"),
    (19, "other", "indéterminé", "#000000"),
]
PALETTE = {land_cover.rgb for land_cover in palette.FLAIR_CLASSES}
DECIDUOUS = (0x46, 0xE4, 0x83)


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    return {
        tuple(int(v) for v in colour) for colour in np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)
    }


def test_the_palette_is_flair_exactly():
    assert [(c.number, c.english, c.french, c.hex) for c in palette.FLAIR_CLASSES] == FLAIR_TABLE
    assert [c.number for c in palette.DRAWING_CLASSES] == list(range(1, 17))
    assert palette.BACKGROUND_CLASS.rgb == DECIDUOUS
    assert colours(palette.blank_sketch(32)) == {DECIDUOUS}


def test_snapping_leaves_only_palette_colours_and_keeps_exact_ones():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8)
    exact = np.array([c.rgb for c in palette.FLAIR_CLASSES], dtype=np.uint8)
    noise[0, :19] = exact  # a row of every palette colour among the noise
    snapped = np.asarray(palette.snap_to_palette(Image.fromarray(noise)))
    assert colours(Image.fromarray(snapped)) <= PALETTE
    assert (snapped[0, :19] == exact).all()
    already_clean = Image.fromarray(snapped)
    assert (np.asarray(palette.snap_to_palette(already_clean)) == snapped).all()


@pytest.mark.parametrize(
    "near, expected",
    [((69, 229, 132), "deciduous"), ((250, 250, 250), "snow"), ((20, 80, 170), "water"), ((10, 10, 10), "other")],
)
def test_snapping_takes_the_nearest_class(near, expected):
    snapped = palette.snap_to_palette(Image.new("RGB", (2, 2), near))
    assert colours(snapped) == {palette.CLASS_BY_ENGLISH_NAME[expected].rgb}


def test_transparency_becomes_the_background_class():
    picture = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # what a cleared canvas sends: black under alpha 0
    picture.paste((0x15, 0x53, 0xAE, 255), (0, 0, 32, 64))  # water on the left half
    prepared = palette.prepare_sketch(picture, 64)
    assert prepared.transparent and not prepared.cropped
    pixels = np.asarray(prepared.image)
    assert tuple(pixels[10, 10]) == (0x15, 0x53, 0xAE) and tuple(pixels[10, 50]) == DECIDUOUS


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "CMYK", "I;16"])
def test_any_image_mode_gives_palette_colours(mode):
    gradient = Image.linear_gradient("L").resize((40, 40))
    prepared = palette.prepare_sketch(gradient.convert(mode), 64)
    assert prepared.image.mode == "RGB" and prepared.image.size == (64, 64)
    assert colours(prepared.image) <= PALETTE


@pytest.mark.parametrize("size, cropped", [((3, 3), False), ((64, 64), False), ((1500, 900), True), ((20, 700), True)])
def test_any_size_gives_a_square_of_the_asked_size(size, cropped):
    picture = Image.new("RGB", size, (0xDB, 0x0E, 0x9A))
    picture.paste((0x15, 0x53, 0xAE), (0, 0, size[0] // 2, size[1]))
    prepared = palette.prepare_sketch(picture, 64)
    assert prepared.image.size == (64, 64) and prepared.cropped == cropped and prepared.original_size == size
    assert colours(prepared.image) <= PALETTE  # nearest-neighbour: no in-between colours


def test_off_palette_pixels_are_counted_but_browser_rounding_is_not():
    picture = Image.new("RGB", (10, 10), (0x47, 0xE5, 0x82))  # deciduous, one level off, as browsers draw it
    assert palette.prepare_sketch(picture, 10).off_palette_fraction == 0
    picture.paste((128, 128, 128), (0, 0, 10, 1))  # one row of grey: a smoothed edge
    assert palette.prepare_sketch(picture, 10).off_palette_fraction == pytest.approx(0.1)


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(palette.NotAnImage):
        palette.open_image(str(text))
    truncated = tmp_path / "truncated.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "full.png")
    truncated.write_bytes((tmp_path / "full.png").read_bytes()[:60])
    with pytest.raises(palette.NotAnImage):
        palette.open_image(str(truncated))


def test_a_huge_image_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(palette, "MAX_INPUT_PIXELS", 100 * 100)
    Image.new("RGB", (101, 100)).save(tmp_path / "big.png")
    with pytest.raises(palette.NotAnImage, match="too large"):
        palette.open_image(str(tmp_path / "big.png"))


def test_class_shares():
    picture = Image.new("RGB", (4, 4), DECIDUOUS)
    picture.paste(palette.CLASS_BY_ENGLISH_NAME["building"].rgb, (0, 0, 1, 4))
    shares = [(land_cover.english, share) for land_cover, share in palette.class_shares(picture)]
    assert shares == [("deciduous", 0.75), ("building", 0.25)]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Image générée d'après une carte : feuillu 60 %, eau 39 %, bâtiment 1 %"),
        ("en", "Image generated from a map: deciduous 60%, water 39%, building 1%"),
    ],
)
def test_a_generated_images_alt_says_its_map(language, said):
    """RGAA 1.3: an image made from a map is said by that map's classes, largest first; a class
    under half a percent is left out (a stray pixel says nothing)."""
    from spaces.seg2sat import views

    picture = Image.new("RGB", (100, 100), DECIDUOUS)
    picture.paste(palette.CLASS_BY_ENGLISH_NAME["water"].rgb, (0, 0, 39, 100))
    picture.paste(palette.CLASS_BY_ENGLISH_NAME["building"].rgb, (99, 0, 100, 100))
    picture.paste(palette.CLASS_BY_ENGLISH_NAME["snow"].rgb, (98, 0, 99, 10))  # 0.1 %
    assert views.map_alt("seg2sat_image_alt", picture, language) == said


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "fr",
            "Une photo aérienne mêlée de bruit à l'étape t = 0 : elle garde 100,0 % de sa variance, le bruit en fait 0,0 %",
        ),
        (
            "en",
            "An aerial photo mixed with noise at step t = 0: it keeps 100.0 % of its variance, the noise makes 0.0 %",
        ),
    ],
)
def test_the_noised_images_alt_says_its_step_and_shares(language, said):
    from spaces.seg2sat import views

    assert views.noised_alt(0, language) == said


def test_the_examples_are_real_flair_pairs_light_enough_for_a_phone():
    assert [example.town for example in EXAMPLES] == [
        "Mourenx",
        "Mulhouse",
        "Saint-Cyr-sur-Mer",
        "Cogolin",
        "La Roche-sur-Yon",
    ]
    photo_bytes = 0
    for example in EXAMPLES:
        mask, photo = Image.open(example.path), Image.open(example.photo_path)
        assert mask.size == photo.size == (512, 512) and photo.mode == "RGB", example.name
        assert colours(mask) <= PALETTE, example.name
        assert len(palette.class_shares(mask)) >= 5, f"{example.name} should show several classes"
        assert example.place.endswith("France") and example.town in example.place
        photo_bytes += example.photo_path.stat().st_size
    assert photo_bytes < 300_000  # « a few hundred KB in all »: WebP, where the PNGs are 2.3 MB
    assert CREDIT == "IGN – FLAIR"
