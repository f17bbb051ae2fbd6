"""Every text of a reply's cost line, of « Pour situer » and of the memory calculator, in French and
English. Each figure of « Pour situer » names its source and says, in words, what it counts and
what it leaves out (docs/cost.md lists the sources)."""

from shared.i18n import Texts

TEXTS = Texts(
    fr={
        # The line under a reply: short on the screen; `spoken` is what a screen reader reads.
        "reply_cost_tokens": "{tokens} tokens",
        "reply_cost_cpu": "{seconds}\u00a0s de calcul",
        "reply_cost_energy": "≈\u00a0{energy}\u00a0Wh · ≈\u00a0{co2e}\u00a0g CO2e ({how})",
        "reply_cost_modelled": "modélisé d'après la charge CPU",
        "reply_cost_measured": "processeur mesuré par RAPL, mémoire modélisée",
        "reply_cost_hosted": "le même texte par {estimates}",
        "reply_cost_hosted_one": "{model} : {energy}\u00a0Wh",
        "reply_cost_hosted_joiner": ", par ",
        "reply_cost_spoken": "Coût de cette réponse : {tokens} tokens, {seconds} secondes de calcul{energy}.{hosted}",
        "reply_cost_spoken_energy": ", environ {energy} wattheure et {co2e} gramme d'équivalent CO2, {how}",
        "reply_cost_spoken_modelled": "une estimation d'après la charge du processeur, pas une mesure",
        "reply_cost_spoken_measured": "le processeur mesuré par son compteur d'énergie, la mémoire estimée",
        "reply_cost_spoken_hosted": " Le même texte écrit par {estimates}.",
        "reply_cost_spoken_hosted_one": "{model} : {energy} wattheure",
        "reply_cost_spoken_hosted_joiner": " ; par ",
        "reply_cost_spoken_range": "entre {low} et {high}",
        # « Pour situer »
        "reply_cost_context_title": "Pour situer : ce que coûte l'IA générative",
        "reply_cost_context_intro": (
            "Sous chaque réponse, son coût **sur cette machine** : le temps de calcul de ses processeurs, "
            "et une estimation de l'électricité du processeur et de la mémoire (codecarbon), × 56 g CO2e "
            "par kWh pour la France (le chiffre de codecarbon, pour 2023). Ni la fabrication de l'ordinateur, "
            "ni le réseau, ni votre téléphone ne sont comptés. « Le même texte par GPT-4o » est l'estimation "
            "d'EcoLogits pour autant de tokens écrits par ce modèle dans les centres de données de son "
            "fournisseur (une fourchette quand la taille du modèle n'est pas publiée)."
        ),
        "reply_cost_context_sources": (
            "- **Texte ou image ?** Pour 1 000 requêtes, générer du texte a consommé en moyenne 0,047 kWh, "
            "générer une image 2,9 kWh : **≈ 60 fois plus**. *Luccioni, Jernite et Strubell, « Power Hungry "
            "Processing », FAccT 2024.* Ce qu'ils comptent : l'électricité mesurée pendant les requêtes, sur "
            "un GPU A100, pour des modèles ouverts ; pas la fabrication du matériel.\n"
            "- **Entraîner GPT-3** (175 milliards de paramètres) : ≈ **1 287 MWh** et **552 t CO2e**. "
            "*Patterson et al., « Carbon Emissions and Large Neural Network Training », 2021.* Une estimation "
            "après coup de l'électricité du centre de données pour l'entraînement final, avec l'électricité "
            "américaine ; ni les essais avant, ni la fabrication des GPU, ni l'usage ensuite.\n"
            "- **BLOOM** (176 milliards de paramètres), entraîné en France sur le supercalculateur Jean Zay : "
            "**24,7 t CO2e** pour l'électricité des calculs de l'entraînement final, 50,5 t en comptant aussi "
            "la fabrication du matériel et les machines au repos. *Luccioni, Viguier et Ligozat, JMLR 2023.* "
            "Bien moins que GPT-3 pour une taille voisine, surtout parce que l'électricité française émet "
            "peu (et les deux études ne comptent pas tout à fait la même chose).\n"
            "- **L'électricité française** : **21,7 g CO2e par kWh** produit en 2024. *RTE, Bilan électrique "
            "2024.* Les émissions des centrales seulement ; codecarbon, ici, compte 56 g (2023, un facteur par "
            "source, construction des centrales comprise) : les chiffres dépendent de ce qu'on compte.\n"
            "- **Une réponse de 400 tokens du Chat de Mistral** (Mistral Large 2) : **1,14 g CO2e** et "
            "**45 mL d'eau**. *Mistral AI, avec Carbone 4 et l'ADEME, juillet 2025.* Une analyse de cycle "
            "de vie : la fabrication des serveurs et le centre de données sont comptés, pas seulement "
            "l'électricité. C'est pourquoi ce chiffre ne se compare pas directement à la ligne sous nos réponses."
        ),
        # The memory slide
        "reply_cost_memory_heading": "### Combien de mémoire pour un modèle ?",
        "reply_cost_memory_intro": (
            "Les poids seuls : **paramètres × octets par poids**. S'y ajoutent le cache des clés et valeurs "
            "de chaque conversation et les calculs en cours. Un GPU de centre de données a 80 Go."
        ),
        "reply_cost_memory_caption": "Mémoire des poids selon les octets par poids, et GPU de 80 Go qu'il faut",
        "reply_cost_memory_cell": "{memory}\u00a0Go · {gpus}\u00a0GPU",
        "reply_cost_gpus_one": "1 GPU de 80 Go",
        "reply_cost_gpus_many": "{gpus} GPU de 80 Go",
        "reply_cost_parameters": "Paramètres (en milliards)",
        "reply_cost_precision": "Octets par poids",
        "reply_cost_memory_result": (
            "{parameters} milliards de paramètres × {bytes} octets = {memory} Go : {gpus}, pour les poids seuls."
        ),
        "reply_cost_memory_bad_parameters": "Tapez un nombre de paramètres, en milliards, entre 0,001 et 100 000.",
    },
    en={
        "reply_cost_tokens": "{tokens} tokens",
        "reply_cost_cpu": "{seconds}\u00a0s of computing",
        "reply_cost_energy": "≈\u00a0{energy}\u00a0Wh · ≈\u00a0{co2e}\u00a0g CO2e ({how})",
        "reply_cost_modelled": "modelled from CPU load",
        "reply_cost_measured": "processor measured by RAPL, memory modelled",
        "reply_cost_hosted": "the same text by {estimates}",
        "reply_cost_hosted_one": "{model}: {energy}\u00a0Wh",
        "reply_cost_hosted_joiner": ", by ",
        "reply_cost_spoken": "Cost of this reply: {tokens} tokens, {seconds} seconds of computing{energy}.{hosted}",
        "reply_cost_spoken_energy": ", about {energy} watt-hours and {co2e} grams of CO2 equivalent, {how}",
        "reply_cost_spoken_modelled": "an estimate from the processor's load, not a measurement",
        "reply_cost_spoken_measured": "the processor measured by its energy counter, the memory estimated",
        "reply_cost_spoken_hosted": " The same text written by {estimates}.",
        "reply_cost_spoken_hosted_one": "{model}: {energy} watt-hours",
        "reply_cost_spoken_hosted_joiner": "; by ",
        "reply_cost_spoken_range": "between {low} and {high}",
        "reply_cost_context_title": "For scale: what generative AI costs",
        "reply_cost_context_intro": (
            "Under each reply, its cost **on this machine**: its processors' computing time, and an estimate "
            "of the processor's and memory's electricity (codecarbon), × 56 g CO2e per kWh for France "
            "(codecarbon's figure, for 2023). Neither making the computer, nor the network, nor your phone "
            "is counted. « The same text by GPT-4o » is EcoLogits' estimate for as many tokens written by that "
            "model in its provider's data centres (a range where the model's size is not published)."
        ),
        "reply_cost_context_sources": (
            "- **Text or image?** For 1,000 queries, generating text used 0.047 kWh on average, generating an "
            "image 2.9 kWh: **≈ 60 times more**. *Luccioni, Jernite and Strubell, « Power Hungry Processing », "
            "FAccT 2024.* What they count: the electricity measured during the queries, on an A100 GPU, for "
            "open models; not making the hardware.\n"
            "- **Training GPT-3** (175 billion parameters): ≈ **1,287 MWh** and **552 t CO2e**. *Patterson et "
            "al., « Carbon Emissions and Large Neural Network Training », 2021.* An estimate after the fact of "
            "the data centre's electricity for the final training run, with US electricity; not the trials "
            "before it, nor making the GPUs, nor the use afterwards.\n"
            "- **BLOOM** (176 billion parameters), trained in France on the Jean Zay supercomputer: **24.7 t "
            "CO2e** for the electricity of the final training run's computations, 50.5 t also counting making "
            "the hardware and the idle machines. *Luccioni, Viguier and Ligozat, JMLR 2023.* Far less "
            "than GPT-3 for a similar size, mostly because French electricity emits little (and the two studies "
            "do not count quite the same things).\n"
            "- **French electricity**: **21.7 g CO2e per kWh** produced in 2024. *RTE, Bilan électrique "
            "2024.* The power stations' emissions only; codecarbon, here, counts 56 g (2023, one factor per "
            "source, building the power stations included): the figures depend on what is counted.\n"
            "- **A 400-token reply of Mistral's Le Chat** (Mistral Large 2): **1.14 g CO2e** and **45 mL of "
            "water**. *Mistral AI, with Carbone 4 and ADEME, July 2025.* A life-cycle assessment: making the "
            "servers and the data centre are counted, not only the electricity. That is why it does not "
            "compare directly with the line under our replies."
        ),
        "reply_cost_memory_heading": "### How much memory does a model take?",
        "reply_cost_memory_intro": (
            "The weights alone: **parameters × bytes per weight**. Each conversation's key/value cache and "
            "the computations under way come on top. A data-centre GPU has 80 GB."
        ),
        "reply_cost_memory_caption": "Memory of the weights by bytes per weight, and the 80 GB GPUs it takes",
        "reply_cost_memory_cell": "{memory}\u00a0GB · {gpus}\u00a0GPU",
        "reply_cost_gpus_one": "1 GPU of 80 GB",
        "reply_cost_gpus_many": "{gpus} GPUs of 80 GB",
        "reply_cost_parameters": "Parameters (billions)",
        "reply_cost_precision": "Bytes per weight",
        "reply_cost_memory_result": (
            "{parameters} billion parameters × {bytes} bytes = {memory} GB: {gpus}, for the weights alone."
        ),
        "reply_cost_memory_bad_parameters": "Type a number of parameters, in billions, between 0.001 and 100,000.",
    },
)
