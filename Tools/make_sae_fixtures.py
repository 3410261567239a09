#!/usr/bin/env python3
"""Reference SAELens dictionaries for Loupe's dictionary tests (Tests/Fixtures/sae/).

Every dictionary is built with sae-lens itself, with seeded random weights, and
written in the layout SAELens reads (`cfg.json` + `sae_weights.safetensors`).
Next to each one, `reference.safetensors` holds 20 input rows and what
SAELens's own `encode` / `decode` return for them.

    python3 Tools/make_sae_fixtures.py                 # regenerate Tests/Fixtures/sae/
    python3 Tools/make_sae_fixtures.py --check DIR ENCODED.safetensors INPUT.safetensors TENSOR

`--check` loads DIR with SAELens and compares its encode / decode of
INPUT[TENSOR] with `feature_acts` / `reconstruction` in ENCODED (the output of
`loupe encode`), to 1e-4.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

import sae_lens
from sae_lens import SAE, JumpReLUSAE, JumpReLUSAEConfig, StandardSAE, StandardSAEConfig, TopKSAE, TopKSAEConfig
from sae_lens.training.activation_scaler import ActivationScaler

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "sae"
ROWS = 20
D_SAE = 64
SIZE_LIMIT = 300 * 1024
# Smallest distance allowed between a pre-activation and a discontinuity of the
# activation (the k-th/(k+1)-th boundary of TopK, the JumpReLU threshold), so
# float32 rounding in another implementation cannot flip a latent on or off.
MARGIN = 1e-3


def random_weights(sae, generator, d_in, decoder_norm_spread=0.0):
    """Fills W_enc, b_enc, W_dec, b_dec with values large enough that latents differ clearly; decoder rows
    have norms in [1, 1 + decoder_norm_spread]."""
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(d_in, D_SAE, generator=generator) / d_in**0.5)
        sae.b_enc.copy_(torch.randn(D_SAE, generator=generator) * 0.5)
        rows = torch.randn(D_SAE, d_in, generator=generator)
        rows = rows / rows.norm(dim=-1, keepdim=True)
        norms = 1.0 + decoder_norm_spread * torch.rand(D_SAE, 1, generator=generator)
        sae.W_dec.copy_(rows * norms)
        sae.b_dec.copy_(torch.randn(d_in, generator=generator) * 0.3)


def hidden_pre(sae, x, scale=None):
    """SAELens's pre-activations for `x` (after input scaling), for the margin checks."""
    with torch.no_grad():
        if scale is not None:
            x = x * scale
        sae_in = sae.process_sae_in(x)
        pre = sae_in @ sae.W_enc + sae.b_enc
        if getattr(sae.cfg, "rescale_acts_by_decoder_norm", False):
            pre = pre * sae.W_dec.norm(dim=-1)
        return pre


def safe_inputs(sae, generator, d_in, input_scale, kind, scale=None):
    """ROWS input rows, each redrawn until no pre-activation sits within MARGIN of a discontinuity."""
    rows = []
    while len(rows) < ROWS:
        x = torch.randn(1, d_in, generator=generator) * input_scale + 0.2 * input_scale
        pre = hidden_pre(sae, x, scale)[0]
        if kind == "topk":
            top = torch.sort(pre, descending=True).values
            k = sae.cfg.k
            if top[k - 1] - top[k] < MARGIN:
                continue
        elif kind == "jumprelu":
            if (pre - sae.threshold).abs().min() < MARGIN:
                continue
        rows.append(x)
    return torch.cat(rows)


def write_reference(directory, x, feature_acts, reconstruction):
    save_file(
        {"input": x.contiguous(), "feature_acts": feature_acts.contiguous(), "reconstruction": reconstruction.contiguous()},
        directory / "reference.safetensors",
    )


def sae_lens_reference(directory, x):
    """Encodes and decodes `x` with the dictionary SAELens loads from `directory`."""
    sae = SAE.load_from_disk(str(directory))
    with torch.no_grad():
        f = sae.encode(x)
        return f, sae.decode(f)


def assert_close(a, b, what):
    worst = (a - b).abs().max().item() / max(1.0, b.abs().max().item())
    if worst > 1e-5:
        raise SystemExit(f"{what}: differs by {worst}")


def make_standard_nested(generator):
    """standard (ReLU), d_in 32, apply_b_dec_to_input true; SAELens's own save_model (nested cfg)."""
    d_in = 32
    cfg = StandardSAEConfig(d_in=d_in, d_sae=D_SAE, apply_b_dec_to_input=True)
    cfg.metadata.hook_name = "blocks.1.hook_resid_post"
    cfg.metadata.model_name = "loupe-fixture"
    sae = StandardSAE(cfg)
    random_weights(sae, generator, d_in)
    directory = OUT / "standard-nested"
    sae.save_model(str(directory))
    x = safe_inputs(sae, generator, d_in, 1.0, "standard")
    f, recon = sae_lens_reference(directory, x)
    write_reference(directory, x, f, recon)


def make_topk_flat(generator):
    """topk k=6, d_in 16, apply_b_dec_to_input false; an older flat cfg written by hand (hook_point,
    activation_fn_str topk with activation_fn_kwargs.k, architecture 'standard')."""
    d_in = 16
    cfg = TopKSAEConfig(d_in=d_in, d_sae=D_SAE, k=6, apply_b_dec_to_input=False)
    sae = TopKSAE(cfg)
    random_weights(sae, generator, d_in)
    directory = OUT / "topk-flat"
    directory.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.contiguous() for name, tensor in sae.state_dict().items()}, directory / "sae_weights.safetensors")
    flat = {
        "model_name": "loupe-fixture",
        "hook_point": "blocks.0.hook_mlp_out",
        "hook_point_layer": 0,
        "hook_point_head_index": None,
        "d_in": d_in,
        "d_sae": D_SAE,
        "architecture": "standard",
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": 6},
        "apply_b_dec_to_input": False,
        "finetuning_scaling_factor": False,
        "normalize_activations": "none",
        "context_size": 128,
        "dtype": "float32",
        "device": "cpu",
        "sae_lens_training_version": "3.13.0",
    }
    (directory / "cfg.json").write_text(json.dumps(flat, indent=2) + "\n")
    x = safe_inputs(sae, generator, d_in, 1.0, "topk")
    f, recon = sae_lens_reference(directory, x)
    with torch.no_grad():
        assert_close(f, sae.encode(x), "topk-flat: loaded vs built encode")
    write_reference(directory, x, f, recon)


def make_topk_rescaled(generator):
    """topk k=5, d_in 32, rescale_acts_by_decoder_norm true and decoder rows of norm 1–3;
    apply_b_dec_to_input true; nested cfg."""
    d_in = 32
    cfg = TopKSAEConfig(d_in=d_in, d_sae=D_SAE, k=5, rescale_acts_by_decoder_norm=True, apply_b_dec_to_input=True)
    cfg.metadata.hook_name = "blocks.0.hook_resid_mid"
    sae = TopKSAE(cfg)
    random_weights(sae, generator, d_in, decoder_norm_spread=2.0)
    directory = OUT / "topk-rescaled"
    sae.save_model(str(directory))
    x = safe_inputs(sae, generator, d_in, 1.0, "topk")
    f, recon = sae_lens_reference(directory, x)
    write_reference(directory, x, f, recon)


def jumprelu_sae(generator, d_in, apply_b_dec):
    cfg = JumpReLUSAEConfig(d_in=d_in, d_sae=D_SAE, apply_b_dec_to_input=apply_b_dec)
    cfg.metadata.hook_name = "blocks.2.hook_resid_pre"
    sae = JumpReLUSAE(cfg)
    random_weights(sae, generator, d_in)
    with torch.no_grad():
        sae.threshold.copy_(0.05 + 0.6 * torch.rand(D_SAE, generator=generator))
    return sae


def make_jumprelu_nested(generator):
    """jumprelu, d_in 16, apply_b_dec_to_input false, thresholds in [0.05, 0.65]; SAELens's save_model."""
    d_in = 16
    sae = jumprelu_sae(generator, d_in, apply_b_dec=False)
    directory = OUT / "jumprelu-nested"
    sae.save_model(str(directory))
    x = safe_inputs(sae, generator, d_in, 1.0, "jumprelu")
    f, recon = sae_lens_reference(directory, x)
    write_reference(directory, x, f, recon)


def make_jumprelu_log_threshold(generator):
    """jumprelu, d_in 16, apply_b_dec_to_input true, the threshold stored as `log_threshold` (the form of
    older SAELens training checkpoints) and a flat cfg. SAELens's inference JumpReLUSAE does not read
    `log_threshold`; its training class converts it (threshold = exp(log_threshold)), so the reference
    comes from that conversion followed by the inference encode."""
    d_in = 16
    sae = jumprelu_sae(generator, d_in, apply_b_dec=True)
    directory = OUT / "jumprelu-log-threshold"
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.clone().contiguous() for name, tensor in sae.state_dict().items()}
    state["log_threshold"] = torch.log(state.pop("threshold")).contiguous()
    save_file(state, directory / "sae_weights.safetensors")
    flat = {
        "architecture": "jumprelu",
        "d_in": d_in,
        "d_sae": D_SAE,
        "hook_name": "blocks.2.hook_resid_pre",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "dtype": "float32",
        "device": "cpu",
    }
    (directory / "cfg.json").write_text(json.dumps(flat, indent=2) + "\n")
    x = safe_inputs(sae, generator, d_in, 1.0, "jumprelu")
    cfg_dict, state_dict = sae_lens.loading.pretrained_sae_loaders.sae_lens_disk_loader(str(directory))
    from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE

    JumpReLUTrainingSAE.process_state_dict_for_loading(None, state_dict)
    loaded = JumpReLUSAE(JumpReLUSAEConfig(d_in=d_in, d_sae=D_SAE, apply_b_dec_to_input=True))
    loaded.load_state_dict(state_dict)
    with torch.no_grad():
        f = loaded.encode(x)
        recon = loaded.decode(f)
        assert_close(f, sae.encode(x), "jumprelu-log-threshold: converted vs built encode")
    write_reference(directory, x, f, recon)


def make_standard_scaled(generator):
    """standard, d_in 32, apply_b_dec_to_input true, normalize_activations expected_average_only_in, in the
    layout of a SAELens training checkpoint: unfolded weights, nested cfg, and `activation_scaler.json`
    holding the factor s = sqrt(d_in) / mean input norm. SAELens trains on s·x and reports x̂ / s; at the
    end of training it folds s into the weights (fold_activation_norm_scaling_factor). The reference is
    that folded dictionary's encode / decode of the raw rows, checked against scale → encode → decode →
    unscale with the unfolded one."""
    d_in = 32
    cfg = StandardSAEConfig(d_in=d_in, d_sae=D_SAE, apply_b_dec_to_input=True, normalize_activations="expected_average_only_in")
    cfg.metadata.hook_name = "blocks.1.hook_resid_pre"
    sae = StandardSAE(cfg)
    random_weights(sae, generator, d_in)
    input_scale = 12.0
    sample = torch.randn(4096, d_in, generator=generator) * input_scale + 0.2 * input_scale
    scale = d_in**0.5 / sample.norm(dim=-1).mean().item()
    directory = OUT / "standard-scaled"
    sae.save_model(str(directory))
    scaler = ActivationScaler(scaling_factor=scale)
    scaler.save(str(directory / "activation_scaler.json"))
    x = safe_inputs(sae, generator, d_in, input_scale, "standard", scale=scale)
    with torch.no_grad():
        f_unfolded = sae.encode(scaler.scale(x))
        recon_unfolded = scaler.unscale(sae.decode(f_unfolded))
        folded = SAE.load_from_disk(str(directory))
        if folded.cfg.normalize_activations != "expected_average_only_in":
            raise SystemExit("standard-scaled: SAELens did not keep normalize_activations")
        folded.fold_activation_norm_scaling_factor(scale)
        f = folded.encode(x)
        recon = folded.decode(f)
    assert_close(f, f_unfolded, "standard-scaled: folded vs unfolded features")
    assert_close(recon, recon_unfolded, "standard-scaled: folded vs unfolded reconstruction")
    write_reference(directory, x, f, recon)


def generate():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    makers = [
        make_standard_nested,
        make_topk_flat,
        make_topk_rescaled,
        make_jumprelu_nested,
        make_jumprelu_log_threshold,
        make_standard_scaled,
    ]
    for index, maker in enumerate(makers):
        generator = torch.Generator().manual_seed(1000 + index)
        maker(generator)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)} ({total} bytes, sae-lens {sae_lens.__version__})")
    if total >= SIZE_LIMIT:
        raise SystemExit(f"fixtures are {total} bytes, over the {SIZE_LIMIT}-byte limit")


def check(directory, encoded_path, input_path, tensor):
    x = load_file(input_path)[tensor]
    sae = SAE.load_from_disk(directory)
    x = x.reshape(-1, sae.cfg.d_in)
    encoded = load_file(encoded_path)
    with torch.no_grad():
        f = sae.encode(x)
        recon = sae.decode(f)
    worst_f = (f - encoded["feature_acts"]).abs().max().item()
    worst_r = (recon - encoded["reconstruction"].reshape(recon.shape)).abs().max().item()
    print(json.dumps({"architecture": sae.cfg.architecture(), "feature_acts": worst_f, "reconstruction": worst_r}))
    if max(worst_f, worst_r) > 1e-4:
        raise SystemExit("SAELens and Loupe disagree")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", nargs=4, metavar=("DIR", "ENCODED", "INPUT", "TENSOR"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        check(*args.check)
    else:
        generate()


if __name__ == "__main__":
    sys.exit(main())
