#!/usr/bin/env python3
"""Generate reference gradients for the Tests/Fixtures/gpt2-prefixed model.

Run from the repository root, after Tools/make_reference_fixtures.py has
written Tests/Fixtures/gpt2-prefixed/:

    python3 Tools/make_gradient_fixtures.py

Everything is deterministic (fixed seed, one CPU thread), so running the
script twice produces byte-identical files.

Output:

    Tests/Fixtures/gradients/reference.safetensors
    Tests/Fixtures/gradients/reference.json

The model runs in eval mode (no dropout) with eager attention, in float32, on
a fixed batch of 2 random sequences of 16 tokens. Stored tensors (F32 unless
noted; scalars have shape []):

    inputs                 I32 [2, 16]
    targets                I32 [2, 16]   next tokens of inputs
    loss                   []            mean cross-entropy over the 32 positions
    grad/<name>            d loss / d parameter, <name> as in GPT2Model
                           (no "transformer." prefix), stored layout
    hookgrad/<hook>        d loss / d activation, TransformerLens hook names
    metric                 []            logits[0, 15, 7] - logits[0, 15, 11]
    metricgrad/<hook>      d metric / d activation

hookgrad/blocks.1.attn.hook_pattern is the gradient with respect to the whole
[B, H, T, T] probability matrix that is multiplied with V, so its entries above
the diagonal (masked, probability 0) are dz_q . v_k and not zero.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "Fixtures"
MODEL_DIR = FIXTURES / "gpt2-prefixed"
OUT_DIR = FIXTURES / "gradients"

BATCH_SEED = 0
BATCH, SEQ = 2, 16

# Metric for attribution patching: logit difference at the last position of sequence 0.
METRIC_SEQ, METRIC_POS = 0, SEQ - 1
METRIC_GOOD, METRIC_BAD = 7, 11

LOSS_HOOKS = [
    "blocks.1.hook_resid_pre",
    "blocks.0.attn.hook_z",
    "blocks.2.mlp.hook_post",
    "blocks.1.attn.hook_pattern",
    "ln_final.hook_normalized",
]
METRIC_HOOKS = [
    "blocks.1.hook_resid_pre",
    "blocks.0.attn.hook_z",
]

FD_PARAMS = 3
FD_STEP = 1e-5
FD_RTOL = 1e-4
SIZE_BUDGET = 400_000


# ---------------------------------------------------------------------------
# Model and batch
# ---------------------------------------------------------------------------


def make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(BATCH_SEED)
    seq = torch.randint(0, 400, (BATCH, SEQ + 1))
    return seq[:, :-1].contiguous(), seq[:, 1:].contiguous()


def load_model():
    from transformers import GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model = GPT2LMHeadModel.from_pretrained(str(MODEL_DIR), attn_implementation="eager", dtype=torch.float32)
    model = model.float().eval()
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    assert not model.training and not any(m.training for m in model.modules())
    assert model.lm_head.weight is model.transformer.wte.weight, "lm_head is expected to be tied to wte"

    # The loaded weights must be exactly those of the fixture file.
    saved = load_file(str(MODEL_DIR / "model.safetensors"))
    for k, v in model.transformer.state_dict().items():
        sk = "transformer." + k
        assert sk in saved, f"{sk} missing from model.safetensors"
        assert saved[sk].dtype == torch.float32 and torch.equal(saved[sk], v), f"{sk} differs from the file"
    return model


def param_names(model) -> list[str]:
    """Parameter names without the "transformer." prefix; lm_head.weight is wte.weight."""
    names = [n for n, _ in model.transformer.named_parameters()]
    ids = {id(p) for p in model.parameters()}
    assert ids == {id(p) for p in model.transformer.parameters()}, "unexpected parameter outside transformer"
    return names


def logits_of(model, inputs: torch.Tensor) -> torch.Tensor:
    return model(inputs, use_cache=False).logits


def loss_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1).long(), reduction="mean")


def metric_of(logits: torch.Tensor) -> torch.Tensor:
    return logits[METRIC_SEQ, METRIC_POS, METRIC_GOOD] - logits[METRIC_SEQ, METRIC_POS, METRIC_BAD]


# ---------------------------------------------------------------------------
# Hook points
# ---------------------------------------------------------------------------


def split_hook(name: str) -> tuple[int | None, str]:
    if name == "ln_final.hook_normalized":
        return None, name
    parts = name.split(".", 2)
    assert parts[0] == "blocks", name
    return int(parts[1]), parts[2]


def hook_shape(cfg, name: str) -> tuple[int, ...]:
    _, kind = split_hook(name)
    C, H, N = cfg.n_embd, cfg.n_head, cfg.n_inner
    return {
        "hook_resid_pre": (BATCH, SEQ, C),
        "attn.hook_z": (BATCH, SEQ, H, C // H),
        "mlp.hook_post": (BATCH, SEQ, N),
        "attn.hook_pattern": (BATCH, H, SEQ, SEQ),
        "ln_final.hook_normalized": (BATCH, SEQ, C),
    }[kind]


class RetainGrad:
    """Forward hooks that call retain_grad() on the very tensor that the model
    passes on to the next operation, so that after backward() its .grad is the
    gradient of the loss with respect to that activation.

    - hook_resid_pre: the hidden_states argument of block L (used by ln_1 and
      by the residual addition)
    - attn.hook_z: the input of attn.c_proj, [B, T, C], returned as [B, T, H, D]
    - mlp.hook_post: the output of mlp.act (the input of mlp.c_proj)
    - attn.hook_pattern: the attention weights returned by the eager attention,
      i.e. the tensor multiplied with V (softmax output; dropout is the
      identity in eval mode)
    - ln_final.hook_normalized: the output of ln_f
    """

    def __init__(self, model, names: list[str]) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self.handles = []
        self.n_head = model.config.n_head
        base = model.transformer
        for name in names:
            layer, kind = split_hook(name)
            if kind == "hook_resid_pre":
                h = base.h[layer].register_forward_pre_hook(self._input_hook(name))
            elif kind == "attn.hook_z":
                h = base.h[layer].attn.c_proj.register_forward_pre_hook(self._input_hook(name))
            elif kind == "mlp.hook_post":
                h = base.h[layer].mlp.act.register_forward_hook(self._output_hook(name, lambda o: o))
            elif kind == "attn.hook_pattern":
                h = base.h[layer].attn.register_forward_hook(self._output_hook(name, lambda o: o[1]))
            elif kind == "ln_final.hook_normalized":
                h = base.ln_f.register_forward_hook(self._output_hook(name, lambda o: o))
            else:
                raise ValueError(name)
            self.handles.append(h)

    def _keep(self, name: str, t: torch.Tensor) -> None:
        assert name not in self.tensors, f"{name} captured twice"
        assert t.requires_grad and t.grad_fn is not None, f"{name} is not part of the graph"
        t.retain_grad()
        self.tensors[name] = t

    def _input_hook(self, name: str):
        def hook(module, inputs):
            self._keep(name, inputs[0])
        return hook

    def _output_hook(self, name: str, pick):
        def hook(module, inputs, output):
            self._keep(name, pick(output))
        return hook

    def grads(self) -> dict[str, torch.Tensor]:
        out = {}
        for name, t in self.tensors.items():
            g = t.grad
            assert g is not None, f"{name}: no gradient"
            if split_hook(name)[1] == "attn.hook_z":
                B, T, C = g.shape
                g = g.reshape(B, T, self.n_head, C // self.n_head)
            out[name] = g.detach().clone()
        return out

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


class Injection:
    """An independent way to reach the same activations: every hook point adds
    a zero-valued leaf tensor `delta` to the activation, in the shape of the
    stored gradient. d f / d delta equals d f / d activation, and perturbing
    one entry of delta perturbs that activation entry for a finite difference.
    The attention pattern is reached by replacing the eager attention function
    with a copy that adds delta right after the softmax."""

    def __init__(self, model, names: list[str], dtype: torch.dtype) -> None:
        import transformers.models.gpt2.modeling_gpt2 as gpt2_module

        cfg = model.config
        self.delta = {n: torch.zeros(hook_shape(cfg, n), dtype=dtype, requires_grad=True) for n in names}
        self.calls = {n: 0 for n in names}
        self.handles = []
        self.module = gpt2_module
        self.original_eager = gpt2_module.eager_attention_forward
        base = model.transformer
        pattern_layers: dict[int, str] = {}
        for name in names:
            layer, kind = split_hook(name)
            if kind == "hook_resid_pre":
                h = base.h[layer].register_forward_pre_hook(self._input_hook(name))
            elif kind == "attn.hook_z":
                h = base.h[layer].attn.c_proj.register_forward_pre_hook(self._input_hook(name))
            elif kind == "mlp.hook_post":
                h = base.h[layer].mlp.act.register_forward_hook(self._output_hook(name))
            elif kind == "ln_final.hook_normalized":
                h = base.ln_f.register_forward_hook(self._output_hook(name))
            elif kind == "attn.hook_pattern":
                pattern_layers[layer] = name
                continue
            else:
                raise ValueError(name)
            self.handles.append(h)
        if pattern_layers:
            gpt2_module.eager_attention_forward = self._eager(pattern_layers)

    def _add(self, name: str, t: torch.Tensor) -> torch.Tensor:
        self.calls[name] += 1
        d = self.delta[name]
        return t + d.reshape(t.shape)

    def _input_hook(self, name: str):
        def hook(module, inputs):
            return (self._add(name, inputs[0]),) + tuple(inputs[1:])
        return hook

    def _output_hook(self, name: str):
        def hook(module, inputs, output):
            return self._add(name, output)
        return hook

    def _eager(self, pattern_layers: dict[int, str]):
        def eager_attention_forward(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
            assert not module.training and dropout == 0.0
            if scaling is None:
                scaling = query.size(-1) ** -0.5
            w = torch.matmul(query, key.transpose(-1, -2)) * scaling
            if attention_mask is not None:
                w = w + attention_mask
            w = F.softmax(w, dim=-1).type(value.dtype)
            if module.layer_idx in pattern_layers:
                w = self._add(pattern_layers[module.layer_idx], w)
            out = torch.matmul(w, value).transpose(1, 2)
            return out, w
        return eager_attention_forward

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.module.eager_attention_forward = self.original_eager


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def assert_close(a: torch.Tensor, b: torch.Tensor, what: str, atol: float, rtol: float) -> float:
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    diff = (a.double() - b.double()).abs().max().item()
    if not torch.allclose(a.double(), b.double(), atol=atol, rtol=rtol):
        raise AssertionError(f"{what}: max abs diff {diff}")
    return diff


def write_json(path: Path, obj: dict) -> None:
    """Indented JSON with each innermost list of numbers on one line."""
    lines = []
    for key, value in obj.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            rows = ",\n".join("    " + json.dumps(row) for row in value)
            lines.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    with open(path, encoding="utf-8") as f:
        assert json.load(f) == json.loads(json.dumps(obj)), "reference.json does not round-trip"


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def pick_entry(g: torch.Tensor, gen: torch.Generator) -> tuple[int, ...]:
    """A random entry whose gradient is not negligible (so a relative check is meaningful)."""
    flat = g.reshape(-1).abs()
    candidates = torch.nonzero(flat >= 0.1 * flat.max()).reshape(-1)
    k = candidates[torch.randint(len(candidates), (1,), generator=gen)].item()
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(k), g.shape))


def check_param_fd(model, inputs, targets, grads: dict[str, torch.Tensor]) -> float:
    """Central finite differences of the loss in float64 for a few parameter
    entries, compared with the stored float32 autograd gradients. wte.weight is
    always one of them, at a row of a token present in the inputs, so that both
    the embedding and the tied unembedding contributions are exercised."""
    m64 = copy.deepcopy(model).double().eval()
    assert m64.lm_head.weight is m64.transformer.wte.weight
    params64 = dict(m64.transformer.named_parameters())
    gen = torch.Generator().manual_seed(1)
    others = [n for n in grads if n != "wte.weight"]
    chosen = ["wte.weight"] + [others[i] for i in torch.randperm(len(others), generator=gen)[: FD_PARAMS - 1].tolist()]

    def loss64() -> float:
        with torch.no_grad():
            return loss_of(logits_of(m64, inputs), targets).item()

    worst = 0.0
    for name in chosen:
        g = grads[name]
        if name == "wte.weight":
            rows = torch.unique(inputs.reshape(-1))
            row = rows[torch.randint(len(rows), (1,), generator=gen)].item()
            col = pick_entry(g[row], gen)[0]
            idx = (row, col)
        else:
            idx = pick_entry(g, gen)
        p = params64[name]
        with torch.no_grad():
            orig = p[idx].item()
            p[idx] = orig + FD_STEP
            up = loss64()
            p[idx] = orig - FD_STEP
            down = loss64()
            p[idx] = orig
        fd = (up - down) / (2 * FD_STEP)
        ag = g[idx].item()
        r = rel_diff(fd, ag)
        worst = max(worst, r)
        print(f"  fd {name}{list(idx)}: finite difference {fd:.9e}, autograd {ag:.9e}, rel diff {r:.2e}")
        assert r < FD_RTOL, f"finite difference check failed for {name}{list(idx)}: rel diff {r}"
    return worst


def check_hook_grads(model, inputs, targets, stored: dict[str, torch.Tensor], objective: str) -> float:
    """Re-derive the hook gradients through zero-delta injection, in float32
    (must match the retain_grad values) and float64 (autograd and a central
    finite difference on one entry per hook)."""
    names = list(stored)
    f = (lambda lg: loss_of(lg, targets)) if objective == "loss" else metric_of

    inj = Injection(model, names, torch.float32)
    try:
        out = f(logits_of(model, inputs))
        got = torch.autograd.grad(out, [inj.delta[n] for n in names])
    finally:
        inj.remove()
    assert all(c == 1 for c in inj.calls.values()), inj.calls
    for n, g in zip(names, got):
        assert_close(g, stored[n], f"{objective} {n}: injection vs retain_grad (float32)", atol=1e-7, rtol=1e-5)

    m64 = copy.deepcopy(model).double().eval()
    inj = Injection(m64, names, torch.float64)
    gen = torch.Generator().manual_seed(2)
    worst = 0.0
    try:
        out = f(logits_of(m64, inputs))
        got64 = dict(zip(names, torch.autograd.grad(out, [inj.delta[n] for n in names])))
        for n in names:
            assert_close(got64[n], stored[n], f"{objective} {n}: float64 vs float32", atol=1e-6, rtol=1e-3)
            idx = pick_entry(got64[n], gen)
            d = inj.delta[n]
            with torch.no_grad():
                d[idx] = FD_STEP
                up = f(logits_of(m64, inputs)).item()
                d[idx] = -FD_STEP
                down = f(logits_of(m64, inputs)).item()
                d[idx] = 0.0
            fd = (up - down) / (2 * FD_STEP)
            r = rel_diff(fd, stored[n][idx].item())
            worst = max(worst, r)
            print(f"  fd {objective} {n}{list(idx)}: finite difference {fd:.9e}, "
                  f"stored {stored[n][idx].item():.9e}, rel diff {r:.2e}")
            assert r < FD_RTOL, f"finite difference check failed for {objective} {n}{list(idx)}: rel diff {r}"
    finally:
        inj.remove()
    return worst


def check_wte_split(model, inputs, targets, grad_wte: torch.Tensor) -> None:
    """grad/wte.weight = scatter of d loss / d hook_embed (embedding use)
    + (d loss / d logits)^T @ ln_final (tied unembedding use)."""
    base = model.transformer
    store: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(module, inputs_, output):
            output.retain_grad()
            store[name] = output
        return hook

    handles = [base.wte.register_forward_hook(keep("embed")), base.ln_f.register_forward_hook(keep("final"))]
    try:
        model.zero_grad(set_to_none=True)
        logits = logits_of(model, inputs)
        logits.retain_grad()
        loss_of(logits, targets).backward()
    finally:
        for h in handles:
            h.remove()
    V, C = grad_wte.shape
    embed_part = torch.zeros(V, C).index_add_(0, inputs.reshape(-1).long(), store["embed"].grad.reshape(-1, C))
    unembed_part = logits.grad.reshape(-1, V).T @ store["final"].detach().reshape(-1, C)
    assert_close(embed_part + unembed_part, grad_wte, "wte gradient = embedding + unembedding parts", 1e-6, 1e-4)
    model.zero_grad(set_to_none=True)


# ---------------------------------------------------------------------------


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    inputs, targets = make_batch()
    model = load_model()
    cfg = model.config
    names = param_names(model)

    # --- loss case ------------------------------------------------------------
    model.zero_grad(set_to_none=True)
    cap = RetainGrad(model, LOSS_HOOKS)
    try:
        logits = logits_of(model, inputs)
        loss = loss_of(logits, targets)
        loss.backward()
    finally:
        cap.remove()
    hookgrads = cap.grads()

    # logits are ln_f(h) @ wte.T (tied), and the loss is the plain mean over all positions.
    final = cap.tensors["ln_final.hook_normalized"].detach()
    assert_close(final @ model.transformer.wte.weight.detach().T, logits.detach(), "logits = ln_final @ wte.T", 0, 0)
    manual = -torch.log_softmax(logits.detach().double(), -1).gather(-1, targets.long()[..., None]).mean()
    assert_close(loss.detach(), manual.float(), "loss = mean cross-entropy", 1e-6, 1e-6)

    params = dict(model.transformer.named_parameters())
    grads = {}
    for n in names:
        g = params[n].grad
        assert g is not None, f"{n}: no gradient"
        assert g.shape == params[n].shape and torch.isfinite(g).all(), n
        grads[n] = g.detach().clone()
    assert torch.all(grads["wpe.weight"][SEQ:] == 0), "wpe rows beyond the sequence length must have zero gradient"
    assert grads["h.0.attn.c_attn.weight"].shape == (cfg.n_embd, 3 * cfg.n_embd)
    for n, g in hookgrads.items():
        assert tuple(g.shape) == hook_shape(cfg, n), (n, tuple(g.shape))
    check_wte_split(model, inputs, targets, grads["wte.weight"])

    # --- metric case ----------------------------------------------------------
    model.zero_grad(set_to_none=True)
    cap = RetainGrad(model, METRIC_HOOKS)
    try:
        metric = metric_of(logits_of(model, inputs))
        metric.backward()
    finally:
        cap.remove()
    metricgrads = cap.grads()
    model.zero_grad(set_to_none=True)
    for n, g in metricgrads.items():
        assert tuple(g.shape) == hook_shape(cfg, n), (n, tuple(g.shape))
        other = 1 - METRIC_SEQ
        assert torch.equal(g[other], torch.zeros_like(g[other])), f"metric {n}: sequence {other} gradient is not zero"
        assert g[METRIC_SEQ].abs().max() > 0, f"metric {n}: sequence {METRIC_SEQ} gradient is zero"
    assert_close(metric.detach(), logits.detach()[METRIC_SEQ, METRIC_POS, METRIC_GOOD]
                 - logits.detach()[METRIC_SEQ, METRIC_POS, METRIC_BAD], "metric", 0, 0)

    # --- cross-checks ---------------------------------------------------------
    print("finite differences (float64 model, step %g):" % FD_STEP)
    worst_param = check_param_fd(model, inputs, targets, grads)
    worst_hook = check_hook_grads(model, inputs, targets, hookgrads, "loss")
    worst_metric = check_hook_grads(model, inputs, targets, metricgrads, "metric")
    print(f"largest relative difference: parameters {worst_param:.2e}, "
          f"loss hooks {worst_hook:.2e}, metric hooks {worst_metric:.2e}")

    # --- write ------------------------------------------------------------------
    tensors: dict[str, torch.Tensor] = {
        "inputs": inputs.to(torch.int32),
        "targets": targets.to(torch.int32),
        "loss": loss.detach().float().reshape(()),
        "metric": metric.detach().float().reshape(()),
    }
    tensors.update({f"grad/{n}": g for n, g in grads.items()})
    tensors.update({f"hookgrad/{n}": hookgrads[n] for n in LOSS_HOOKS})
    tensors.update({f"metricgrad/{n}": metricgrads[n] for n in METRIC_HOOKS})
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert v.dtype in (torch.float32, torch.int32), (k, v.dtype)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(OUT_DIR / "reference.safetensors"))
    description = {
        "model": "Tests/Fixtures/gpt2-prefixed (eval mode, eager attention, float32)",
        "model_sha256": hashlib.sha256((MODEL_DIR / "model.safetensors").read_bytes()).hexdigest(),
        "batch_recipe": f"torch.manual_seed({BATCH_SEED}); seq = torch.randint(0, 400, ({BATCH}, {SEQ + 1})); "
                        "inputs = seq[:, :-1]; targets = seq[:, 1:]",
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "loss": "mean over all 2x16 positions of cross_entropy(ln_f(h) @ wte.T, targets)",
        "metric": f"logits[{METRIC_SEQ}, {METRIC_POS}, {METRIC_GOOD}] - logits[{METRIC_SEQ}, {METRIC_POS}, {METRIC_BAD}]",
        "scalar_shape": [],
        "loss_value": round(loss.item(), 6),
        "metric_value": round(metric.item(), 6),
    }
    write_json(OUT_DIR / "reference.json", description)

    print(f"loss {loss.item():.9g}, metric {metric.item():.9g}")
    for k in sorted(tensors):
        v = tensors[k]
        print(f"  {k:44s} {str(v.dtype).replace('torch.', ''):8s} {list(v.shape)}")
    size = sum(p.stat().st_size for p in OUT_DIR.iterdir() if p.is_file())
    print(f"Tests/Fixtures/gradients: {len(tensors)} tensors, "
          f"reference.safetensors {(OUT_DIR / 'reference.safetensors').stat().st_size} bytes, {size} bytes in total")
    assert size < SIZE_BUDGET, "gradient fixtures exceed the size budget"


if __name__ == "__main__":
    main()
