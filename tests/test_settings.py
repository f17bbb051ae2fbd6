import pytest

from shared.settings import OPTIONS, SettingsError, apply_process_settings, load_settings


def test_defaults_suit_a_laptop():
    settings = load_settings([], {})
    assert settings.profile == "laptop"
    assert settings.host == "127.0.0.1"
    assert settings.port == 7860
    assert settings.share is False
    assert settings.offline is False
    assert not settings.serves_beyond_loopback
    assert settings.torch_threads >= 1


def test_lecture_profile_is_one_switch():
    settings = load_settings([], {"IAGEN_PROFILE": "lecture"})
    assert settings.host == "0.0.0.0"
    assert settings.queue_size > load_settings([], {}).queue_size
    assert settings.serves_beyond_loopback


def test_a_space_is_detected_from_its_environment():
    assert load_settings([], {"SPACE_ID": "ign/demos"}).profile == "space"


def test_flags_beat_environment_which_beats_profile():
    environ = {"IAGEN_PROFILE": "lecture", "IAGEN_HOST": "192.168.1.5", "IAGEN_PORT": "9000"}
    assert load_settings([], environ).host == "192.168.1.5"
    settings = load_settings(["--host", "127.0.0.2", "--port", "9001", "--share"], environ)
    assert (settings.host, settings.port, settings.share) == ("127.0.0.2", 9001, True)


def test_hub_offline_switch_is_respected():
    assert load_settings([], {"HF_HUB_OFFLINE": "1"}).offline is True
    assert load_settings(["--offline"], {}).offline is True


def test_per_model_overrides():
    settings = load_settings(
        [], {"IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": "/models/smol", "IAGEN_REVISION_SMOLLM2_135M_INSTRUCT": "abc123"}
    )
    assert settings.model_overrides == {"smollm2_135m_instruct": "/models/smol"}
    assert settings.revision_overrides == {"smollm2_135m_instruct": "abc123"}


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"IAGEN_PORT": "http"}, "IAGEN_PORT"),
        ({"IAGEN_SHARE": "maybe"}, "IAGEN_SHARE"),
        ({"IAGEN_PROFILE": "stadium"}, "profile"),
        ({"IAGEN_DEMOS": "tokenizer,doom"}, "doom"),
        ({"IAGEN_DEVICE": "tpu"}, "device"),
        ({"IAGEN_TORCH_THREADS": "0"}, "torch_threads"),
        ({"IAGEN_TAB": "nowhere"}, "tab"),
    ],
)
def test_bad_values_name_the_setting(environ, named):
    with pytest.raises(SettingsError, match=named):
        load_settings([], environ)


def test_every_option_has_a_flag_and_a_variable():
    names = [option.name for option in OPTIONS]
    assert len(names) == len(set(names))
    assert all(option.env.startswith("IAGEN_") and option.help for option in OPTIONS)


def test_process_settings_set_threads_and_silence_analytics(monkeypatch):
    for variable in ("OMP_NUM_THREADS", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    apply_process_settings(load_settings(["--torch-threads", "3", "--offline"], {}))
    import os

    assert os.environ["OMP_NUM_THREADS"] == "3"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_process_settings_stop_gradios_queue_rebuilding_its_figures_after_every_event(monkeypatch):
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    apply_process_settings(load_settings([], {}))
    import gradio as gr

    queue = gr.Blocks().queue()._queue
    assert queue.ANAYLTICS_CACHE_FREQUENCY == 1000  # Gradio's spelling; it reads the variable here
