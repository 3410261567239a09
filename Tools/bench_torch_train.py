#!/usr/bin/env python3
"""Peer benchmark: training throughput (one AdamW step) of GPT-2-shaped models in PyTorch.

Times full optimizer steps (forward with the LM head, mean cross-entropy, backward, gradient
clipping to norm 1, AdamW with weight decay 0.1) of a GPT2LMHeadModel with random weights on
random token ids, for two shapes:

- demo: 4 layers, width 128, 4 heads, MLP 512, context 64, vocabulary 311 (the toy world's),
  batch 32 x 64;
- gpt2-small: 12 layers, width 768, 12 heads, vocabulary 50257, batch 8 x 128.

Prints one JSON line with tokens/s (batch tokens / median step time) per shape.

    python3 Tools/bench_torch_train.py [--threads 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel

SHAPES = {
    "demo": dict(config=dict(vocab_size=311, n_positions=64, n_embd=128, n_layer=4, n_head=4, n_inner=512), batch=32, seq=64),
    "gpt2-small": dict(config=dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12), batch=8, seq=128),
}


def time_steps(shape: dict, warmup: int, runs: int) -> list[float]:
    torch.manual_seed(0)
    config = GPT2Config(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **shape["config"])
    model = GPT2LMHeadModel(config).float().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, config.vocab_size, (shape["batch"], shape["seq"] + 1), generator=gen)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    times = []
    for step in range(warmup + runs):
        start = time.perf_counter()
        logits = model(inputs, use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    transformers.utils.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    results = {}
    for name, shape in SHAPES.items():
        runs = args.runs if name == "demo" else max(2, args.runs // 2)
        times = time_steps(shape, args.warmup if name == "demo" else 1, runs)
        median = statistics.median(times)
        results[name] = {
            "batch": shape["batch"], "seq": shape["seq"], "times_s": [round(t, 4) for t in times],
            "median_s": round(median, 4), "tokens_per_s": round(shape["batch"] * shape["seq"] / median, 1),
        }
    print(json.dumps({"bench": "torch-train", "threads": args.threads, "torch": torch.__version__,
                      "transformers": transformers.__version__, "results": results}))


if __name__ == "__main__":
    main()
