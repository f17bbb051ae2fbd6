"""Our tokenizer logic against the bare encoder call, per encoding, on realistic mixed text.

For each encoding (r50k_base, cl100k_base, o200k_base) and each size (10 000 and 200 000
characters of French + English with accents, typographic punctuation and emoji), both sides run
warm (encoders loaded first), alternating call by call, many times; medians are printed:

* ours: `spaces.tokenizer.logic.tokenize(text, encoding)`, i.e. ids + display segments (at most
  5 000) + counts (tokens, characters, words), the work behind the /tokenize endpoint minus HTML;
* bare: the plain library call giving the same ids: `bpe_openai.get_encoding(name).encode_ordinary`
  for cl100k/o200k, `logic.build_gpt2_tokenizer().encode(text).ids` for r50k.

Reading it: ratio = ours / bare. 1.0 would mean our segments and counts cost nothing; the excess
is the price of the display (segments, word count). It is also checked that both give the same ids.

    python benchmarks/tokenizer.py [--scale 0.1] [--quick]
"""

from __future__ import annotations

import argparse
import random
import time

from common import machine_description, median, now, run_benchmark

from spaces.tokenizer import logic  # noqa: E402 (the repository root is on the path via common)

# Realistic lecture material: paragraphs students might paste, in both languages.
PARAGRAPHS = (
    "Les modèles d'IA générative découpent le texte en tokens avant de le traiter. "
    "Un token, c\u2019est souvent un morceau de mot : « aujourd\u2019hui » en donne plusieurs.",
    "Generative AI models split text into tokens before processing it. English words are "
    "usually one token each, while rarer words are cut into several pieces.",
    "L'Institut national de l'information géographique et forestière (IGN) publie des cartes, "
    "des photographies aériennes et des modèles numériques de terrain à 5 m de résolution.",
    "Ça coûte plus cher en français ? Oui : à sens égal, il faut ~20 % de tokens en plus. "
    "Élèves, étudiants et enseignants peuvent le vérifier eux-mêmes 👍🏽.",
    "The quick brown fox jumps over the lazy dog. Numbers like 3.14159, 2024-11-26 and "
    "1 000 000 € are split in surprising ways: try them!",
    "Émojis 🤖🧠✨ et drapeaux 🇫🇷🇬🇧 : un seul caractère à l'écran, plusieurs octets en UTF-8, "
    "donc souvent plusieurs tokens. La famille 👩\u200d👩\u200d👧 en compte encore davantage.",
    "« Il était une fois, dans une forêt très ancienne, un cartographe qui voulait dessiner "
    "chaque arbre. » — Début d'une histoire générée par un petit modèle de langage.",
    "Prompt: Summarise the following paragraph in one sentence.\nAnswer: Tokenization turns "
    "text into integers; the model only ever sees those integers.",
    "Naïve café owners in São Paulo, Zürich and Kraków serve crème brûlée, smørrebrød and "
    "jalapeño piñatas — accents everywhere.",
    "def tokenize(text):\n    return [ord(c) for c in text]  # un identifiant par caractère\n",
)

SIZES = (10_000, 200_000)
REPETITIONS = {10_000: 200, 200_000: 30}  # pairs of calls (ours, bare) per encoding


def mixed_text(n_chars: int, seed: int = 0) -> str:
    """Exactly n_chars characters: the paragraphs in a seeded random order, again and again."""
    rng = random.Random(seed)
    pieces, length = [], 0
    while length < n_chars:
        paragraph = rng.choice(PARAGRAPHS)
        pieces.append(paragraph + ("\n\n" if rng.random() < 0.3 else " "))
        length += len(pieces[-1])
    return "".join(pieces)[:n_chars]


def bare_encoders() -> dict[str, object]:
    """encoding name -> function(text) -> ids, the plain library calls."""
    import bpe_openai

    gpt2 = logic.build_gpt2_tokenizer()
    encoders = {"r50k_base": lambda text: gpt2.encode(text).ids}
    for name in ("cl100k_base", "o200k_base"):
        encoders[name] = bpe_openai.get_encoding(name).encode_ordinary
    return encoders


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def compare(encoding: str, bare_encode, text: str, repetitions: int) -> dict[str, float]:
    ours = logic.tokenize(text, encoding)  # warm: loads the encoder, fills caches
    bare_ids = bare_encode(text)
    if ours.ids != list(bare_ids):
        raise AssertionError(f"{encoding}: ours and the bare call disagree on the ids")
    ours_times, bare_times = [], []
    for repetition in range(repetitions):
        # Alternate which goes first so that neither always runs right after the other.
        order = ((ours_times, logic.tokenize, (text, encoding)), (bare_times, bare_encode, (text,)))
        for times, function, args in order if repetition % 2 == 0 else order[::-1]:
            times.append(timed(function, *args)[0])
    return {"tokens": ours.n_tokens, "ours_ms": median(ours_times) * 1e3, "bare_ms": median(bare_times) * 1e3}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the repetitions (0.1 for a quick look)")
    parser.add_argument("--quick", action="store_true", help="the fewest repetitions, 3 pairs (seconds)")
    args = parser.parse_args(argv)
    scale = 0.0 if args.quick else args.scale

    print(f"== Tokenizer: logic.tokenize vs the bare encoder — {now()}; {machine_description()}")
    encoders = bare_encoders()
    results = {}
    for size in SIZES:
        text = mixed_text(size)
        repetitions = max(3, round(REPETITIONS[size] * scale))
        print(f"  {size:,} characters, median of {repetitions} alternating pairs:")
        for encoding, bare_encode in encoders.items():
            figures = compare(encoding, bare_encode, text, repetitions)
            figures["ratio"] = figures["ours_ms"] / figures["bare_ms"]
            results[f"{encoding} {size}"] = figures
            print(
                f"    {encoding:12} {figures['tokens']:7,} tokens: ours {figures['ours_ms']:8.2f} ms, "
                f"bare {figures['bare_ms']:8.2f} ms -> ratio {figures['ratio']:.2f}x"
            )
    return results


if __name__ == "__main__":
    run_benchmark(main)
