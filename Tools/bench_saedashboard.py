#!/usr/bin/env python3
"""Peer benchmark: SAEDashboard's feature-centric dashboards on CPU, for Loupe's feature atlas.

The setting mirrors the atlas benchmark of `make bench` (Sources/LoupeBench/AtlasBenchmark.swift):

- model: a TransformerLens `HookedTransformer` built from a `HookedTransformerConfig` with GPT-2 small
  dimensions (12 layers, d_model 768, 12 heads of 64, d_mlp 3072, d_vocab 50257, n_ctx 1024, `gelu_new`,
  LayerNorm), float32, random weights from TransformerLens's own initialisation (`seed=0`);
- dictionary: a sae-lens SAE 768 -> 4096 at `blocks.6.hook_resid_pre`, built from a config in code.
  `--architecture standard` (default) is a `StandardSAE` (ReLU); `--architecture topk` is a `TopKSAE`
  with `--k` (default 32, the dictionary of Loupe's benchmark). Weights are drawn like Loupe's benchmark
  does: `W_enc`, `W_dec` ~ N(0, 1/768), `b_enc` = `b_dec` = 0 (`torch.Generator` seed 1). For TopK the
  decoder rows are then scaled to unit norm and `rescale_acts_by_decoder_norm=True` is set: SaeVisRunner
  calls `sae.fold_W_dec_norm()`, which sae-lens refuses for a TopK SAE without that flag, and with unit
  rows the flag does not change which latents win;
- data: `--tokens N` windows of 128 random token ids in [0, 50257) (`torch.Generator` seed 2).

SAEDashboard's pipeline is run through its public entry points: `SaeVisConfig(hook_point=..., features=range(F),
minibatch_size_features=..., minibatch_size_tokens=..., device="cpu")` and
`SaeVisRunner(cfg).run(encoder=sae, model=model, tokens=tokens)` (its default feature-centric layout:
20 top-activating sequences, 10 quantile groups of 5, context buffer (5, 5), logit tables and
histograms, neuron/feature correlation tables), with `torch.set_num_threads(--threads)`. The result is
then written with `sae_dashboard.data_writing_fns.save_feature_centric_vis` into a temporary directory
(one HTML file for all features, its default; `--separate-files` writes one file per feature) and the
bytes are divided by the number of features.

Notes on SAEDashboard's behaviour that matter for the timing:

- the model forward pass stops after the hook's block (`stop_at_layer=7` here: blocks 0-6 run);
- the model sweep over all tokens is repeated once per feature minibatch (no `cache_dir`), so keep
  `--minibatch-features` >= `--features` to measure a single sweep (the default, 256, does that);
- for a ReLU SAE only the requested features are encoded (it slices `W_enc`); for a TopK SAE all
  4096 features are encoded and the requested ones selected;
- `SaeVisRunner.run` calls `sae.fold_W_dec_norm()` first (decoder rows rescaled to unit norm).

Offline: nothing is fetched from the Hugging Face hub. `save_feature_centric_vis` decodes token ids
through `model.tokenizer.vocab` (an id -> string dict) and TransformerLens's `set_tokenizer` re-loads
any tokenizer that lacks `add_bos_token=True` from the hub by name. So the model gets a local
`transformers.PreTrainedTokenizerFast` over a `tokenizers.models.WordLevel` vocabulary of 50257 tokens
`t0` ... `t50256` (the same token strings as Loupe's benchmark `WordTokenizer`), created with
`add_bos_token=True` so TransformerLens keeps it as is, and with a placeholder `name_or_path` in its
`init_kwargs` (TransformerLens pops that key; a tokenizer built from a `tokenizer_object` lacks it).

Install (sae-dashboard 0.8.0 pins transformers<4.57, transformer-lens<3 and safetensors<0.5, which
conflict with Tools/requirements.txt, so it goes into its own virtual environment that reuses the
installed torch and sae-lens; transformer-lens 2.x also pins numpy<2 on Python < 3.12, and the
system's pyarrow 26 refuses numpy 1.x at import while pyarrow 21 accepts it, hence the pyarrow pin):

    python3 -m venv --system-site-packages /tmp/saedash-venv
    /tmp/saedash-venv/bin/python -m pip install sae-dashboard==0.8.0 "pyarrow<22"
    /tmp/saedash-venv/bin/python Tools/bench_saedashboard.py [--features 256] [--tokens 1024]

Prints one JSON line: total seconds (SAEDashboard run + HTML save; model/SAE construction excluded and
reported separately), seconds per feature, features, tokens, windows, peak RSS, HTML bytes per feature
and package versions.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import resource
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

HOOK = "blocks.6.hook_resid_pre"
SEQ = 128
D_MODEL = 768
D_SAE = 4096
D_VOCAB = 50257


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def build_tokenizer():
    """A local 50257-token word-level tokenizer (`t0` ... `t50256`); no hub access."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    vocab = {f"t{i}": i for i in range(D_VOCAB)}
    backend = Tokenizer(WordLevel(vocab=vocab, unk_token="t0"))
    backend.pre_tokenizer = WhitespaceSplit()
    last = f"t{D_VOCAB - 1}"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        add_bos_token=True,  # otherwise TransformerLens re-loads the tokenizer from the hub by name
        bos_token=last,
        eos_token=last,
        pad_token=last,
        unk_token="t0",
    )
    # TransformerLens's get_tokenizer_with_bos pops this key; a tokenizer built from an object lacks it.
    tokenizer.init_kwargs.setdefault("name_or_path", "local-wordlevel-50257")
    return tokenizer


def build_model(tokenizer):
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=12,
        d_model=D_MODEL,
        n_heads=12,
        d_head=64,
        d_mlp=3072,
        d_vocab=D_VOCAB,
        n_ctx=1024,
        act_fn="gelu_new",
        normalization_type="LN",
        positional_embedding_type="standard",
        dtype=torch.float32,
        device="cpu",
        seed=0,
    )
    model = HookedTransformer(cfg, tokenizer=tokenizer)
    return model.eval()


def build_sae(architecture: str, k: int):
    from sae_lens import StandardSAE, StandardSAEConfig, TopKSAE, TopKSAEConfig

    if architecture == "topk":
        # SaeVisRunner.run calls fold_W_dec_norm(), which sae-lens refuses for a TopKSAE unless
        # rescale_acts_by_decoder_norm is set; with unit decoder rows (below) that flag changes nothing.
        cfg = TopKSAEConfig(
            d_in=D_MODEL, d_sae=D_SAE, k=k, apply_b_dec_to_input=True, rescale_acts_by_decoder_norm=True
        )
        cls = TopKSAE
    else:
        cfg = StandardSAEConfig(d_in=D_MODEL, d_sae=D_SAE, apply_b_dec_to_input=True)
        cls = StandardSAE
    cfg.metadata.hook_name = HOOK
    cfg.metadata.model_name = "gpt2-small-shape-random"
    sae = cls(cfg)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(D_MODEL, D_SAE, generator=gen) / D_MODEL**0.5)
        sae.W_dec.copy_(torch.randn(D_SAE, D_MODEL, generator=gen) / D_MODEL**0.5)
        if architecture == "topk":
            sae.W_dec.div_(sae.W_dec.norm(dim=1, keepdim=True))
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=256, help="features to build dashboards for (the first F)")
    parser.add_argument("--tokens", type=int, default=1024, help="number of 128-token windows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--architecture", choices=("standard", "topk"), default="standard")
    parser.add_argument("--k", type=int, default=32, help="k of the TopK SAE")
    parser.add_argument("--minibatch-features", type=int, default=256)
    parser.add_argument("--minibatch-tokens", type=int, default=64, help="windows per forward pass")
    parser.add_argument("--separate-files", action="store_true", help="one HTML file per feature")
    args = parser.parse_args()
    if not 1 <= args.features <= D_SAE:
        parser.error(f"--features must be in 1...{D_SAE}")

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)

    from sae_dashboard.data_writing_fns import save_feature_centric_vis
    from sae_dashboard.sae_vis_data import SaeVisConfig
    from sae_dashboard.sae_vis_runner import SaeVisRunner

    start = time.perf_counter()
    tokenizer = build_tokenizer()
    model = build_model(tokenizer)
    sae = build_sae(args.architecture, args.k)
    gen = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, D_VOCAB, (args.tokens, SEQ), generator=gen)
    build_s = time.perf_counter() - start

    cfg = SaeVisConfig(
        hook_point=HOOK,
        features=list(range(args.features)),
        minibatch_size_features=args.minibatch_features,
        minibatch_size_tokens=args.minibatch_tokens,
        device="cpu",
        dtype="float32",
        verbose=False,
    )

    start = time.perf_counter()
    data = SaeVisRunner(cfg).run(encoder=sae, model=model, tokens=tokens)
    run_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="saedashboard-bench-") as tmp:
        target = Path(tmp) / "feature_vis.html"
        start = time.perf_counter()
        save_feature_centric_vis(data, target, separate_files=args.separate_files)
        save_s = time.perf_counter() - start
        files = sorted(p.stat().st_size for p in Path(tmp).glob("*.html"))
    html_bytes = sum(files)

    total_s = run_s + save_s
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    result = {
        "bench": "saedashboard-feature-vis",
        "model": "gpt2-small-shape-random",
        "hook": HOOK,
        "sae": f"{args.architecture} {D_MODEL}->{D_SAE}" + (f" k={args.k}" if args.architecture == "topk" else ""),
        "features": args.features,
        "windows": args.tokens,
        "seq": SEQ,
        "tokens": args.tokens * SEQ,
        "threads": args.threads,
        "minibatch_size_features": args.minibatch_features,
        "minibatch_size_tokens": args.minibatch_tokens,
        "build_s": round(build_s, 3),
        "run_s": round(run_s, 3),
        "save_s": round(save_s, 3),
        "seconds_total": round(total_s, 3),
        "seconds_per_feature": round(total_s / args.features, 4),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "html_files": len(files),
        "html_bytes": html_bytes,
        "html_bytes_per_feature": round(html_bytes / args.features, 1),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sae-dashboard": version("sae-dashboard"),
            "sae-lens": version("sae-lens"),
            "transformer-lens": version("transformer-lens"),
            "transformers": version("transformers"),
            "numpy": version("numpy"),
        },
        "machine": platform.machine(),
    }
    if args.separate_files:
        result["html_file_bytes_median"] = int(statistics.median(files))
        result["html_file_bytes_max"] = files[-1]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
