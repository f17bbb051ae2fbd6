from shared.device import torch_runtime
from shared.settings import load_settings


def test_the_cpu_runs_in_float32_with_the_configured_threads():
    import torch

    runtime = torch_runtime(load_settings(["--device", "cpu", "--torch-threads", "1"], {}))
    assert (runtime.device.type, runtime.dtype) == ("cpu", torch.float32)
    assert torch.get_num_threads() == 1
    assert runtime.describe() == "cpu / float32"


def test_auto_picks_what_this_machine_has_and_dtype_can_be_overridden():
    import torch

    runtime = torch_runtime(load_settings(["--dtype", "bfloat16", "--torch-threads", "1"], {}))
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert runtime.device.type == expected
    assert runtime.dtype == torch.bfloat16
