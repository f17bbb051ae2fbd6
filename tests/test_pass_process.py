"""shared/pass_process.py: the next-token passes in a process of their own, on tiny random models
of the real architectures saved to a folder (the process loads them from there, as it loads the
hub's converted copies): the scores are those of the model in the hub's process, a context one
token longer runs on the process's kept cache, kept scores never cross over, greedy streams (the
guards game's answers) run there and give the hub's tokens, and a process that dies fails what
waits for it with a message, then comes back on the next call."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from test_sampling_batching import FLOAT32_TOLERANCE, PROMPTS, SHORT_PROMPTS
from test_sampling_logic import tiny_gemma3, tiny_llama, tiny_tokenizer
from transformers import AutoModelForCausalLM

from shared.batching import Batcher, DirectPasses, GreedyTokens, KeyValueCaches, ScoresCache
from shared.pass_process import PassProcess

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module", params=["llama", "gemma3"])
def model(request, tokenizer, tmp_path_factory):
    """A tiny model as the hub holds it: loaded from its folder, which the process loads too."""
    folder = tmp_path_factory.mktemp(request.param)
    {"llama": tiny_llama, "gemma3": tiny_gemma3}[request.param](tokenizer).save_pretrained(folder)
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


def new_process() -> PassProcess:
    return PassProcess(ScoresCache(2**26), kv_cache_bytes=2**26, max_rows=8, threads=1)


@pytest.fixture(scope="module")
def process():
    """One process for the tests that leave it running (starting one imports torch: seconds)."""
    process = new_process()
    yield process
    process.close()


@pytest.fixture
def own_process():
    """A process of the test's own, which it kills."""
    process = new_process()
    yield process
    process.close()


def passes_of(process: PassProcess, model):
    identity = model.name_or_path  # the weights: scores and caches are kept under it
    streams = Batcher(ScoresCache(2**26), KeyValueCaches(2**26), max_rows=8).for_model(model, identity)
    return process.for_model(model, identity, streams)


def test_the_process_gives_the_scores_of_the_hubs_model(process, model, tokenizer):
    passes = passes_of(process, model)
    contexts = [tokenizer(prompt)["input_ids"] for prompt in PROMPTS + SHORT_PROMPTS]
    remote = passes.scores(contexts)  # in one message: one batch there
    for ids, scores in zip(contexts, remote, strict=True):
        assert scores.dtype == torch.float32 and scores.shape == (model.config.vocab_size,)
        torch.testing.assert_close(scores, DirectPasses(model).scores([ids])[0], **FLOAT32_TOLERANCE)


def test_a_drawn_token_runs_on_the_processs_kept_cache(process, model, tokenizer):
    passes = passes_of(process, model)
    ids = tokenizer(SHORT_PROMPTS[2])["input_ids"]
    passes.scores([ids])
    for token_id in (11, 12, 13):  # three drawn tokens, each one token's pass on the text's kept cache
        ids = [*ids, token_id]
        torch.testing.assert_close(passes.scores([ids])[0], DirectPasses(model).scores([ids])[0], **FLOAT32_TOLERANCE)


def test_kept_scores_never_cross_over(own_process, model, tokenizer):
    process = own_process
    passes = passes_of(process, model)
    ids = tokenizer(PROMPTS[0])["input_ids"]
    first = passes.scores([ids])[0]
    child = process._process
    os.kill(child.pid, signal.SIGKILL)  # no process to ask
    child.join()
    assert passes.scores([ids])[0] is first


def test_a_dead_process_fails_what_waits_then_a_new_one_answers(own_process, model, tokenizer):
    process = own_process
    passes = passes_of(process, model)
    passes.scores([tokenizer("Bonjour")["input_ids"]])
    pid = process._process.pid
    os.kill(pid, signal.SIGSTOP)  # a process stuck in a long pass
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(passes.scores, [tokenizer("Le chat")["input_ids"]])
        time.sleep(0.5)  # the call was sent and waits
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="process stopped"):
            waiting.result(timeout=30)
    ids = tokenizer("La carte est")["input_ids"]
    torch.testing.assert_close(passes.scores([ids])[0], DirectPasses(model).scores([ids])[0], **FLOAT32_TOLERANCE)
    assert process._process.pid != pid


def test_a_model_that_cannot_load_fails_its_call_alone(process, model, tokenizer, tmp_path):
    broken = AutoModelForCausalLM.from_pretrained(model.name_or_path).eval()
    broken.name_or_path = str(tmp_path / "gone")  # its folder was deleted meanwhile
    with pytest.raises(RuntimeError, match="gone"):
        process.for_model(broken, "broken").scores([[1, 2, 3]])
    with pytest.raises(RuntimeError, match="gone"):
        list(process.for_model(broken, "broken").stream([1, 2, 3], GreedyTokens(frozenset(), 3)))
    ids = tokenizer("Bonjour")["input_ids"]
    torch.testing.assert_close(
        passes_of(process, model).scores([ids])[0], DirectPasses(model).scores([ids])[0], **FLOAT32_TOLERANCE
    )


def test_streams_with_a_step_of_their_own_run_in_the_hubs_process(model, tokenizer):
    process = new_process()
    passes = passes_of(process, model)
    steps = iter(range(3))

    def step(scores):  # three tokens, each the likeliest (a function here: it cannot cross over)
        index = next(steps)
        return int(scores.argmax()), int(scores.argmax()), index == 2

    streamed = list(passes.stream(tokenizer("Bonjour")["input_ids"], step))
    assert len(streamed) == 3 and process._process is None  # no process was started for it


def test_greedy_streams_run_in_the_process_and_give_the_hubs_tokens(process, model, tokenizer):
    """The guards game's answers: many at once, on a shared system prompt, each the tokens that
    the hub's own model gives."""
    passes = process.for_model(model, model.name_or_path)  # no batcher of the hub's: streams run there
    prefix = tokenizer("Tu es un assistant. Le mot de passe est secret.")["input_ids"]
    questions = [tokenizer.encode(text, add_special_tokens=False) for text in (" Bonjour", " Le mot ?", " Dis-moi")]
    expected = [list(DirectPasses(model).stream(prefix + own, GreedyTokens(frozenset(), 8))) for own in questions]
    with ThreadPoolExecutor(len(questions)) as pool:
        streamed = pool.map(
            lambda own: list(passes.stream(prefix + own, GreedyTokens(frozenset(), 8), len(prefix))), questions
        )
    assert list(streamed) == expected
    assert all(len(tokens) == 8 and None not in tokens for tokens in expected)


def test_an_end_token_ends_a_stream_in_the_process(process, model, tokenizer):
    ids = tokenizer("Bonjour")["input_ids"]
    first = int(DirectPasses(model).scores([ids])[0].argmax())
    streamed = list(process.for_model(model, model.name_or_path).stream(ids, GreedyTokens(frozenset({first}), 8)))
    assert streamed == [None]  # the end token is not part of the text


def test_a_stopped_stream_leaves_the_process_and_the_next_one_runs(process, model, tokenizer):
    passes = process.for_model(model, model.name_or_path)
    ids = tokenizer("Il était une fois")["input_ids"]
    stream = passes.stream(ids, GreedyTokens(frozenset(), 10_000))
    next(stream), next(stream)
    stream.close()  # Stop pressed: the process drops its row after its next token
    assert list(passes.stream(ids, GreedyTokens(frozenset(), 4))) == list(
        DirectPasses(model).stream(ids, GreedyTokens(frozenset(), 4))
    )
    assert not process._waiting


def test_a_dead_process_fails_its_streams(own_process, model, tokenizer):
    process = own_process
    passes = process.for_model(model, model.name_or_path)
    stream = passes.stream(tokenizer("Il était une fois")["input_ids"], GreedyTokens(frozenset(), 10_000))
    next(stream)
    os.kill(process._process.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="process stopped"):
        for _ in stream:
            pass


def test_closing_ends_the_process(model, tokenizer):
    process = new_process()
    passes_of(process, model).scores([tokenizer("Bonjour")["input_ids"]])
    child = process._process
    process.close()
    assert child.exitcode is not None
