#!/usr/bin/env python3
"""Reference fixture for Loupe's inversion decoder (InversionView's decoder).

Run from the repository root:

    python3 Tools/make_decoder_fixtures.py

Writes Tests/Fixtures/decoder/:

    config.json           the body's GPT-2 config + an "inversion_decoder" object
    model.safetensors     every parameter, float32 (random, seeded)
    batch.json            3 examples: site, raw (unscaled) activation, probed tokens
    expected.safetensors  loss [1], logits [3, 9, 11], prefix [L, 3, C] and
                          grad.<parameter name> for every parameter, float32

The decoder is a GPT-2-style language model over the probed tokens, conditioned
on one activation of one site through a per-layer prefix slot:

    x0  = concat(pad(a * scale[s], A), site_embedding[s])                 [A + E]
    h   = x0 @ condition.input.weight + condition.input.bias              [C]
    h   = h + fc2(relu(fc1(LN_i(h))))        for each conditioning block i
    c   = LN(h; condition.ln_final)
    p_l = LN(c @ prefix.l.weight + prefix.l.bias; prefix.l.ln)            [C], per layer l
    y   = [0] + tokens + [0]  (id 0 is BOS/EOS), padded with 0 to the batch's longest
    h   = wte[y] + wpe[0..T);  before block l: h[0] = p_l;  h = GPT2Block_l(h)
    logits = ln_f(h) @ wte.T  (tied)

Position i (0 <= i <= n) predicts y[i + 1]; the EOS position and the padding have
target -1 (ignored). The loss is one mean cross-entropy over all the targets of
the batch (not a mean of per-example means). Matrices are [in, out] (x @ W + b),
like GPT-2's Conv1D; layer norms use the biased variance and eps 1e-5.

Everything is computed in float64 from the float32 values that are stored (the
parameters and activations are drawn, rounded to float32 and used as such), and
stored as float32. The GPT-2 blocks are transformers' own GPT2Block modules.

Checks: with the row-0 overwrite disabled the forward pass equals
GPT2LMHeadModel's logits on y; the body loads back with
GPT2LMHeadModel.from_pretrained from the written directory; the loss equals a
hand-written masked mean; central finite differences on 3 random parameter
entries agree with autograd to 1e-6. Deterministic: a second run gives
byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "Tests" / "Fixtures" / "decoder"

# Body (GPT-2)
V, C, L, HEADS, INNER, POSITIONS = 11, 16, 2, 2, 32, 12
EPS = 1e-5
BOS = 0  # also EOS and padding

# Conditioning
SITES = [
    {"hook": "blocks.0.hook_resid_post", "head": None, "width": 8, "scale": 0.5},
    {"hook": "blocks.1.attn.hook_z", "head": 1, "width": 4, "scale": 2.0},
]
A = max(s["width"] for s in SITES)  # activation_width
E = 3  # site_embedding_width
N_BLOCKS = 2  # conditioning_blocks

# Batch: (site, number of probed tokens)
EXAMPLES = [(0, 5), (1, 3), (0, 7)]
ZERO_TOKEN_AT = (2, 3)  # example 2 gets token id 0 at this position (a 0 inside a sequence)

PARAM_SEED = 20240611
BATCH_SEED = 7
FD_SEED = 3
FD_STEP = 1e-5
FD_ATOL = 1e-6
RELU_MARGIN = 1e-3
SIZE_BUDGET = 200_000

DTYPE = torch.float64


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def body_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "transformer.wte.weight": (V, C),
        "transformer.wpe.weight": (POSITIONS, C),
    }
    for l in range(L):
        p = f"transformer.h.{l}."
        shapes.update({
            p + "ln_1.weight": (C,), p + "ln_1.bias": (C,),
            p + "attn.c_attn.weight": (C, 3 * C), p + "attn.c_attn.bias": (3 * C,),
            p + "attn.c_proj.weight": (C, C), p + "attn.c_proj.bias": (C,),
            p + "ln_2.weight": (C,), p + "ln_2.bias": (C,),
            p + "mlp.c_fc.weight": (C, INNER), p + "mlp.c_fc.bias": (INNER,),
            p + "mlp.c_proj.weight": (INNER, C), p + "mlp.c_proj.bias": (C,),
        })
    shapes["transformer.ln_f.weight"] = (C,)
    shapes["transformer.ln_f.bias"] = (C,)
    return shapes


def conditioning_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "site_embedding": (len(SITES), E),
        "condition.input.weight": (A + E, C),
        "condition.input.bias": (C,),
    }
    for i in range(N_BLOCKS):
        p = f"condition.blocks.{i}."
        shapes.update({
            p + "ln.weight": (C,), p + "ln.bias": (C,),
            p + "fc1.weight": (C, C), p + "fc1.bias": (C,),
            p + "fc2.weight": (C, C), p + "fc2.bias": (C,),
        })
    shapes["condition.ln_final.weight"] = (C,)
    shapes["condition.ln_final.bias"] = (C,)
    for l in range(L):
        shapes.update({
            f"prefix.{l}.weight": (C, C), f"prefix.{l}.bias": (C,),
            f"prefix.{l}.ln.weight": (C,), f"prefix.{l}.ln.bias": (C,),
        })
    return shapes


def is_layer_norm_weight(name: str) -> bool:
    parts = name.split(".")
    return parts[-1] == "weight" and parts[-2].startswith("ln")


def make_parameters() -> dict[str, torch.Tensor]:
    """Random float32 values (returned as float64): layer-norm weights 1 + 0.1 N,
    biases 0.05 N, matrices and embeddings 0.2 N."""
    gen = torch.Generator().manual_seed(PARAM_SEED)
    out = {}
    for name, shape in {**body_shapes(), **conditioning_shapes()}.items():
        z = torch.randn(shape, generator=gen, dtype=torch.float64)
        if is_layer_norm_weight(name):
            v = 1.0 + 0.1 * z
        elif name.endswith("bias"):
            v = 0.05 * z
        else:
            v = 0.2 * z
        out[name] = v.float().double()
    return out


def hf_config_dict() -> dict:
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": V,
        "n_positions": POSITIONS,
        "n_ctx": POSITIONS,
        "n_embd": C,
        "n_head": HEADS,
        "n_layer": L,
        "n_inner": INNER,
        "layer_norm_epsilon": EPS,
        "activation_function": "gelu_new",
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True,
        "bos_token_id": BOS,
        "eos_token_id": BOS,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
    }


def decoder_config_dict() -> dict:
    return {
        "format_version": 1,
        "probed_model_fingerprint": "0000000000000000",
        "sites": SITES,
        "activation_width": A,
        "site_embedding_width": E,
        "conditioning_blocks": N_BLOCKS,
        "prepend_bos": True,
        "bos_token_id": BOS,
    }


def make_body(params: dict[str, torch.Tensor]):
    """GPT2LMHeadModel (eager attention, float64, eval mode) holding the body
    parameters. Its parameters are the very tensors differentiated below."""
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = {k: v for k, v in hf_config_dict().items() if k not in ("model_type", "architectures", "n_ctx")}
    config = GPT2Config(**cfg)
    config._attn_implementation = "eager"
    torch.manual_seed(0)  # HF's own init, overwritten below
    model = GPT2LMHeadModel(config).to(DTYPE).eval()
    assert model.lm_head.weight is model.transformer.wte.weight, "lm_head must be tied to wte"
    own = dict(model.transformer.named_parameters())
    assert set("transformer." + k for k in own) == set(body_shapes()), sorted(own)
    with torch.no_grad():
        for k, p in own.items():
            p.copy_(params["transformer." + k])
    return model


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------


def make_batch() -> tuple[list[int], list[np.ndarray], list[list[int]]]:
    rng = np.random.default_rng(BATCH_SEED)
    sites, acts, tokens = [], [], []
    for s, n in EXAMPLES:
        sites.append(s)
        acts.append((rng.standard_normal(SITES[s]["width"]) * 3.0).astype(np.float32))
        tokens.append([int(t) for t in rng.integers(0, V, n)])
    b, i = ZERO_TOKEN_AT
    tokens[b][i] = 0
    return sites, acts, tokens


def decoder_inputs(tokens: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """y = [BOS] + tokens + [EOS], padded with 0; targets y[i + 1] for i <= n, else -1."""
    T = max(len(t) for t in tokens) + 2
    y = torch.full((len(tokens), T), BOS, dtype=torch.long)
    targets = torch.full((len(tokens), T), -1, dtype=torch.long)
    for b, t in enumerate(tokens):
        seq = [BOS] + t + [BOS]
        y[b, : len(seq)] = torch.tensor(seq)
        targets[b, : len(seq) - 1] = torch.tensor(seq[1:])
    return y, targets


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------


def layer_norm(x: torch.Tensor, P: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), P[prefix + ".weight"], P[prefix + ".bias"], eps=EPS)


def prefixes(P, sites: list[int], acts: list[np.ndarray], relu_inputs: list | None = None) -> torch.Tensor:
    """p_l per example: [L, B, C]. relu_inputs, if given, receives each
    conditioning block's ReLU input [B, C]."""
    B = len(sites)
    x = torch.zeros(B, A, dtype=DTYPE)
    for b, (s, a) in enumerate(zip(sites, acts)):
        x[b, : len(a)] = torch.from_numpy(a.astype(np.float64)) * SITES[s]["scale"]
    x0 = torch.cat([x, P["site_embedding"][torch.tensor(sites)]], dim=-1)
    h = x0 @ P["condition.input.weight"] + P["condition.input.bias"]
    for i in range(N_BLOCKS):
        p = f"condition.blocks.{i}"
        u = layer_norm(h, P, p + ".ln")
        u = u @ P[p + ".fc1.weight"] + P[p + ".fc1.bias"]
        if relu_inputs is not None:
            relu_inputs.append(u.detach())
        u = torch.relu(u)
        h = h + (u @ P[p + ".fc2.weight"] + P[p + ".fc2.bias"])
    c = layer_norm(h, P, "condition.ln_final")
    return torch.stack([
        layer_norm(c @ P[f"prefix.{l}.weight"] + P[f"prefix.{l}.bias"], P, f"prefix.{l}.ln") for l in range(L)
    ])


def causal_mask(T: int) -> torch.Tensor:
    """Additive [1, 1, T, T] mask. transformers' eager attention adds the mask it
    is given and nothing else: with attention_mask=None a GPT2Block called on its
    own attends to every position (only the sdpa path falls back to is_causal),
    so causality is passed explicitly."""
    m = torch.full((T, T), torch.finfo(DTYPE).min, dtype=DTYPE).triu(1)
    return m[None, None]


def decoder_logits(P, model, y: torch.Tensor, prefix: torch.Tensor | None) -> torch.Tensor:
    """Logits [B, T, V]; prefix [L, B, C] overwrites row 0 before each block (None: no overwrite)."""
    T = y.shape[1]
    h = P["transformer.wte.weight"][y] + P["transformer.wpe.weight"][:T]
    mask = causal_mask(T)
    for l, block in enumerate(model.transformer.h):
        if prefix is not None:
            h = torch.cat([prefix[l][:, None, :], h[:, 1:]], dim=1)
        out = block(h, attention_mask=mask)
        h = out[0] if isinstance(out, tuple) else out
    h = layer_norm(h, P, "transformer.ln_f")
    return h @ P["transformer.wte.weight"].T


def loss_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1, reduction="mean")


def forward(P, model, sites, acts, y, targets):
    prefix = prefixes(P, sites, acts)
    logits = decoder_logits(P, model, y, prefix)
    return loss_of(logits, targets), logits, prefix


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def check_against_hf(P, model, y: torch.Tensor) -> None:
    with torch.no_grad():
        ours = decoder_logits(P, model, y, None)
        hf = model(input_ids=y, use_cache=False).logits
    diff = (ours - hf).abs().max().item()
    print(f"  no overwrite vs GPT2LMHeadModel(y).logits: max abs diff {diff:.1e}")
    assert diff < 1e-12, diff


def check_loss(loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, count: int) -> None:
    logp = torch.log_softmax(logits.detach(), -1)
    total = 0.0
    seen = 0
    for b in range(targets.shape[0]):
        for i in range(targets.shape[1]):
            t = targets[b, i].item()
            if t >= 0:
                total -= logp[b, i, t].item()
                seen += 1
    assert seen == count, (seen, count)
    assert abs(total / seen - loss.item()) < 1e-12, (total / seen, loss.item())


def check_finite_differences(P, model, sites, acts, y, targets, grads: dict[str, torch.Tensor]) -> None:
    """Central differences (float64, step 1e-5) on 3 random entries: one of the
    conditioning path (site embedding, conditioning network, prefix maps), one of
    the GPT-2 body and one anywhere, each with a gradient of at least a tenth of
    its tensor's largest."""
    gen = torch.Generator().manual_seed(FD_SEED)
    cond = list(conditioning_shapes())
    body = list(body_shapes())
    everything = cond + body

    def pick(names: list[str]) -> str:
        return names[torch.randint(len(names), (1,), generator=gen).item()]

    for name in (pick(cond), pick(body), pick(everything)):
        g = grads[name]
        flat = g.reshape(-1).abs()
        candidates = torch.nonzero(flat >= 0.1 * flat.max()).reshape(-1)
        k = candidates[torch.randint(len(candidates), (1,), generator=gen)].item()
        idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(k), g.shape))
        p = P[name]
        with torch.no_grad():
            orig = p[idx].item()
            p[idx] = orig + FD_STEP
            up = forward(P, model, sites, acts, y, targets)[0].item()
            p[idx] = orig - FD_STEP
            down = forward(P, model, sites, acts, y, targets)[0].item()
            p[idx] = orig
        fd = (up - down) / (2 * FD_STEP)
        ag = g[idx].item()
        diff = abs(fd - ag)
        print(f"  fd {name}{list(idx)}: finite difference {fd:.12e}, autograd {ag:.12e}, "
              f"abs diff {diff:.1e}, rel diff {diff / max(abs(ag), 1e-30):.1e}")
        assert diff < FD_ATOL, f"finite difference check failed for {name}{list(idx)}: {diff}"


def check_reload(params32: dict[str, torch.Tensor], y: torch.Tensor, logits_plain: torch.Tensor) -> None:
    """The written directory loads as a plain GPT2LMHeadModel (body only; the
    conditioning tensors are extra keys) with exactly the stored weights."""
    from transformers import GPT2LMHeadModel

    m = GPT2LMHeadModel.from_pretrained(str(OUT), attn_implementation="eager", dtype=torch.float32).eval()
    for k, v in m.transformer.state_dict().items():
        assert torch.equal(v, params32["transformer." + k]), k
    with torch.no_grad():
        diff = (m(input_ids=y, use_cache=False).logits.double() - logits_plain).abs().max().item()
    print(f"  from_pretrained({OUT.relative_to(REPO_ROOT)}) float32 vs float64 reference: max abs diff {diff:.1e}")
    assert diff < 1e-4, diff


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def to_json(obj, indent: int = 0) -> str:
    """Sorted keys, indent 2, lists of scalars on one line."""
    pad = " " * indent
    inner = " " * (indent + 2)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {to_json(obj[k], indent + 2)}" for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return "[" + ", ".join(json.dumps(x) for x in obj) + "]"
        return "[\n" + ",\n".join(inner + to_json(x, indent + 2) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def write_json(path: Path, obj) -> None:
    text = to_json(obj) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    assert json.loads(text) == obj, f"{path.name} does not round-trip"


def main() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    params = make_parameters()
    model = make_body(params)
    # One dict of leaf tensors: the body entries are the HF model's own parameters.
    P: dict[str, torch.Tensor] = {"transformer." + k: p for k, p in model.transformer.named_parameters()}
    for k in conditioning_shapes():
        P[k] = params[k].clone().requires_grad_(True)
    names = list(params)
    assert set(P) == set(names)

    sites, acts, tokens = make_batch()
    y, targets = decoder_inputs(tokens)
    B, T = y.shape
    assert (B, T) == (3, 9), (B, T)
    count = sum(len(t) + 1 for t in tokens)

    print("checks:")
    check_against_hf(P, model, y)
    # No ReLU input of the conditioning network may sit near its kink, where
    # float32 rounding could switch a unit on or off.
    pre: list[torch.Tensor] = []
    with torch.no_grad():
        prefixes(P, sites, acts, pre)
    margin = min(t.abs().min().item() for t in pre)
    print(f"  smallest |ReLU input| in the conditioning blocks: {margin:.2e}")
    assert margin > RELU_MARGIN, margin

    loss, logits, prefix = forward(P, model, sites, acts, y, targets)
    check_loss(loss, logits, targets, count)
    got = torch.autograd.grad(loss, [P[n] for n in names])
    grads = {n: g.detach().clone() for n, g in zip(names, got)}
    check_finite_differences(P, model, sites, acts, y, targets, grads)

    # Expected zero rows of the wpe gradient: row 0 never reaches the output (it
    # is overwritten by the prefix before every block); row T - 1 is only used at
    # the last position, whose target is ignored in every example (EOS or
    # padding) and which no earlier position attends to; rows T.. are never used.
    wpe = grads["transformer.wpe.weight"]
    zero_rows = [0, T - 1, *range(T, POSITIONS)]
    live_rows = [r for r in range(POSITIONS) if r not in zero_rows]
    assert torch.all(wpe[zero_rows] == 0), "unexpected non-zero wpe gradient"
    assert torch.all(wpe[live_rows].abs().amax(-1) > 0), "unexpected zero wpe gradient"

    print("max |grad| per parameter (fraction of exactly zero entries):")
    for n in names:
        g = grads[n]
        assert g.shape == params[n].shape and torch.isfinite(g).all(), n
        zero = (g == 0).double().mean().item()
        print(f"  {n:40s} {list(g.shape)!s:9s} {g.abs().max().item():.3e}  ({zero:.2f})")
        assert g.abs().max() > 0, f"{n}: zero gradient"

    # --- write ------------------------------------------------------------------
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / "config.json", {**hf_config_dict(), "inversion_decoder": decoder_config_dict()})
    params32 = {n: params[n].float().contiguous() for n in names}
    # `site_reference` [S, A]: the activation each site's shading is compared against (Loupe stores
    # the mean training activation there); it plays no part in the loss, so a fixed pattern will do.
    reference = torch.arange(len(SITES) * A, dtype=torch.float32).reshape(len(SITES), A) / 10
    save_file({**params32, "site_reference": reference}, str(OUT / "model.safetensors"))
    write_json(OUT / "batch.json", {
        "sites": sites,
        "activations": [[float(v) for v in a] for a in acts],  # exact float32 values
        "tokens": tokens,
    })
    expected = {
        "loss": loss.detach().float().reshape(1),
        "logits": logits.detach().float(),
        "prefix": prefix.detach().float(),
    }
    expected.update({f"grad.{n}": grads[n].float() for n in names})
    expected = {k: v.contiguous() for k, v in expected.items()}
    assert expected["logits"].shape == (3, 9, V) and expected["prefix"].shape == (L, 3, C)
    save_file(expected, str(OUT / "expected.safetensors"))

    # --- read back ----------------------------------------------------------------
    stored = load_file(str(OUT / "model.safetensors"))
    assert set(stored) == set(names) | {"site_reference"} and all(torch.equal(stored[n], params32[n]) for n in names)
    with open(OUT / "batch.json", encoding="utf-8") as f:
        batch = json.load(f)
    assert all(np.array_equal(np.asarray(r, dtype=np.float32), a) for r, a in zip(batch["activations"], acts))
    with torch.no_grad():
        plain = decoder_logits(P, model, y, None)
    check_reload(params32, y, plain)

    print(f"loss {loss.item():.12g} over {count} targets; y = {y.tolist()}")
    total = 0
    for p in sorted(OUT.iterdir()):
        total += p.stat().st_size
        print(f"  {p.name:22s} {p.stat().st_size:7d} bytes")
    print(f"Tests/Fixtures/decoder: {total} bytes")
    assert total < SIZE_BUDGET, "decoder fixtures exceed the size budget"


if __name__ == "__main__":
    main()
