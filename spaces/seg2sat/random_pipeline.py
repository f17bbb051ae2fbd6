"""Seg2Sat's architecture with random weights, built from configs: no download, for tests and benchmarks.

Two sizes of the same architecture (Stable Diffusion 2.1 base + a ControlNet copied from its UNet):

* "full": the real configs (docs/models.md). Compute does not depend on weight values, so timings
  with random weights hold for the real model.
* "tiny": the same blocks, a few channels each (~2 M parameters): 2 steps at 64 × 64 in well
  under a second, enough to run the production code end to end in the tests.

Both use a CLIP tokenizer built in memory from the 256 byte-level symbols with no merges (each
character is a token), because the real vocabulary is only on the model hub.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    AutoencoderTiny,
    ControlNetModel,
    PNDMScheduler,
    StableDiffusionControlNetPipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from spaces.seg2sat.logic import SD21_SCHEDULER_CONFIG

SIZES = ("tiny", "full")


def byte_level_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer whose vocabulary is the 256 byte symbols, alone and word-final ("</w>")."""
    symbols = list(bytes_to_unicode().values())
    vocabulary = {symbol: index for index, symbol in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocabulary["<|startoftext|>"] = len(vocabulary)
    vocabulary["<|endoftext|>"] = len(vocabulary)
    return CLIPTokenizer(vocab=vocabulary, merges=[], model_max_length=77)


def text_encoder(size: str, tokenizer: CLIPTokenizer) -> CLIPTextModel:
    special = dict(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    if size == "full":  # the OpenCLIP ViT-H text tower of SD 2.x, penultimate layer (23 of 24)
        config = CLIPTextConfig(
            vocab_size=49408,
            hidden_size=1024,
            intermediate_size=4096,
            num_hidden_layers=23,
            num_attention_heads=16,
            max_position_embeddings=77,
            hidden_act="gelu",
            projection_dim=512,
            **special,
        )
    else:
        config = CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            **special,
        )
    return CLIPTextModel(config)


def unet(size: str) -> UNet2DConditionModel:
    if size == "full":
        return UNet2DConditionModel(
            sample_size=64,
            block_out_channels=(320, 640, 1280, 1280),
            layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            attention_head_dim=(5, 10, 20, 20),
            cross_attention_dim=1024,
            use_linear_projection=True,
        )
    return UNet2DConditionModel(
        sample_size=8,
        block_out_channels=(32, 64),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=(2, 4),
        cross_attention_dim=32,
        use_linear_projection=True,
    )


def vae(size: str) -> AutoencoderKL:
    # Four blocks in both sizes: the latents must be 1/8 of the image, like the ControlNet's
    # conditioning encoder, which always divides the sketch by 8.
    channels, groups = ((128, 256, 512, 512), 32) if size == "full" else ((8, 8, 8, 8), 2)
    return AutoencoderKL(
        block_out_channels=channels,
        layers_per_block=2,
        norm_num_groups=groups,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
    )


def scheduler() -> PNDMScheduler:
    """The scheduler Stable Diffusion 2.1 base ships with (its scheduler_config.json)."""
    return PNDMScheduler(
        **SD21_SCHEDULER_CONFIG,
        set_alpha_to_one=False,
        skip_prk_steps=True,
        steps_offset=1,
        prediction_type="epsilon",
    )


def random_pipeline(
    size: str = "tiny", device: str = "cpu", dtype: torch.dtype = torch.float32, seed: int = 0
) -> StableDiffusionControlNetPipeline:
    """The whole pipeline in memory, weights drawn from `seed`, built directly on `device`."""
    if size not in SIZES:
        raise ValueError(f"size {size!r}: expected one of {SIZES}")
    torch.manual_seed(seed)
    tokenizer = byte_level_tokenizer()
    with torch.device(device):  # a 1.6 G-parameter model is initialised much faster on a GPU
        denoiser = unet(size)
        pipeline = StableDiffusionControlNetPipeline(
            vae=vae(size),
            text_encoder=text_encoder(size, tokenizer),
            tokenizer=tokenizer,
            unet=denoiser,
            controlnet=ControlNetModel.from_unet(denoiser),
            scheduler=scheduler(),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    return pipeline if dtype == torch.float32 else pipeline.to(dtype=dtype)


def save_base_model(folder: Path, size: str = "tiny", seed: int = 0) -> None:
    """Files laid out like the Stable Diffusion 2.1 base repository (no ControlNet in it)."""
    pipeline = random_pipeline(size, seed=seed)
    base = StableDiffusionPipeline(
        vae=pipeline.vae,
        text_encoder=pipeline.text_encoder,
        tokenizer=pipeline.tokenizer,
        unet=pipeline.unet,
        scheduler=pipeline.scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    base.save_pretrained(folder)


def save_controlnet(folder: Path, size: str = "tiny", seed: int = 0, safetensors: bool = True) -> None:
    """Files laid out like the Seg2Sat ControlNet repository: config.json and the weights, as
    safetensors (the repository today) or as a pickled .bin (its revisions before PR #1)."""
    torch.manual_seed(seed)
    ControlNetModel.from_unet(unet(size)).save_pretrained(folder, safe_serialization=safetensors)


def taesd(size: str = "tiny") -> AutoencoderTiny:
    """TAESD's architecture ("full": madebyollin/taesd's configuration, diffusers' defaults), or
    the same blocks with 8 channels: it decodes SD's latents to 8 times their size either way."""
    if size == "full":
        return AutoencoderTiny()
    return AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8))


def save_taesd(folder: Path, size: str = "tiny", seed: int = 0) -> None:
    """Files laid out like madebyollin/taesd's diffusers part: config.json and a safetensors."""
    torch.manual_seed(seed)
    taesd(size).save_pretrained(folder)


# The layers the LCM / TCD LoRA scripts adapt in a Stable Diffusion UNet (diffusers'
# examples/consistency_distillation, which the TCD LoRAs were trained with): attention, feed-forward,
# the transformers' projections, the ResNets' convolutions and time embeddings, the resamplers.
TCD_LORA_TARGETS = (
    "to_q",
    "to_k",
    "to_v",
    "to_out.0",
    "proj_in",
    "proj_out",
    "ff.net.0.proj",
    "ff.net.2",
    "conv1",
    "conv2",
    "conv_shortcut",
    "downsamplers.0.conv",
    "upsamplers.0.conv",
    "time_emb_proj",
)


def tcd_lora_state_dict(size: str = "tiny", rank: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random LoRA of `unet(size)` laid out as h1t/TCD-SD21-base-LoRA's pytorch_lora_weights.safetensors:
    the UNet only, kohya-style keys as those scripts save them (`get_module_kohya_state_dict`):
    "lora_unet_<module path, dots as underscores>.lora_down.weight" / ".lora_up.weight" / ".alpha",
    in float16. Unlike a freshly initialised LoRA (up = 0), both matrices are random, so that fusing
    it changes the weights."""
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model

    torch.manual_seed(seed)
    denoiser = unet(size)
    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=list(TCD_LORA_TARGETS), init_lora_weights=False)
    inject_adapter_in_model(config, denoiser)
    state = {}
    for name, weight in get_peft_model_state_dict(denoiser).items():
        key = "lora_unet_" + name.replace("lora_A", "lora_down").replace("lora_B", "lora_up")
        key = key.replace(".", "_", key.count(".") - 2)  # keep ".lora_down.weight" as it is
        state[key] = weight.to(torch.float16)
        if ".lora_down." in key:
            state[key.split(".")[0] + ".alpha"] = torch.tensor(float(config.lora_alpha), dtype=torch.float16)
    return state


def save_tcd_lora(folder: Path, size: str = "tiny", seed: int = 0) -> None:
    """The file of h1t/TCD-SD21-base-LoRA (see `tcd_lora_state_dict`)."""
    from safetensors.torch import save_file

    save_file(tcd_lora_state_dict(size, seed=seed), folder / "pytorch_lora_weights.safetensors")
