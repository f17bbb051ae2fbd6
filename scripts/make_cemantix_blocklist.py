"""Write assets/cemantix/blocklist_{fr,en}.txt: words Cémantix never picks as a secret nor shows
in a list (nearest words, hints, map, explorer, a room's words). Players may still guess them.

    .venv/bin/python scripts/make_cemantix_blocklist.py

A word of the game's candidate vocabulary (wordfreq's 50 000 most frequent, alphabetic,
lowercase) is blocked for one of these reasons, written after it in the file:

* crude: a crude, sexual or slur word from the lists below, or one of its inflected forms;
* web: web or interface noise of crawled text (« cliquez », « http ») and brand names;
* fragment: pieces of elided French words (« qu », « jusqu », « aujourd »);
* no-vowel: abbreviations and letters cut off by apostrophes (« km », « sncf », « l », « d »);
* other-language: far more frequent in the other language of the game (Zipf difference of at
  least 1.5), e.g. « the » in French: crawled French text holds a lot of English;
* adult-spam: the cluster of adult-chat, porn and dating-spam words that the crawled French
  vectors hold (« coquine », « cougar », « milf »), found from the vectors themselves: it starts
  from the crude words and the seeds below, and grows by taking in every word whose nearest words
  are mostly in it already, until none is left. The reason says which neighbours pulled it in.

Growing a cluster takes in everyday words too (« vidéo » is near « webcam »): each one was
reviewed, and KEPT says why it stays a word like any other. Edit the lists here and run the
script again (about a minute: the nearest words of every word); the game applies the files at
load time (no rebuild of the vocabulary), though the daily words of future days then change.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaces.cemantix.vocabulary import (  # noqa: E402
    LANGUAGES,
    blocklist_path,
    candidate_words,
)

CRUDE = {
    "fr": """
        baise baiser baisé bâtard batard bite bicot bordel bougnoule branler branlette branleur chatte
        chiasse chier chiottes con conne connard connasse couille couilles couillon cul éjaculation
        éjaculer emmerder emmerdeur enculé enculer enfoiré fellation fion foutre gouine masturbation
        masturber merde merdique nègre négro nibards nichon nique niquer orgasme partouze pd pédé
        pétasse pisse pisser porn porno pornographie pornographique poufiasse pouffiasse pute putain
        salaud salop salopard salope saloperie sodomie sodomiser tapette teub trouduc viol violé
        violée violées violer violés youpin zizi zob
    """,
    "en": """
        anal arse ass asshole bastard bitch blowjob bollocks boob boobs bugger bullshit chink cock crap
        cum cunt damn dick dickhead dildo dyke fag faggot fuck fucked fucker fucking goddamn handjob
        hooker horny jizz kike masturbate masturbation motherfucker nigga nigger orgasm piss pissed pissing
        porn porno pornographic pornography prick pussy rape raped rapist retard retarded shit shitty
        slut slutty spic tits titties tranny twat wank wanker wetback whore
    """,
}
WEB = {
    "fr": """
        admin ajoutez amazon blog blogs castorama cliquer cliquez commentez conforama connectez
        copyright ebay facebook forums gif google hashtag html http https inscrivez instagram iphone
        jpg leboncoin likez login lol mdr newsletter partagez pdf php ptdr retweet samsung
        sélectionnez spam stp svp téléchargez tweet twitter url webmaster wiki wikipedia www youtube
    """,
    "en": """
        blog blogs btw ebay facebook gif google hashtag html http https imo instagram iphone jpg lmao
        login lol omg pdf php retweet signup spam tweet twitter url username webmaster wiki wikipedia
        wtf www youtube
    """,
}
FRAGMENTS = {"fr": "aujourd jusqu lorsqu presqu puisqu qu quelqu", "en": ""}
# Inflected forms of a crude word that count as crude too (« connards », « bitching »); words of
# four letters or fewer only take a plural « s », since « spic » + « e » is « spice ».
CRUDE_SUFFIXES = ("s", "e", "es", "x", "er", "ers", "é", "ée", "és", "ées", "ing", "ed", "y", "ies")
SHORT_WORD = 4
OTHER_LANGUAGE_MARGIN = 1.5
VOWELS = re.compile("[aeiouyàâäéèêëîïôöùûüÿœæ]")

# Where the adult cluster starts, besides the crude words: porn tags, adult-chat and dating-spam
# words of crawled text (its spellings without accents too: « celibataire serieuse »),
# prostitution, erotica. (GloVe's English, from Wikipedia and newswire, holds almost none: its
# crude words are enough of a start.)
ADULT_SEEDS = {
    "fr": """
        xxx milf cougar coquine coquin escort escorte libertin libertine sexy sex cochonne beurette
        poilue amatrice teen érotique érotiques érotisme prostituée prostituées meetic badoo tchat
        celibataire serieuse francaise
    """,
    "en": "xxx milf erotica",
}
# A word joins the cluster when at least CLUSTER_MAJORITY of its CLUSTER_NEIGHBOURS nearest words
# are in it. Five of ten: four of ten also took in « blonde », « mamie » and « marre ».
CLUSTER_NEIGHBOURS = 10
CLUSTER_MAJORITY = 5
# Grown into the cluster, yet reviewed as words like any other (why, for each). The review left
# the other grown words blocked, everyday ones included (« vidéo » stays for « video », « webcam »,
# « pipe », « ébène », « drague »), and identities and parts of the body too (« gay »,
# « lesbienne », « trans », « seins », « pénis »): not for what they mean but because the crawl
# learnt their vectors from porn spam, so they would stand next to « mamie », « chat » or
# « adolescent » in a list on the projector.
KEPT = {
    "fr": {
        "nu": "everyday (« à l'œil nu », « torse nu »): what pulled it in, « nue » and « nues », is blocked",
        "nus": "everyday (« pieds nus »): what pulled it in, « nue » and « nues », is blocked",
        "célibataires": "everyday, like « célibataire »: its spam neighbours (« libertins », « coquines ») are blocked",
    },
    "en": {
        "dork": "a mild insult; its neighbours are crude words, which are blocked",
        "idiot": "a mild insult in everyday use; fool, scoundrel and slob are its nearest shown words",
    },
}


def nearest_neighbours(vectors: np.ndarray, count: int, batch: int = 2000) -> np.ndarray:
    """The `count` nearest words of every word (rows of unit vectors), nearest first."""
    nearest = np.empty((len(vectors), count), dtype=np.int32)
    for start in range(0, len(vectors), batch):
        similarities = vectors[start : start + batch] @ vectors.T
        similarities[np.arange(len(similarities)), np.arange(start, start + len(similarities))] = -np.inf
        top = np.argpartition(-similarities, count, axis=1)[:, :count]
        order = np.argsort(-np.take_along_axis(similarities, top, axis=1), axis=1)
        nearest[start : start + batch] = np.take_along_axis(top, order, axis=1)
    return nearest


def adult_cluster(words: list[str], vectors: np.ndarray, seeds: set[str], excluded: set[str]) -> dict[str, str]:
    """word -> reason for the seeds and every word the cluster grows to (see the docstring);
    `excluded` words (reviewed as everyday) never join, nor count as members."""
    index = {word: position for position, word in enumerate(words)}
    nearest = nearest_neighbours(vectors, CLUSTER_NEIGHBOURS)
    member = np.zeros(len(words), dtype=bool)
    member[[index[word] for word in seeds if word in index]] = True
    never = np.zeros(len(words), dtype=bool)
    never[[index[word] for word in excluded if word in index]] = True
    while True:
        votes = member[nearest].sum(axis=1)
        joining = (votes >= CLUSTER_MAJORITY) & ~member & ~never
        if not joining.any():
            break
        member |= joining
    reasons = {}
    for position in np.flatnonzero(member):
        word = words[position]
        if word in seeds:
            reasons[word] = "adult-spam: seed"
        else:
            pulled_by = [words[other] for other in nearest[position] if member[other]]
            reasons[word] = (
                f"adult-spam: {len(pulled_by)} of its {CLUSTER_NEIGHBOURS} nearest words are in the cluster "
                f"({', '.join(pulled_by[:4])})"
            )
    return reasons


def blocked_words(lang: str, words: list[str], vectors: np.ndarray) -> dict[str, str]:
    """word -> reason, for every candidate word of `lang` that is blocked;
    `words` and `vectors` are the game's vocabulary (its unit vectors)."""
    from wordfreq import zipf_frequency

    other = next(language for language in LANGUAGES if language != lang)
    crude, web, fragments = (set(lists[lang].split()) for lists in (CRUDE, WEB, FRAGMENTS))
    crude |= {word + suffix for word in crude for suffix in (CRUDE_SUFFIXES if len(word) > SHORT_WORD else ("s",))}
    cluster = adult_cluster(words, vectors, crude | set(ADULT_SEEDS[lang].split()), set(KEPT[lang]))
    reasons = {}
    for word in candidate_words(lang):
        if word in crude:
            reasons[word] = "crude"
        elif word in web:
            reasons[word] = "web"
        elif word in fragments:
            reasons[word] = "fragment"
        elif not VOWELS.search(word):
            reasons[word] = "no-vowel"
        elif zipf_frequency(word, other) >= zipf_frequency(word, lang) + OTHER_LANGUAGE_MARGIN:
            reasons[word] = "other-language"
        elif word in cluster:
            reasons[word] = cluster[word]
    return reasons


def main() -> None:
    from spaces.cemantix.logic import default_vocabulary

    for lang in LANGUAGES:
        vocabulary = default_vocabulary(lang)
        reasons = blocked_words(lang, list(vocabulary.words), vocabulary.vectors)
        header = [
            f"# Cémantix blocklist ({lang}): generated by scripts/make_cemantix_blocklist.py, do not edit.",
            "# word<TAB>reason (crude, web, fragment, no-vowel, other-language, adult-spam: why)",
        ]
        lines = [f"{word}\t{reasons[word]}" for word in sorted(reasons)]
        path = blocklist_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
        kinds = [reason.split(":")[0] for reason in reasons.values()]
        counts = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
        print(f"{path}: {len(reasons)} words {counts}")


if __name__ == "__main__":
    main()
