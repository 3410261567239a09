#!/usr/bin/env python3
"""Peer benchmark: forward throughput of a GPT-2-small-shaped model in PyTorch.

Builds a GPT2LMHeadModel with GPT-2 small dimensions (12 layers, 768 wide,
12 heads, vocab 50257, 1024 positions) and HF-initialised random weights, then
times full forward passes (including the LM head) on a batch of random token
ids, once with transformers' default attention implementation and once with
"eager". Prints a single JSON line.

    python3 Tools/bench_torch.py [--threads 2] [--batch 8] [--seq 128] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel


def build_model(attn_implementation: str | None) -> GPT2LMHeadModel:
    torch.manual_seed(0)
    kwargs = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
    config = GPT2Config(
        vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, **kwargs
    )
    return GPT2LMHeadModel(config).float().eval()


def time_forward(model: GPT2LMHeadModel, input_ids: torch.Tensor, warmup: int, runs: int) -> list[float]:
    times = []
    with torch.no_grad():
        for _ in range(warmup):
            model(input_ids, use_cache=False)
        for _ in range(runs):
            start = time.perf_counter()
            model(input_ids, use_cache=False)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    transformers.utils.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, 50257, (args.batch, args.seq), generator=gen)
    tokens = args.batch * args.seq

    results = {}
    n_params = 0
    for requested in (None, "eager"):
        model = build_model(requested)
        resolved = model.config._attn_implementation
        n_params = sum(p.numel() for p in model.parameters())
        times = time_forward(model, input_ids, args.warmup, args.runs)
        median = statistics.median(times)
        key = "default" if requested is None else requested
        results[key] = {
            "attn_implementation": resolved,
            "times_s": [round(t, 4) for t in times],
            "median_s": round(median, 4),
            "tokens_per_s": round(tokens / median, 1),
        }
        del model

    print(
        json.dumps(
            {
                "bench": "torch-forward",
                "model": "gpt2-small-shape",
                "n_params": n_params,
                "batch": args.batch,
                "seq": args.seq,
                "threads": args.threads,
                "dtype": "float32",
                "warmup": args.warmup,
                "runs": args.runs,
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "machine": platform.machine(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
