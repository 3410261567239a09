#!/usr/bin/env python3
"""Reference scores for Loupe's circuit-discovery methods.

Run from the repository root:

    python3 Tools/make_circuit_fixtures.py

Writes Tests/Fixtures/circuits/:

    gpt2-prefixed.json       4 random token pairs on Tests/Fixtures/gpt2-prefixed/
    gpt2-bare.json           4 random token pairs on Tests/Fixtures/gpt2-bare/
    task.jsonl               3 English clean/corrupted prompts with answers
    gpt2-prefixed-text.json  task.jsonl tokenised (BOS prepended) on gpt2-prefixed

Each JSON holds the pairs, the mean clean / corrupted metric and, per method
(`patching`, `attribution`, `eap`, `eap-ig`), node scores and (edge methods)
edge scores. Everything is computed in float64 with PyTorch autograd from an
explicit "graph" forward pass written here, in which every receiver of the
computational graph (each head's query, key and value input, each MLP input,
the final residual) is its own tensor built as the sum of its senders'
outputs. That forward pass is checked against Hugging Face's GPT-2 (float32
and float64); the scores are checked against Hugging Face hooks, by finite
differences, against each other (chain rule) and against a float32 rerun
(see `self_checks` and `build`).

Deterministic: a second run gives byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "Fixtures"
OUT = FIXTURES / "circuits"

EOT = "<|endoftext|>"
IG_STEPS_TOKENS = 3
IG_STEPS_TEXT = 5
N_PAIRS = 4
PAIR_LEN = 7
MULTI_ANSWER_PAIR = 2  # this pair's `correct` has 2 ids and `wrong` 3 ids

MODELS = {
    # name: (seed of the random pairs, HF class)
    "gpt2-prefixed": (3, "lm"),
    "gpt2-bare": (1, "base"),
}

# English prompts for task.jsonl: clean and corrupted tokenise to the same
# length, answers are single tokens of the fixture tokenizer (its vocabulary is
# tiny: " the", " and", " of", " to", " that", " it", " is", " he", ...); the
# answers are the model's favourites among such words on the clean and on the
# corrupted prompt, so that the metric moves noticeably.
TEXT_TASK = [
    {"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " at", "wrong_answer": " of"},
    {"clean": "The old man and the sea", "corrupted": "The old man and the fox", "answer": " is", "wrong_answer": " The"},
    {"clean": "I went to the park and", "corrupted": "I went to the sea and", "answer": " and", "wrong_answer": " is"},
]

DTYPE = torch.float64


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------


class Model:
    """GPT-2 weights (bare key names) in a given dtype, plus the config."""

    def __init__(self, name: str, dtype: torch.dtype) -> None:
        d = FIXTURES / name
        with open(d / "config.json", encoding="utf-8") as f:
            cfg = json.load(f)
        raw = load_file(str(d / "model.safetensors"))
        w = {}
        for k, v in raw.items():
            k = k[len("transformer."):] if k.startswith("transformer.") else k
            w[k] = v.to(dtype)
        self.w = w
        self.name = name
        self.dtype = dtype
        self.n_layer = cfg["n_layer"]
        self.C = cfg["n_embd"]
        self.H = cfg["n_head"]
        self.D = self.C // self.H
        self.eps = cfg["layer_norm_epsilon"]
        self.act_name = cfg["activation_function"]
        self.inv_layer = bool(cfg.get("scale_attn_by_inverse_layer_idx", False))
        self.vocab = cfg["vocab_size"]
        assert cfg.get("scale_attn_weights", True)
        assert not cfg.get("reorder_and_upcast_attn", False)

    # -- naming --------------------------------------------------------------

    def nodes(self) -> list[str]:
        out = []
        for L in range(self.n_layer):
            out += [f"a{L}.h{h}" for h in range(self.H)]
            out.append(f"m{L}")
        return out

    def senders_of(self, receiver: str) -> list[str]:
        """Senders of a receiver in forward order."""
        if receiver == "logits":
            return ["input", *self.nodes()]
        L = layer_of(receiver)
        out = ["input"]
        for l in range(L):
            out += [f"a{l}.h{h}" for h in range(self.H)] + [f"m{l}"]
        if receiver.startswith("m"):
            out += [f"a{L}.h{h}" for h in range(self.H)]
        return out

    def receivers(self) -> list[str]:
        out = []
        for L in range(self.n_layer):
            for h in range(self.H):
                out += [f"a{L}.h{h}<{c}>" for c in "qkv"]
            out.append(f"m{L}")
        out.append("logits")
        return out

    def edges(self) -> list[tuple[str, str]]:
        return [(s, r) for r in self.receivers() for s in self.senders_of(r)]

    # -- maths ---------------------------------------------------------------

    def ln(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def act(self, x: torch.Tensor) -> torch.Tensor:
        if self.act_name == "gelu_new":
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
        if self.act_name == "gelu":
            return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
        raise ValueError(self.act_name)

    def embed(self, tokens: list[int]) -> torch.Tensor:
        return self.w["wte.weight"][tokens] + self.w["wpe.weight"][: len(tokens)]

    def forward(self, tokens: list[int], embed: torch.Tensor | None = None,
                patch: dict[str, torch.Tensor] | None = None,
                receiver_delta: dict[str, torch.Tensor] | None = None,
                track_grad: bool = False) -> dict:
        """The explicit graph forward pass of one sequence.

        embed: replaces resid_pre(0) (the `input` sender's output).
        patch: node -> activation to use instead of the computed one (a head's
            z slice [T, D] or an MLP's output [T, C]); downstream is recomputed.
        receiver_delta: receiver -> tensor added to that receiver's input only.
        Returns logits [T, V], node activations, sender outputs and receiver inputs.
        """
        w, H, D = self.w, self.H, self.D
        T = len(tokens)
        e = self.embed(tokens) if embed is None else embed
        if track_grad:
            e = e.detach().clone().requires_grad_(True)
        senders: dict[str, torch.Tensor] = {"input": e}
        acts: dict[str, torch.Tensor] = {}
        recv: dict[str, torch.Tensor] = {}
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)

        def receiver_input(r: str, bias_layers: int) -> torch.Tensor:
            # A tensor of its own even when it has a single sender (clone), so
            # that its gradient is the one flowing through this receiver only.
            x = None
            for s in self.senders_of(r):
                x = senders[s].clone() if x is None else x + senders[s]
            # Not a sender output: the attention output biases.
            for l in range(bias_layers):
                x = x + w[f"h.{l}.attn.c_proj.bias"]
            if receiver_delta and r in receiver_delta:
                x = x + receiver_delta[r]
            recv[r] = x
            return x

        for L in range(self.n_layer):
            p = f"h.{L}."
            Wqkv, bqkv = w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"]
            Wo = w[p + "attn.c_proj.weight"]
            scale = 1.0 / math.sqrt(D)
            if self.inv_layer:
                scale /= L + 1
            for h in range(H):
                node = f"a{L}.h{h}"
                qkv = []
                for i, c in enumerate("qkv"):
                    x = receiver_input(f"{node}<{c}>", L)
                    cols = slice(i * self.C + h * D, i * self.C + (h + 1) * D)
                    qkv.append(self.ln(x, p + "ln_1") @ Wqkv[:, cols] + bqkv[cols])
                q, k, v = qkv
                scores = (q @ k.T) * scale
                scores = scores.masked_fill(mask, float("-inf"))
                z = torch.softmax(scores, dim=-1) @ v
                if patch and node in patch:
                    z = patch[node]
                acts[node] = z
                senders[node] = z @ Wo[h * D:(h + 1) * D, :]
            node = f"m{L}"
            x = receiver_input(node, L + 1)
            hid = self.act(self.ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
            out = hid @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
            if patch and node in patch:
                out = patch[node]
            acts[node] = out
            senders[node] = out
        x = receiver_input("logits", self.n_layer)
        logits = self.ln(x, "ln_f") @ w["wte.weight"].T
        return {"logits": logits, "acts": acts, "senders": senders, "recv": recv}


def layer_of(name: str) -> int:
    return int(name[1:].split(".")[0].split("<")[0])


def metric(logits: torch.Tensor, pair: dict) -> torch.Tensor:
    last = logits[-1]
    return last[pair["correct"]].mean() - last[pair["wrong"]].mean()


# ---------------------------------------------------------------------------
# Methods (per pair; averaged by the caller)
# ---------------------------------------------------------------------------


def pair_scores(model: Model, pair: dict, ig_steps: int) -> dict:
    clean, corr = pair["clean"], pair["corrupted"]
    nodes = model.nodes()
    edges = model.edges()
    receivers = model.receivers()
    res = {}

    with torch.no_grad():
        run_clean = model.forward(clean)
        run_corr = model.forward(corr)
    m_clean = metric(run_clean["logits"], pair).item()
    m_corr = metric(run_corr["logits"], pair).item()
    res["clean_metric"], res["corrupted_metric"] = m_clean, m_corr

    # patching
    patching = {}
    with torch.no_grad():
        for n in nodes:
            patched = model.forward(clean, patch={n: run_corr["acts"][n]})
            patching[n] = metric(patched["logits"], pair).item() - m_clean
    res["patching"] = patching

    # attribution and eap: one gradient pass on the clean run
    g = model.forward(clean, track_grad=True)
    M = metric(g["logits"], pair)
    targets = [g["acts"][n] for n in nodes] + [g["recv"][r] for r in receivers]
    grads = torch.autograd.grad(M, targets)
    act_grad = dict(zip(nodes, grads[: len(nodes)]))
    recv_grad = dict(zip(receivers, grads[len(nodes):]))
    res["attribution"] = {
        n: ((run_corr["acts"][n] - run_clean["acts"][n]) * act_grad[n]).sum().item() for n in nodes
    }
    delta = {s: run_corr["senders"][s] - run_clean["senders"][s] for s in ["input", *nodes]}
    res["eap"] = {f"{s}->{r}": (delta[s] * recv_grad[r]).sum().item() for s, r in edges}

    # eap-ig: receiver gradients averaged over interpolated embeddings
    e_clean, e_corr = model.embed(clean), model.embed(corr)
    ig_grad = {r: torch.zeros_like(recv_grad[r]) for r in receivers}
    for k in range(ig_steps):
        e = e_corr + (k / ig_steps) * (e_clean - e_corr)
        g = model.forward(clean, embed=e, track_grad=True)
        M = metric(g["logits"], pair)
        grads = torch.autograd.grad(M, [g["recv"][r] for r in receivers])
        for r, gr in zip(receivers, grads):
            ig_grad[r] = ig_grad[r] + gr
    ig_grad = {r: v / ig_steps for r, v in ig_grad.items()}
    res["eap-ig"] = {f"{s}->{r}": (delta[s] * ig_grad[r]).sum().item() for s, r in edges}
    return res


def mean_dict(dicts: list[dict]) -> dict:
    return {k: float(sum(d[k] for d in dicts) / len(dicts)) for k in dicts[0]}


def edge_node_scores(model: Model, edges: dict[str, float]) -> dict[str, float]:
    out = {n: 0.0 for n in model.nodes()}
    for eid, s in edges.items():
        sender = eid.split("->")[0]
        if sender != "input":
            out[sender] += abs(s)
    return out


def all_scores(model: Model, pairs: list[dict], ig_steps: int) -> dict:
    per = [pair_scores(model, p, ig_steps) for p in pairs]
    methods = {}
    for m in ("patching", "attribution"):
        methods[m] = {"nodes": mean_dict([r[m] for r in per])}
    for m in ("eap", "eap-ig"):
        edges = mean_dict([r[m] for r in per])
        methods[m] = {"nodes": edge_node_scores(model, edges), "edges": edges}
    return {
        "clean_metric": float(sum(r["clean_metric"] for r in per) / len(per)),
        "corrupted_metric": float(sum(r["corrupted_metric"] for r in per) / len(per)),
        "methods": methods,
        "per_pair": per,
    }


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def load_hf(name: str, kind: str, dtype: torch.dtype):
    from transformers import GPT2LMHeadModel, GPT2Model

    cls = GPT2LMHeadModel if kind == "lm" else GPT2Model
    hf = cls.from_pretrained(str(FIXTURES / name), attn_implementation="eager").to(dtype).eval()
    base = hf.transformer if kind == "lm" else hf
    return hf, base


def hf_logits(hf, base, kind: str, tokens: list[int]) -> torch.Tensor:
    ids = torch.tensor([tokens])
    if kind == "lm":
        return hf(ids).logits[0]
    return base(ids).last_hidden_state[0] @ base.wte.weight.T


def check_against_hf(name: str, kind: str, prompts: list[list[int]]) -> None:
    """The graph forward reproduces HF logits in float32 and float64."""
    for dtype, tol in ((torch.float32, 1e-4), (torch.float64, 1e-10)):
        model = Model(name, dtype)
        hf, base = load_hf(name, kind, dtype)
        worst = 0.0
        with torch.no_grad():
            for toks in prompts:
                ours = model.forward(toks)["logits"]
                theirs = hf_logits(hf, base, kind, toks)
                worst = max(worst, (ours - theirs).abs().max().item())
        assert worst < tol, f"{name} {dtype}: graph forward vs HF logits max abs diff {worst}"
        print(f"  {name} {str(dtype).removeprefix('torch.')}: graph forward vs HF logits, max abs diff {worst:.2e}")


def hf_node_scores(name: str, kind: str, pair: dict, ig_steps: int) -> dict:
    """Node scores of one pair computed with HF hooks (float64): heads at the
    input of attn.c_proj (split into heads), MLPs at the output of mlp, the
    `input` node at inputs_embeds (+ wpe, added by HF). Returns `patching`,
    `attribution` (gradient on the clean run) and `ig` (the same with the
    gradient averaged over the interpolated embeddings of eap-ig), the latter
    two also for `input`."""
    hf, base = load_hf(name, kind, torch.float64)
    H = base.config.n_head
    D = base.config.n_embd // H
    n_layer = base.config.n_layer
    wte, wpe = base.wte.weight.detach(), base.wpe.weight.detach()
    store: dict[str, torch.Tensor] = {}
    patch: dict[str, torch.Tensor] = {}
    handles = []
    for L in range(n_layer):
        def pre(module, args, L=L):
            z = args[0]
            store[f"a{L}"] = z
            repl = [patch.get(f"a{L}.h{h}") for h in range(H)]
            if any(r is not None for r in repl):
                z = z.clone()
                for h, r in enumerate(repl):
                    if r is not None:
                        z[0, :, h * D:(h + 1) * D] = r
                return (z, *args[1:])
            return None

        def post(module, args, out, L=L):
            store[f"m{L}"] = out
            if f"m{L}" in patch:
                return patch[f"m{L}"].unsqueeze(0)
            return None

        handles.append(base.h[L].attn.c_proj.register_forward_pre_hook(pre))
        handles.append(base.h[L].mlp.register_forward_hook(post))

    def run(tokens, resid0=None):
        """resid0: resid_pre(0) to use instead of wte[tokens] + wpe."""
        store.clear()
        T = len(tokens)
        e = wte[tokens] if resid0 is None else resid0 - wpe[:T]
        e = e.clone().unsqueeze(0).requires_grad_(torch.is_grad_enabled())
        if kind == "lm":
            logits = hf(inputs_embeds=e).logits[0]
        else:
            logits = base(inputs_embeds=e).last_hidden_state[0] @ wte.T
        st = dict(store)
        st["input"] = e
        return logits, st

    def node_act(st, n):
        if n == "input":
            return st[n][0] + wpe[: st[n].shape[1]]
        if n.startswith("m"):
            return st[n][0]
        L, h = layer_of(n), int(n.split(".h")[1])
        return st[f"a{L}"][0, :, h * D:(h + 1) * D]

    def node_grad(g, n):
        if n in ("input",) or n.startswith("m"):
            return g[n][0]
        L, h = layer_of(n), int(n.split(".h")[1])
        return g[f"a{L}"][0, :, h * D:(h + 1) * D]

    nodes = [f"a{L}.h{h}" for L in range(n_layer) for h in range(H)] + [f"m{L}" for L in range(n_layer)]
    with torch.no_grad():
        lc, sc = run(pair["clean"])
        _, sx = run(pair["corrupted"])
        assert torch.equal(lc, hf_logits(hf, base, kind, pair["clean"]))
        m_clean = metric(lc, pair).item()
        patching = {}
        for n in nodes:
            patch.clear()
            patch[n] = node_act(sx, n).clone()
            lp, _ = run(pair["clean"])
            patching[n] = metric(lp, pair).item() - m_clean
        patch.clear()

    def grads_at(resid0):
        logits, st = run(pair["clean"], resid0)
        # A layer's merged z is one tensor shared by its heads.
        keys = ["input"] + [f"a{L}" for L in range(n_layer)] + [f"m{L}" for L in range(n_layer)]
        return dict(zip(keys, torch.autograd.grad(metric(logits, pair), [st[k] for k in keys])))

    def scores(g):
        return {n: ((node_act(sx, n) - node_act(sc, n)) * node_grad(g, n)).sum().item() for n in ["input", *nodes]}

    attribution = scores(grads_at(None))
    e_clean, e_corr = node_act(sc, "input"), node_act(sx, "input")
    acc = None
    for k in range(ig_steps):
        g = grads_at(e_corr + (k / ig_steps) * (e_clean - e_corr))
        acc = g if acc is None else {key: acc[key] + g[key] for key in acc}
    ig = scores({key: v / ig_steps for key, v in acc.items()})
    for hd in handles:
        hd.remove()
    return {"patching": patching, "attribution": attribution, "ig": ig}


def close(a: float, b: float, rel: float, abs_: float = 1e-9) -> bool:
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))


def self_checks(name: str, kind: str, model: Model, pairs: list[dict], result: dict, ig_steps: int) -> None:
    pair = pairs[0]
    per = result["per_pair"][0]
    nodes = model.nodes()
    with torch.no_grad():
        run_clean = model.forward(pair["clean"])
        run_corr = model.forward(pair["corrupted"])
        m_clean = metric(run_clean["logits"], pair).item()

        # 1. Patching a node with its own clean value changes nothing.
        for n in nodes:
            same = model.forward(pair["clean"], patch={n: run_clean["acts"][n].clone()})
            d = metric(same["logits"], pair).item() - m_clean
            assert d == 0.0, f"{name}: patching {n} with its clean value gives {d}"
        # Patching every node, with the corrupted embeddings as well, gives
        # the corrupted run.
        every = model.forward(pair["clean"], embed=model.embed(pair["corrupted"]),
                              patch={n: run_corr["acts"][n] for n in nodes})
        assert torch.allclose(every["logits"], run_corr["logits"], atol=1e-12, rtol=0)

        # 2. Attribution = first-order change, by central finite differences.
        eps = 1e-4
        worst = 0.0
        for n in nodes:
            a0, a1 = run_clean["acts"][n], run_corr["acts"][n]
            up = metric(model.forward(pair["clean"], patch={n: a0 + eps * (a1 - a0)})["logits"], pair).item()
            dn = metric(model.forward(pair["clean"], patch={n: a0 - eps * (a1 - a0)})["logits"], pair).item()
            fd = (up - dn) / (2 * eps)
            assert close(fd, per["attribution"][n], 1e-6, 1e-8), (name, n, fd, per["attribution"][n])
            worst = max(worst, abs(fd - per["attribution"][n]))
        print(f"  {name}: attribution vs finite difference (pair 0, all nodes), max abs diff {worst:.1e}")

        # 3. EAP edge = first-order change of the metric when only that receiver
        #    sees the sender's change (finite differences on a sample of edges).
        edges = model.edges()
        worst = 0.0
        sample = edges[:: max(1, len(edges) // 25)] + [edges[-1]]
        for s, r in sample:
            ds = run_corr["senders"][s] - run_clean["senders"][s]
            up = metric(model.forward(pair["clean"], receiver_delta={r: eps * ds})["logits"], pair).item()
            dn = metric(model.forward(pair["clean"], receiver_delta={r: -eps * ds})["logits"], pair).item()
            fd = (up - dn) / (2 * eps)
            eid = f"{s}->{r}"
            assert close(fd, per["eap"][eid], 1e-6, 1e-8), (name, eid, fd, per["eap"][eid])
            worst = max(worst, abs(fd - per["eap"][eid]))
        print(f"  {name}: eap vs finite difference ({len(sample)} edges, pair 0), max abs diff {worst:.1e}")

        # 4. IG step k = 0 (built as in pair_scores) is exactly the corrupted run.
        e0 = model.embed(pair["corrupted"]) + (0 / ig_steps) * (model.embed(pair["clean"]) - model.embed(pair["corrupted"]))
        run0 = model.forward(pair["clean"], embed=e0)
        assert torch.equal(run0["logits"], run_corr["logits"])

    # 5. Chain rule: a node's attribution is the signed sum of its outgoing
    #    eap edges (every pair).
    for r in result["per_pair"]:
        for n in nodes:
            total = sum(v for k, v in r["eap"].items() if k.split("->")[0] == n)
            assert close(total, r["attribution"][n], 1e-9, 1e-12), (name, n, total, r["attribution"][n])

    # 6. Against Hugging Face hooks, every pair: patching and attribution of
    #    every node; and, by the chain rule, the signed sum of a sender's
    #    outgoing eap (eap-ig) edges equals its attribution with the gradient
    #    of the clean run (averaged over the interpolated runs), `input` included.
    worst = 0.0
    for i, p in enumerate(pairs):
        ref = hf_node_scores(name, kind, p, ig_steps)
        per_i = result["per_pair"][i]
        out_sum = {m: {} for m in ("eap", "eap-ig")}
        for m in out_sum:
            for eid, v in per_i[m].items():
                s = eid.split("->")[0]
                out_sum[m][s] = out_sum[m].get(s, 0.0) + v
        for n in ["input", *nodes]:
            pairs_to_check = [(ref["attribution"][n], out_sum["eap"][n]), (ref["ig"][n], out_sum["eap-ig"][n])]
            if n != "input":
                pairs_to_check += [(ref["patching"][n], per_i["patching"][n]),
                                   (ref["attribution"][n], per_i["attribution"][n])]
            for got, want in pairs_to_check:
                assert close(got, want, 1e-9, 1e-10), (name, i, n, got, want)
                worst = max(worst, abs(got - want))
    print(f"  {name}: patching, attribution, eap and eap-ig sender sums vs HF hooks (all pairs), "
          f"max abs diff {worst:.1e}")

    # 7. Every method has scores of a useful size.
    for m, v in result["methods"].items():
        assert max(abs(x) for x in v["nodes"].values()) > 0.05, (name, m)
    assert abs(result["clean_metric"] - result["corrupted_metric"]) > 0.5, name


# ---------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------


def random_pairs(model: Model, seed: int) -> list[dict]:
    """Random clean prompts, corrupted at 1 or 2 positions; answers from the
    model's own top tokens so that the metric difference is substantial."""
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(N_PAIRS):
        clean = [int(x) for x in rng.integers(1, model.vocab, PAIR_LEN)]
        corr = list(clean)
        n_change = 1 + i % 2
        for pos in sorted(int(x) for x in rng.choice(PAIR_LEN, n_change, replace=False)):
            new = clean[pos]
            while new == clean[pos]:
                new = int(rng.integers(1, model.vocab))
            corr[pos] = new
        with torch.no_grad():
            lc = model.forward(clean)["logits"][-1]
            lx = model.forward(corr)["logits"][-1]
        # Ties are not expected in float64 random models; argsort is stable.
        top_clean = [int(x) for x in torch.argsort(lc, descending=True, stable=True)]
        top_corr = [int(x) for x in torch.argsort(lx, descending=True, stable=True)]
        n_correct, n_wrong = (2, 3) if i == MULTI_ANSWER_PAIR else (1, 1)
        correct = top_clean[:n_correct]
        wrong = [t for t in top_corr if t not in correct][:n_wrong]
        pairs.append({"clean": clean, "corrupted": corr, "correct": correct, "wrong": wrong})
    return pairs


def text_pairs(tokenizer: Tokenizer) -> list[dict]:
    bos = tokenizer.token_to_id(EOT)
    assert bos is not None
    pairs = []
    for line in TEXT_TASK:
        c = tokenizer.encode(line["clean"], add_special_tokens=False).ids
        x = tokenizer.encode(line["corrupted"], add_special_tokens=False).ids
        a = tokenizer.encode(line["answer"], add_special_tokens=False).ids
        b = tokenizer.encode(line["wrong_answer"], add_special_tokens=False).ids
        assert len(c) == len(x) and c != x, line
        assert len(a) == 1 and len(b) == 1 and a != b, line
        pairs.append({"clean": [bos, *c], "corrupted": [bos, *x], "correct": a, "wrong": b})
    return pairs


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def build(name: str, kind: str, pairs: list[dict], ig_steps: int, extra: dict, out_name: str) -> dict:
    model = Model(name, DTYPE)
    prompts = [p[k] for p in pairs for k in ("clean", "corrupted")]
    check_against_hf(name, kind, prompts)
    result = all_scores(model, pairs, ig_steps)
    self_checks(name, kind, model, pairs, result, ig_steps)
    # The same methods in float32 stay far inside the 1e-4 the Swift tests allow.
    r32 = all_scores(Model(name, torch.float32), pairs, ig_steps)
    worst = max(abs(r32[k] - result[k]) for k in ("clean_metric", "corrupted_metric"))
    for m, d in result["methods"].items():
        for part, v in d.items():
            worst = max(worst, max(abs(r32["methods"][m][part][k] - x) for k, x in v.items()))
    assert worst < 2e-5, (name, worst)
    print(f"  {name}: all scores recomputed in float32, max abs diff {worst:.1e}")
    obj = {
        "model": name,
        **extra,
        "ig_steps": ig_steps,
        "pairs": pairs,
        "clean_metric": result["clean_metric"],
        "corrupted_metric": result["corrupted_metric"],
        "methods": result["methods"],
    }
    write_json(OUT / out_name, obj)
    summary = ", ".join(
        f"{m} {max(abs(v) for v in d['nodes'].values()):.3f}"
        + (f"/{max(abs(v) for v in d['edges'].values()):.3f}" if "edges" in d else "")
        for m, d in result["methods"].items()
    )
    print(f"{out_name}: clean {result['clean_metric']:.4f}, corrupted {result['corrupted_metric']:.4f}; "
          f"max |score| (nodes/edges): {summary}")
    return obj


def main() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)

    for name, (seed, kind) in MODELS.items():
        pairs = random_pairs(Model(name, DTYPE), seed)
        build(name, kind, pairs, IG_STEPS_TOKENS, {}, f"{name}.json")

    tokenizer = Tokenizer.from_file(str(FIXTURES / "gpt2-prefixed" / "tokenizer.json"))
    with open(OUT / "task.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for line in TEXT_TASK:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    build("gpt2-prefixed", "lm", text_pairs(tokenizer), IG_STEPS_TEXT,
          {"task_file": "task.jsonl", "prepend_bos": True}, "gpt2-prefixed-text.json")

    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"Tests/Fixtures/circuits: {total} bytes in files")
    assert total < 200_000, "circuit fixtures exceed 200 KB"


if __name__ == "__main__":
    main()
