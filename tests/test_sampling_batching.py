"""shared/batching.py with the sampling logic, on tiny random models of the real architectures
(Llama, and Gemma 3 with a sliding window of 8 tokens, shorter than most prompts): batched and
cached forward passes give what direct ones give, within float32 tolerance, in fewer passes; a
context one token longer than a kept one runs that token alone; seeded draws and generations
give the same tokens."""

import threading
import time

import pytest
import torch
import transformers
from test_sampling_logic import tiny_gemma3, tiny_llama, tiny_tokenizer

from shared.batching import (
    Batcher,
    DirectPasses,
    KeyValueCaches,
    ScoresCache,
    _Request,
    _StreamRow,
    cache_bytes,
    left_padded,
)
from spaces.sampling import logic
from spaces.sampling.logic import SamplingSettings

torch.set_num_threads(1)

PROMPTS = (
    "Le chat est assis sur le",
    "Il était une fois, dans une petite ville de montagne,",
    "Bonjour",
    "La carte n'est pas le territoire, disait Korzybski en 1931.",
)
SHORT_PROMPTS = ("Bonjour", "Le chat", "La carte est", "Il était une")  # 2 to 5 tokens: within Gemma's window
FLOAT32_TOLERANCE = dict(rtol=1e-5, atol=1e-5)
EVERY_STAGE = SamplingSettings(temperature=0.9, top_k=50, top_p=0.9, min_p=0.02, repetition_penalty=1.2)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module", params=["llama", "gemma3"])
def model(request, tokenizer):
    return {"llama": tiny_llama, "gemma3": tiny_gemma3}[request.param](tokenizer)


class PassCounter:
    """Counts the model's passes: each run of its transformer body (`bodies`: the shape (rows,
    tokens) of its input) and of its output layer (`heads`: the rows in each). While `gate` is
    closed, a body waits at its start: the requests made meanwhile queue together, as in a busy
    room."""

    def __init__(self, model):
        self.bodies, self.heads = [], []
        self.gate = threading.Event()
        self.gate.set()
        self._handles = [
            model.get_decoder().register_forward_pre_hook(self._count_body, with_kwargs=True),
            model.get_output_embeddings().register_forward_pre_hook(self._count_head),
        ]

    def _count_body(self, module, args, kwargs):
        self.bodies.append(tuple(kwargs["input_ids"].shape))
        assert self.gate.wait(timeout=30)

    def _count_head(self, module, args):
        self.heads.append(args[0].shape[0])

    def reset(self) -> None:
        self.bodies, self.heads = [], []

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


@pytest.fixture
def counter(model):
    counter = PassCounter(model)
    yield counter
    counter.gate.set()
    counter.remove()


def new_batcher(**bounds) -> Batcher:
    return Batcher(ScoresCache(64 * 2**20), KeyValueCaches(64 * 2**20), **{"max_rows": 16, **bounds})


def prompt_ids(tokenizer, model, prompts=PROMPTS) -> list[tuple[int, ...]]:
    lm = logic.LanguageModel(model, tokenizer)
    return [logic.text_context(lm, prompt).ids for prompt in prompts]


def assert_scores_equal(ours, reference) -> None:
    for our_scores, reference_scores in zip(ours, reference, strict=True):
        torch.testing.assert_close(our_scores, reference_scores, **FLOAT32_TOLERANCE)


def in_thread(function, *args) -> tuple[threading.Thread, dict]:
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function(*args)))
    thread.start()
    return thread, result


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def generated_ids(lm, prompt, settings=EVERY_STAGE, seed=7, tokens=12) -> list[int]:
    context = logic.text_context(lm, prompt, room_for_new_tokens=tokens)
    return [token.token_id for token in logic.generate(lm, context, settings, tokens, seed)]


# --- the pieces ------------------------------------------------------------------------------------


def transformers_generated_ids(lm, prompt, seed=7, tokens=12) -> list[int]:
    """The tokens transformers' generate() draws after `prompt` with EVERY_STAGE and the seed."""
    input_ids = torch.tensor([list(logic.text_context(lm, prompt).ids)])
    torch.manual_seed(seed)
    expected = lm.model.generate(
        input_ids,
        attention_mask=torch.ones_like(input_ids),
        do_sample=True,
        max_new_tokens=tokens,
        temperature=EVERY_STAGE.temperature,
        top_k=EVERY_STAGE.top_k,
        top_p=EVERY_STAGE.top_p,
        min_p=EVERY_STAGE.min_p,
        repetition_penalty=EVERY_STAGE.repetition_penalty,
        eos_token_id=sorted(lm.end_token_ids),
        pad_token_id=0,
    )
    return expected[0, input_ids.shape[1] :].tolist()


def test_left_padding_masks_the_pads_and_counts_positions_from_each_rows_first_token():
    input_ids, mask, positions = left_padded([(5, 6, 7), (8,)], device="cpu")
    assert input_ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert positions.tolist() == [[0, 1, 2], [0, 0, 0]]
    _, no_mask, positions = left_padded([(1, 2), (3, 4)], device="cpu")
    assert no_mask is None and positions.tolist() == [[0, 1], [0, 1]]


def test_the_scores_cache_is_bounded_in_bytes_and_drops_the_least_recently_used():
    cache = ScoresCache(max_bytes=3 * 400)  # room for three tensors of 100 float32
    for key in "abc":
        cache.put(key, torch.zeros(100))
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("d", torch.zeros(100))
    assert cache.get("b") is None and all(cache.get(key) is not None for key in "acd")
    assert len(cache) == 3 and cache.used_bytes == 1200
    cache.put("huge", torch.zeros(1000))  # larger than the whole cache: not kept, nothing dropped
    assert cache.get("huge") is None and len(cache) == 3


# --- next-token scores -------------------------------------------------------------------------------


def test_new_contexts_asked_together_share_one_padded_body_and_one_output_layer(model, tokenizer, counter):
    ids = prompt_ids(tokenizer, model)
    assert len({len(row) for row in ids}) == len(ids)  # all of different lengths: padded
    direct = DirectPasses(model).scores(ids)
    counter.reset()
    batcher = new_batcher()
    batched = batcher.scores(model, "tiny", ids)
    assert counter.bodies == [(len(ids), max(map(len, ids)))] and counter.heads == [len(ids)]
    assert_scores_equal(batched, direct)
    assert len(batcher.key_values) == len(ids)  # each context's own cache, cut out of the batch's


def test_requests_made_while_the_model_is_busy_share_its_next_pass(model, tokenizer, counter):
    ids = prompt_ids(tokenizer, model)
    batcher = new_batcher()
    counter.gate.clear()
    first, _ = in_thread(batcher.scores, model, "tiny", [ids[0]])
    wait_until(lambda: len(counter.bodies) == 1)  # the model is busy with the first request
    users = [in_thread(batcher.scores, model, "tiny", [ids[user % 3 + 1]]) for user in range(6)]
    wait_until(lambda: len(batcher._waiting) == 6)
    counter.gate.set()
    for thread, _ in users:
        thread.join(timeout=30)
    first.join(timeout=30)
    # Six users asking for three contexts: one pass of three rows served them all.
    assert counter.heads == [1, 3] and (batcher.forward_passes, batcher.rows_computed) == (2, 4)
    direct = DirectPasses(model).scores(ids)
    for user, (_, result) in enumerate(users):
        torch.testing.assert_close(result["value"][0], direct[user % 3 + 1], **FLOAT32_TOLERANCE)


def test_scores_already_computed_cost_no_forward_pass(model, tokenizer, counter):
    ids = prompt_ids(tokenizer, model)
    batcher = new_batcher()
    first = batcher.scores(model, "tiny", ids[:2])
    counter.reset()
    again = batcher.scores(model, "tiny", ids[:2] + ids[:1])
    assert counter.heads == [] and batcher.cache.hits == 3
    assert all(torch.equal(a, b) for a, b in zip(again, first + first[:1], strict=True))
    assert batcher.scores(model, "another model", ids[:1]) and counter.heads == [1]  # the identity is part of the key


def test_a_long_prompt_runs_apart_instead_of_padding_everyone_to_its_length(model, tokenizer, counter):
    ids = prompt_ids(tokenizer, model)
    long_ids = ids[1] * 3  # 3x the longest prompt
    batcher = new_batcher(max_padded_tokens=2 * len(long_ids))
    counter.reset()
    batcher.scores(model, "tiny", [ids[0], ids[2], long_ids, ids[3]])
    assert sorted(counter.bodies) == [(1, len(long_ids)), (3, len(ids[3]))]  # the short ones together


# --- one token more: the kept key/value caches ---------------------------------------------------


def test_a_token_appended_runs_alone_on_the_kept_cache_and_gives_the_scores_of_a_full_pass(model, tokenizer, counter):
    ids = prompt_ids(tokenizer, model)[1]
    batcher = new_batcher()
    batcher.scores(model, "tiny", [ids])
    for token in (11, 222, 3333, 44, 555, 6, 77, 888, 9999, 10):  # past the sliding window of 8
        ids += (token,)
        counter.reset()
        ours = batcher.scores(model, "tiny", [ids])
        assert counter.bodies == [(1, 1)] and counter.heads == [1]
        assert_scores_equal(ours, DirectPasses(model).scores([ids]))
    assert batcher.rows_extended == 10 and len(batcher.key_values) == 1  # the cache moved with the text


def test_another_token_after_an_undo_runs_one_token_on_a_copy_of_the_longer_texts_cache(model, tokenizer, counter):
    batcher = new_batcher()
    for text in prompt_ids(tokenizer, model, ("Le chat", PROMPTS[1])):  # 2 and 19 tokens
        batcher.scores(model, "tiny", [text])
        batcher.scores(model, "tiny", [text + (42,)])  # a draw: the text's cache moved on to text + 42
        assert ("tiny", text) not in batcher.key_values
        counter.reset()
        other = text + (43,)  # undo, then another token (or another student's draw on the same text)
        ours = batcher.scores(model, "tiny", [other])
        if len(text) + 1 < 8 or isinstance(model, transformers.LlamaForCausalLM):
            assert counter.bodies == [(1, 1)]
        else:  # Gemma's window of 8 has dropped the position that text + 42's cache would need
            assert counter.bodies == [(1, len(other))]
        assert_scores_equal(ours, DirectPasses(model).scores([other]))
        assert ("tiny", text + (42,)) in batcher.key_values  # a redo still finds its own


@pytest.mark.parametrize("prompts", [SHORT_PROMPTS, PROMPTS], ids=["within-the-window", "beyond-the-window"])
def test_caches_cut_out_of_a_padded_pass_extend_like_their_own(model, tokenizer, counter, prompts):
    contexts = prompt_ids(tokenizer, model, prompts)
    batcher = new_batcher()
    batcher.scores(model, "tiny", contexts)  # one padded pass, each row's cache cut out of it
    for step in range(8):  # the texts grow (past Gemma's window of 8) in one joined pass a token
        contexts = [ids + (100 * row + step,) for row, ids in enumerate(contexts)]
        counter.reset()
        ours = batcher.scores(model, "tiny", contexts)
        assert counter.bodies == [(len(contexts), 1)] and counter.heads == [len(contexts)]
        assert_scores_equal(ours, DirectPasses(model).scores(contexts))
    assert batcher.rows_extended == 8 * len(contexts)


def test_tokens_appended_to_texts_of_many_lengths_join_within_the_padded_token_bound(model, tokenizer, counter):
    contexts = prompt_ids(tokenizer, model)  # 3 to 20 tokens
    batcher = new_batcher(max_padded_tokens=2 * (max(map(len, contexts)) + 1))
    batcher.scores(model, "tiny", contexts)
    longer = [ids + (42,) for ids in contexts]
    counter.reset()
    ours = batcher.scores(model, "tiny", longer)
    assert counter.bodies == [(2, 1), (2, 1)] and counter.heads == [4]  # the two shortest, then the two longest
    assert_scores_equal(ours, DirectPasses(model).scores(longer))


def test_the_rooms_drawn_tokens_share_one_body_pass_and_one_output_layer(model, tokenizer, counter):
    texts = prompt_ids(tokenizer, model) + prompt_ids(tokenizer, model, SHORT_PROMPTS[1:2])
    batcher = new_batcher()
    batcher.scores(model, "tiny", texts)
    # Six sessions draw at once; the first two are two students on the same text who drew different tokens.
    drawn = [texts[0] + (42,), texts[0] + (43,), *(ids + (44,) for ids in texts[1:])]
    counter.reset()
    counter.gate.clear()
    busy, _ = in_thread(batcher.scores, model, "tiny", [(1, 2, 3)])  # holds the worker while the room draws
    wait_until(lambda: len(counter.bodies) == 1)
    sessions = [in_thread(batcher.scores, model, "tiny", [ids]) for ids in drawn]
    wait_until(lambda: len(batcher._waiting) == len(drawn))
    counter.gate.set()
    for thread, _ in sessions:
        thread.join(timeout=30)
    busy.join(timeout=30)
    assert counter.heads == [1, len(drawn)] and counter.bodies[1:] == [(len(drawn), 1)]  # one joined body pass
    assert batcher.rows_extended == len(drawn)  # the second student extended a copy of the same cache
    assert_scores_equal([result["value"][0] for _, result in sessions], DirectPasses(model).scores(drawn))


def cache_of_a_pass(model, ids):
    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids]), use_cache=True).cache


def test_the_kept_caches_are_bounded_in_bytes_and_drop_the_least_recently_used(model, tokenizer):
    contexts = prompt_ids(tokenizer, model, SHORT_PROMPTS)
    caches = [cache_of_a_pass(model, ids) for ids in contexts]
    sizes = [cache_bytes(cache) for cache in caches]
    assert sizes[3] > sizes[2] > sizes[0] > sizes[1] > 0  # as long as their contexts
    kept = KeyValueCaches(max_bytes=sizes[0] + sizes[2] + sizes[3])
    keys = [("tiny", ids) for ids in contexts]
    for key, cache in zip(keys, caches, strict=True):
        kept.put(key, cache)
    assert keys[0] not in kept and all(key in kept for key in keys[1:])  # the oldest dropped
    assert kept.used_bytes == sum(sizes[1:]) <= kept.max_bytes
    assert kept.take(keys[1]) is caches[1] and keys[1] not in kept and kept.used_bytes == sizes[2] + sizes[3]
    kept.put(("tiny", contexts[3] * 10), cache_of_a_pass(model, contexts[3] * 10))
    assert ("tiny", contexts[3] * 10) not in kept and kept.used_bytes == sizes[2] + sizes[3]  # too big
    # The batcher keeps within its bound too, whatever the room asks.
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(2 * sizes[3]), max_rows=16)
    for token in range(6):
        batcher.scores(model, "tiny", [ids + (token,) for ids in contexts])
        assert batcher.key_values.used_bytes <= 2 * sizes[3]


def test_a_text_viewed_again_keeps_its_cache_ahead_of_newer_ones(model, tokenizer):
    first, second, third = prompt_ids(tokenizer, model, ("La carte est", "Il était une", "Le chat"))  # 4, 5, 2 tokens
    probe = new_batcher()
    probe.scores(model, "tiny", [first, second])
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(probe.key_values.used_bytes), max_rows=16)  # room for two
    batcher.scores(model, "tiny", [first])
    batcher.scores(model, "tiny", [second])
    batcher.scores(model, "tiny", [first])  # a slider move on the first text: its kept scores, no pass
    batcher.scores(model, "tiny", [third])  # pushes out the cache used least recently: the second text's
    assert ("tiny", first) in batcher.key_values and ("tiny", second) not in batcher.key_values


def test_an_evicted_cache_falls_back_to_a_full_pass_with_the_same_result(model, tokenizer, counter):
    first, second = prompt_ids(tokenizer, model)[1:3]
    probe = new_batcher()
    probe.scores(model, "tiny", [first])
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(probe.key_values.used_bytes), max_rows=16)  # room for one
    batcher.scores(model, "tiny", [first])
    batcher.scores(model, "tiny", [second])  # its cache pushes the first one's out
    counter.reset()
    ours = batcher.scores(model, "tiny", [first + (42,)])
    assert counter.bodies == [(1, len(first) + 1)] and batcher.rows_extended == 0
    assert_scores_equal(ours, DirectPasses(model).scores([first + (42,)]))


def test_a_view_in_the_padded_pass_of_a_stream_keeps_its_own_cache(model, tokenizer, counter):
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(2**26), max_rows=16, stream_gathering_s=0)
    lm = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    view, stream_context = prompt_ids(tokenizer, model, SHORT_PROMPTS[:1])[0], logic.text_context(lm, PROMPTS[1])
    counter.gate.clear()
    busy = in_thread(batcher.scores, model, "tiny", [(1, 2, 3)])
    wait_until(lambda: len(counter.bodies) == 1)
    stream = in_thread(lambda: [token.token_id for token in logic.generate(lm, stream_context, EVERY_STAGE, 4, 1)])
    asked = in_thread(batcher.scores, model, "tiny", [view])
    wait_until(lambda: len(batcher._waiting) == 2)
    counter.gate.set()
    for thread, _ in (busy, stream, asked):
        thread.join(timeout=30)
    assert counter.bodies[1] == (2, len(stream_context.ids))  # the view shared the stream's padded pass
    assert_scores_equal(asked[1]["value"], DirectPasses(model).scores([view]))
    assert stream[1]["value"] == generated_ids(logic.LanguageModel(model, tokenizer), PROMPTS[1], EVERY_STAGE, 1, 4)
    # Cut out of a pass longer than Gemma's window, the view's cache still holds what its text needs.
    longer = [view + (7, 8, 9, 10, 11, 12, 13, 14)[:count] for count in range(1, 9)]
    for ids in longer:
        batcher.scores(model, "tiny", [ids])
    assert batcher.rows_extended == len(longer)
    assert_scores_equal(batcher.scores(model, "tiny", longer), DirectPasses(model).scores(longer))


def test_the_output_layer_alone_gives_the_soft_capped_scores_of_a_full_pass(tokenizer):
    model = tiny_gemma3(tokenizer)
    model.config.final_logit_softcapping = 0.5  # small enough to change every score: Gemma 2's head
    ids = prompt_ids(tokenizer, model)
    batcher = new_batcher()
    assert_scores_equal(batcher.scores(model, "tiny", ids), DirectPasses(model).scores(ids))
    longer = [row + (7,) for row in ids]
    assert_scores_equal(batcher.scores(model, "tiny", longer), DirectPasses(model).scores(longer))
    assert batcher.rows_extended == len(ids)


def test_a_failing_pass_reaches_its_callers_and_the_batcher_keeps_serving(model, tokenizer):
    ids = prompt_ids(tokenizer, model)
    batcher = new_batcher()
    with pytest.raises(IndexError):
        batcher.scores(model, "tiny", [(10**7,)])  # an id beyond the vocabulary
    assert len(batcher.scores(model, "tiny", [ids[0]])) == 1


def test_seeded_draws_are_the_same_batched_or_not(model, tokenizer):
    batched = logic.LanguageModel(model, tokenizer, new_batcher().for_model(model, "tiny"))
    direct = logic.LanguageModel(model, tokenizer)
    for seed in range(8):
        walks = []
        for lm in (batched, direct):
            steps = logic.Steps(PROMPTS[seed % len(PROMPTS)], seed=seed)
            for _ in range(3):
                steps = logic.draw_step(lm, steps, SamplingSettings(temperature=1.3))
            walks.append(steps.token_ids)
        assert walks[0] == walks[1]


def test_seeded_draws_step_by_step_on_kept_caches_give_generates_tokens(model, tokenizer):
    batcher = new_batcher()
    lm = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    steps = logic.Steps(PROMPTS[1], seed=7)
    for _ in range(12):
        steps = logic.draw_step(lm, steps, EVERY_STAGE)
    assert batcher.rows_extended == 11  # every draw after the first ran one token on the kept cache
    assert list(steps.token_ids) == transformers_generated_ids(lm, PROMPTS[1])


# --- streams -----------------------------------------------------------------------------------------


def test_a_stream_alone_gives_the_tokens_of_transformers_generate(model, tokenizer):
    lm = logic.LanguageModel(model, tokenizer, new_batcher().for_model(model, "tiny"))
    assert generated_ids(lm, PROMPTS[1]) == transformers_generated_ids(lm, PROMPTS[1])


def test_streams_started_together_decode_together_and_each_gives_its_own_tokens(model, tokenizer, counter):
    batcher = new_batcher()
    batched = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    direct = logic.LanguageModel(model, tokenizer)
    settings = [EVERY_STAGE, SamplingSettings(temperature=0), SamplingSettings(temperature=1.5, top_p=0.8)]
    expected = [
        generated_ids(direct, prompt, setting, seed)
        for seed, (prompt, setting) in enumerate(zip(PROMPTS[:3], settings, strict=True))
    ]
    counter.reset()
    counter.gate.clear()
    busy, _ = in_thread(batcher.scores, model, "tiny", [(1, 2, 3)])  # holds the worker while the streams arrive
    wait_until(lambda: len(counter.bodies) == 1)
    streams = [
        in_thread(generated_ids, batched, prompt, setting, seed)
        for seed, (prompt, setting) in enumerate(zip(PROMPTS[:3], settings, strict=True))
    ]
    wait_until(lambda: len(batcher._waiting) == 3)
    counter.gate.set()
    for thread, _ in streams:
        thread.join(timeout=60)
    busy.join(timeout=30)
    assert [result["value"] for _, result in streams] == expected
    # One first pass for the three (prompts padded to the longest), then one pass per token for all.
    assert counter.heads[1:] == [3] * 12, counter.heads
    assert batcher.active_streams == 0


def greedy_steps(tokens: int):
    """A stream's step: the most likely token, `tokens` of them (the guards game's answers)."""
    taken = []

    def step(scores):
        taken.append(int(scores.argmax()))
        return taken[-1], taken[-1], len(taken) == tokens

    return step


def test_a_stream_on_a_shared_prefix_starts_without_gathering_companions(model, tokenizer):
    """It runs alone on the prefix's cache: it does not wait the gathering time (an hour here; a
    regression hangs until pytest's timeout), while a stream without a prefix still gathers."""
    batcher = new_batcher(stream_gathering_s=3600)
    prefix = list(prompt_ids(tokenizer, model, PROMPTS[3:])[0])
    ids = prefix + tokenizer.encode(" Bonjour", add_special_tokens=False)
    assert list(batcher.stream(model, "tiny", ids, greedy_steps(2), len(prefix))) == list(
        DirectPasses(model).stream(ids, greedy_steps(2))
    )
    request = _Request(model, "tiny", tuple(ids), row=_StreamRow(greedy_steps(2)))
    assert not batcher._is_due(request, request.arrived + 1)


def test_streams_on_a_shared_prefix_compute_it_once_and_give_the_tokens_of_a_whole_pass(model, tokenizer, counter):
    batcher = new_batcher(stream_gathering_s=0)
    prefix = list(prompt_ids(tokenizer, model, PROMPTS[3:])[0])  # a system prompt, say
    own = [tokenizer.encode(text, add_special_tokens=False) for text in (" Bonjour", " Le chat est", " Bonjour")]
    expected = [list(DirectPasses(model).stream(prefix + ids, greedy_steps(6))) for ids in own]
    counter.reset()
    streamed = [list(batcher.stream(model, "tiny", prefix + ids, greedy_steps(6), len(prefix))) for ids in own]
    assert streamed == expected
    assert counter.bodies.count((1, len(prefix))) == 1  # the prefix ran once, kept for the streams after it
    assert [shape for shape in counter.bodies if shape[1] > 1] == [(1, len(prefix)), *((1, len(ids)) for ids in own)]
    assert batcher.active_streams == 0


def test_streams_a_moment_apart_still_share_their_passes(model, tokenizer, counter):
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(2**26), max_rows=16, stream_gathering_s=0.5)
    batched = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    counter.reset()
    first = in_thread(generated_ids, batched, PROMPTS[0], EVERY_STAGE, 1, 8)
    time.sleep(0.1)  # the worker is idle: the second stream comes a moment later
    second = in_thread(generated_ids, batched, PROMPTS[1], EVERY_STAGE, 2, 8)
    first[0].join(timeout=60)
    second[0].join(timeout=60)
    assert counter.heads == [2] * 8  # one first pass for both, then one pass per token for both
    direct = logic.LanguageModel(model, tokenizer)
    assert first[1]["value"] == generated_ids(direct, PROMPTS[0], EVERY_STAGE, 1, 8)
    assert second[1]["value"] == generated_ids(direct, PROMPTS[1], EVERY_STAGE, 2, 8)


def test_streams_started_apart_join_one_group_and_each_gives_its_own_tokens(model, tokenizer, counter):
    """A room's attempts arriving one at a time: a stream that starts while others decode joins
    their group, one pass per token for all of them, each with its own tokens. Gemma's
    sliding-window layers hold different lengths: its groups stay apart, interleaved."""
    batcher = new_batcher(stream_gathering_s=0)
    contexts = prompt_ids(tokenizer, model, PROMPTS[:3])
    expected = [list(DirectPasses(model).stream(ids, greedy_steps(40))) for ids in contexts]
    counter.reset()
    streams = []
    for ids in contexts:
        counter.gate.clear()  # the running streams wait at their next pass while this one arrives
        passes_before = len(counter.bodies)
        streams.append(in_thread(lambda ids=ids: list(batcher.stream(model, "tiny", ids, greedy_steps(40)))))
        first_pass = (1, len(ids))
        wait_until(lambda: batcher._waiting or first_pass in counter.bodies[passes_before:])  # noqa: B023 (called at once)
        counter.gate.set()
        wait_until(lambda: len(counter.heads) >= 3 * len(streams))  # noqa: B023 (called at once)
    for thread, _ in streams:
        thread.join(timeout=60)
    assert [result["value"] for _, result in streams] == expected
    sliding = any(layer_type == "sliding_attention" for layer_type in getattr(model.config, "layer_types", None) or ())
    assert max(counter.heads) == (1 if sliding else 3), counter.heads
    assert batcher.active_streams == 0


def test_a_next_token_view_never_waits_for_streams_to_gather(model, tokenizer):
    batcher = Batcher(ScoresCache(2**26), KeyValueCaches(2**26), max_rows=16, stream_gathering_s=30)
    lm = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    stream = logic.generate(lm, logic.text_context(lm, PROMPTS[0]), EVERY_STAGE, 4, seed=1)
    gathering = in_thread(lambda: [token.token_id for token in stream])
    started = time.monotonic()
    batcher.scores(model, "tiny", [logic.text_context(lm, PROMPTS[2]).ids])
    assert time.monotonic() - started < 10  # at once, and the gathering stream went with it
    gathering[0].join(timeout=30)
    assert gathering[1]["value"] == generated_ids(logic.LanguageModel(model, tokenizer), PROMPTS[0], EVERY_STAGE, 1, 4)


def test_a_stream_that_starts_later_runs_beside_the_first_and_next_token_views_go_between(model, tokenizer):
    batcher = new_batcher()
    batched = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    direct = logic.LanguageModel(model, tokenizer)
    first = logic.generate(batched, logic.text_context(batched, PROMPTS[0]), EVERY_STAGE, 30, seed=1)
    shown = [next(first).token_id]  # the first stream is running
    second = in_thread(generated_ids, batched, PROMPTS[3], EVERY_STAGE, 2, 30)
    view = batcher.scores(model, "tiny", [logic.text_context(batched, PROMPTS[2]).ids])  # while both stream
    assert len(view) == 1 and batcher.active_streams >= 1
    shown += [token.token_id for token in first]
    second[0].join(timeout=60)
    assert shown == generated_ids(direct, PROMPTS[0], EVERY_STAGE, 1, 30)
    assert second[1]["value"] == generated_ids(direct, PROMPTS[3], EVERY_STAGE, 2, 30)


def test_a_stopped_stream_leaves_its_group_and_the_others_go_on(model, tokenizer, counter):
    batcher = new_batcher()
    batched = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    counter.gate.clear()
    busy, _ = in_thread(batcher.scores, model, "tiny", [(1, 2, 3)])
    wait_until(lambda: len(counter.bodies) == 1)
    stopped = logic.generate(batched, logic.text_context(batched, PROMPTS[0]), EVERY_STAGE, 100, seed=3)
    kept = in_thread(generated_ids, batched, PROMPTS[1], EVERY_STAGE, 4, 40)
    taken = in_thread(lambda: [next(stopped) for _ in range(3)])  # a user reads three tokens, then presses Stop
    wait_until(lambda: len(batcher._waiting) == 2)
    counter.gate.set()
    taken[0].join(timeout=30)
    stopped.close()
    kept[0].join(timeout=60)
    busy.join(timeout=30)
    wait_until(lambda: batcher.active_streams == 0)
    assert kept[1]["value"] == generated_ids(logic.LanguageModel(model, tokenizer), PROMPTS[1], EVERY_STAGE, 4, 40)
    assert max(counter.heads[2:]) == 2 and counter.heads[-1] == 1  # after the stop, the other row alone
    assert len(counter.heads) < 2 + 100  # the stopped stream did not run to its 100 tokens


def test_a_failing_step_ends_its_own_stream_only(model, tokenizer):
    batcher = new_batcher()

    def failing(scores):
        raise ValueError("a bug in one stream's sampling")

    ids = prompt_ids(tokenizer, model)
    broken = batcher.stream(model, "tiny", ids[0], failing)
    with pytest.raises(ValueError, match="one stream"):
        next(broken)
    lm = logic.LanguageModel(model, tokenizer, batcher.for_model(model, "tiny"))
    assert len(generated_ids(lm, PROMPTS[2], tokens=4)) == 4
