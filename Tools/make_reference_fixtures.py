#!/usr/bin/env python3
"""Generate the reference fixtures under Tests/Fixtures/.

Run from the repository root:

    python3 Tools/make_reference_fixtures.py

Everything is deterministic (fixed seeds, fixed training text), so running the
script twice produces byte-identical files.

Output layout:

    Tests/Fixtures/tokenizer/           byte-level BPE, vocab ~400, no prefix space
        tokenizer.json vocab.json merges.txt cases.json
        transformers/                   the same tokenizer as saved by GPT2TokenizerFast
    Tests/Fixtures/tokenizer-prefix/    byte-level BPE, vocab ~300, add_prefix_space=True
        tokenizer.json cases.json
    Tests/Fixtures/gpt2-prefixed/       GPT2LMHeadModel (keys "transformer.*")
    Tests/Fixtures/gpt2-bare/           GPT2Model (keys without prefix, no lm_head)
    Tests/Fixtures/gpt2-half/           GPT2LMHeadModel stored as float16
        config.json model.safetensors tokenizer.json vocab.json merges.txt
        reference.json reference.safetensors
    Tests/Fixtures/corrupt/             malformed inputs for error-path tests
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tokenizers import ByteLevelBPETokenizer, Tokenizer

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "Fixtures"

EOT = "<|endoftext|>"
PAD = "<|pad|>"

# ---------------------------------------------------------------------------
# Tokenizer training text
# ---------------------------------------------------------------------------

TRAINING_TEXT = r"""
The quick brown fox jumps over the lazy dog. The dog didn't move; it was asleep.
It's a truth universally acknowledged that a single model in possession of a good
tokenizer must be in want of a vocabulary. We're testing what they've built, and
I'm sure you'll agree that we'd rather find bugs now than later. She's here; he's
there. They're late, aren't they? You've seen it. I'd say it's fine. We'll see.
DON'T SHOUT! IT'S LOUD IN HERE. WE'RE DONE. I'M OUT. THEY'LL KNOW. YOU'VE WON.

Once upon a time, in a small village by the sea, there lived an old fisherman
who told stories to the children every evening. The children would sit in a
circle around the fire and listen to tales of storms, of whales, and of the
strange lights that sometimes danced over the water at night. "Where do the
lights come from?" asked a little girl. "Nobody knows," said the old man, and
he smiled. "But every time I see them, the next day brings a good catch."

In the morning the market opens at 7:30 and closes at 18:45. Prices rose 3.5%
in 2023, then fell 1.25% in 2024. The population was 8,045,311 in the census of
1999; by 2020 it had reached 9,876,543,210 according to one estimate (which is
clearly wrong). Call 555-0199 or write to info@example.com before 31/12/2025.
Pi is roughly 3.14159265358979, e is 2.71828182845904, and 1/3 = 0.333333...
Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 100 256 1000 1024 4096 65536 1000000.

def tokenize(text: str) -> list[int]:
    # Split the text into tokens and return their ids.
    ids = []
    for i, ch in enumerate(text):
        if ch == "\n":
            ids.append(0)
        else:
            ids.append(ord(ch) % 256)
    return ids

for (int i = 0; i < n; ++i) {
    sum += values[i] * weights[i];
}
let x = [1, 2, 3].map { $0 * 2 }  // [2, 4, 6]
SELECT name, count(*) FROM users WHERE age >= 21 GROUP BY name;
if (a && b || !c) { return -1; } else { return a != b ? 0 : 1; }
	Indented with a tab.	And another tab.
		Two tabs here.

Wait... what?! Really?? No -- absolutely not!!! (Well, maybe.) [Citation needed]
{"key": "value", "list": [1, 2, 3], "nested": {"a": true, "b": null}}
Hello, world! Hello, World! HELLO, WORLD! hello world.
#hashtag @mention $100 50% 3*4=12 a+b a-b a/b a\b a|b a^b a~b a`b <tag> </tag>

Le café est très bon à Paris. Où est la bibliothèque ? Je ne sais pas, désolé.
Les élèves étudient le français et l'anglais. C'est l'été, il fait chaud.
Crème brûlée, naïve, façade, garçon, Noël, cœur, œuvre, à bientôt !
Der Bär läuft über die Straße. Schöne Grüße aus München! Größe, Fuß, Äpfel.
Ich möchte ein Stück Kuchen, bitte. Das Mädchen hört Musik. Übung macht den Meister.
El niño comió una manzana. ¿Dónde está la estación? ¡Qué día tan bonito!

Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Καλημέρα κόσμε!
Быстрая коричневая лиса прыгает через ленивую собаку. Привет, мир! Спасибо.
我爱自然语言处理。今天天气很好。你好，世界！中文分词很有趣。
日本語のテキストも少しあります。こんにちは、世界。ありがとう。
한국어 문장도 있습니다. 안녕하세요.

Emoji time: 😀 😂 👍 🎉 ❤️ 🔥 🚀 🐍 🦀 🍕 ☕ ⭐ ✨ 🌍
Family: 👨‍👩‍👧‍👦 and a thumbs up 👍🏽 and flags 🇫🇷 🇩🇪 🇯🇵 🇺🇸.
I love pizza 🍕 and coffee ☕ in the morning! 😀😀😀

The committee reviewed the proposal carefully, weighing its costs against the
expected benefits. After a long discussion, the members agreed that the plan was
sound, although several of them insisted on additional safeguards. The final
report, which was published the following week, recommended that the project
proceed in stages, with an independent review at the end of each stage.
Scientists have long wondered why some birds migrate thousands of kilometres
every year while others stay in the same place all their lives. Recent studies
suggest that the answer depends on food, weather, and the length of the day.
A model of language learns patterns from text: which words follow which, how
sentences are built, and what people tend to say next. The better the model,
the more surprising its predictions can be, and the harder it is to explain them.
"""

# Second tokenizer is trained on a different (shorter) text so that its merges differ.
TRAINING_TEXT_PREFIX = r"""
Attention is all you need. Layers of attention and feed forward networks are
stacked to form the transformer. Each layer reads the residual stream and writes
back into it. Heads attend to previous tokens; some copy, some induce, some
simply look at the first token. Interpretability tools let us see inside.
the the the and and and of of of to to to in in in is is is it it it
Numbers like 42, 1337, 2024 and 3.14 appear here and there. Don't worry, it's ok.
Ça va très bien, merci. Grüß Gott! Καλησπέρα. Здравствуйте. 谢谢。 🙂 👋
def attention(q, k, v):
    scores = q @ k.T / sqrt(d)
    return softmax(scores) @ v
"""

# ---------------------------------------------------------------------------
# Tokenizer test cases
# ---------------------------------------------------------------------------

LONG_PARAGRAPH = (
    "The lighthouse keeper climbed the spiral staircase every evening, counting the "
    "one hundred and twelve steps as he went. At the top he lit the great lamp, "
    "wiped the salt from the windows, and watched the beam sweep across the dark "
    "water. Ships passed in the night; some he recognised, most he did not. He wrote "
    "their names in a battered notebook: 'Aurora', 'Sea Wolf', 'Marie-Claire'. In "
    "forty years he'd filled 37 notebooks, and he wasn't done yet! Some nights the "
    "fog was so thick that he couldn't see his own hands..."
)

TOKENIZER_CASES = [
    # plain ASCII
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "hello",
    "a",
    # contractions
    "It's what they've said: we're sure you'll agree I'm right, and I'd know.",
    "don't can't won't isn't",
    "IT'S HIS. DON'T. WE'RE. THEY'VE. I'M. YOU'LL. HE'D.",
    "She'S here, it'T, they'RE",
    "two quotes '' and a lone ' quote",
    "'",
    "''",
    "'s",
    "rock'n'roll o'clock",
    # runs of spaces
    "one two  three     four",
    "x  1  2     345",
    "a  ,  b     !",
    "trailing spaces   ",
    "trailing one ",
    "     five leading spaces",
    " leading one",
    # tabs and newlines
    "tab\there\t\tdouble\ttab",
    "line one\nline two",
    "windows\r\nline\r\nendings",
    "para one\n\n\npara two",
    "\n\nleading newlines",
    "trailing newlines\n\n",
    "  \t mixed \n \t whitespace \n  ",
    " \n ",
    # numbers
    "1234567890123456789",
    "3.14159265358979 and 2,718,281",
    "In 2024 there were 12 months and 366 days.",
    # punctuation
    "Wait...!!?? What?!",
    "this -- that --- other",
    "f(x) = (a + b) * (c - d); g() {}",
    "<<>>[[]]{{}}",
    # accented Latin and combining marks
    "Le café est très bon à Paris.",
    "Schöne Grüße aus München, Straße",
    "e\u0301 vs \u00e9 and n\u0303",
    # other scripts
    "Καλημέρα κόσμε",
    "Привет, мир!",
    "我爱自然语言处理",
    "こんにちは世界",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    # emoji
    "I love pizza 🍕 and coffee ☕!",
    "family 👨\u200d👩\u200d👧\u200d👦 done",
    "thumbs 👍🏽 flags 🇫🇷🇯🇵",
    "❤️🔥",
    # unusual whitespace / invisible characters
    "non\u00a0breaking\u00a0space",
    "ideographic\u3000space",
    "line\u2028separator",
    "\u200d",
    "zero\u200bwidth",
    # characters never seen in training
    "\U00020000\U0002a6d6 rare CJK",
    "∮ ∇ ∀x∈ℝ 𝔸𝔹",
    "\U0001f9ec\U0001fae0",
    "\x00\x01\x7f control",
    # special tokens inside text
    f"hello{EOT}world",
    f" {EOT} ",
    f"{EOT}{EOT}",
    f"first{EOT} second {EOT}third",
    EOT,
    "<|endoftext|",
    # empty and long
    "",
    LONG_PARAGRAPH,
]

PREFIX_EXTRA_CASES = [
    f"{PAD}{PAD}hello",
    f"text{PAD}",
    f"{EOT}{PAD} mixed",
]


def write_json(path: Path, obj, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def write_cases(path: Path, cases: list[dict]) -> None:
    """One case per line: compact, yet diffable."""
    lines = [json.dumps(c, ensure_ascii=False, separators=(", ", ": ")) for c in cases]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("[\n" + ",\n".join(lines) + "\n]\n")


def train_tokenizer(text: str, vocab_size: int, add_prefix_space: bool, specials: list[str]) -> ByteLevelBPETokenizer:
    tok = ByteLevelBPETokenizer(add_prefix_space=add_prefix_space)
    lines = [line for line in text.split("\n")]
    tok.train_from_iterator(
        lines,
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        special_tokens=specials,
    )
    return tok


def make_cases(tokenizer: Tokenizer, texts: list[str]) -> list[dict]:
    cases = []
    for text in texts:
        enc = tokenizer.encode(text, add_special_tokens=False)
        ids = list(enc.ids)
        decoded = tokenizer.decode(ids, skip_special_tokens=False)
        cases.append({"text": text, "ids": ids, "tokens": list(enc.tokens), "decoded": decoded})
    return cases


def build_tokenizers() -> None:
    # --- main tokenizer -----------------------------------------------------
    out = FIXTURES / "tokenizer"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tok = train_tokenizer(TRAINING_TEXT, vocab_size=400, add_prefix_space=False, specials=[EOT])
    tok.save(str(out / "tokenizer.json"), pretty=True)
    tok.save_model(str(out))  # vocab.json + merges.txt

    with open(out / "merges.txt", encoding="utf-8") as f:
        first = f.readline().rstrip("\n")
    assert first == "#version: 0.2", first

    raw = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert raw.get_vocab_size() == 400, raw.get_vocab_size()
    cases = make_cases(raw, TOKENIZER_CASES)
    write_cases(out / "cases.json", cases)

    # vocab.json + merges.txt must describe the same model as tokenizer.json.
    from_files = ByteLevelBPETokenizer(
        str(out / "vocab.json"), str(out / "merges.txt"), add_prefix_space=False
    )
    from_files.add_special_tokens([EOT])
    for case in cases:
        assert from_files.encode(case["text"]).ids == case["ids"], case["text"]

    # The same tokenizer as loaded and saved by HF transformers.
    from transformers import GPT2TokenizerFast

    hf = GPT2TokenizerFast(tokenizer_file=str(out / "tokenizer.json"))
    for case in cases:
        hf_ids = hf.encode(case["text"], add_special_tokens=False)
        assert hf_ids == case["ids"], (case["text"], hf_ids, case["ids"])
        hf_dec = hf.decode(case["ids"], skip_special_tokens=False, clean_up_tokenization_spaces=False)
        assert hf_dec == case["decoded"], (case["text"], hf_dec, case["decoded"])
    hf_dir = out / "transformers"
    hf.save_pretrained(str(hf_dir))
    normalise_hf_tokenizer_dir(hf_dir)

    # --- prefix-space tokenizer --------------------------------------------
    out2 = FIXTURES / "tokenizer-prefix"
    if out2.exists():
        shutil.rmtree(out2)
    out2.mkdir(parents=True)
    tok2 = train_tokenizer(TRAINING_TEXT_PREFIX, vocab_size=300, add_prefix_space=True, specials=[EOT, PAD])
    tok2.save(str(out2 / "tokenizer.json"), pretty=True)
    raw2 = Tokenizer.from_file(str(out2 / "tokenizer.json"))
    assert raw2.get_vocab_size() == 300, raw2.get_vocab_size()
    write_cases(out2 / "cases.json", make_cases(raw2, TOKENIZER_CASES + PREFIX_EXTRA_CASES))

    print(f"tokenizer: vocab {raw.get_vocab_size()}, {len(cases)} cases")
    print(f"tokenizer-prefix: vocab {raw2.get_vocab_size()}, {len(TOKENIZER_CASES) + len(PREFIX_EXTRA_CASES)} cases")


def normalise_hf_tokenizer_dir(d: Path) -> None:
    """Strip volatile fields (library versions) from files written by transformers."""
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        p = d / name
        if not p.exists():
            continue
        with open(p, encoding="utf-8") as f:
            obj = json.load(f)
        obj.pop("transformers_version", None)
        write_json(p, obj)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

# Texts kept short (<= 16 tokens with the fixture tokenizer) so that the
# reference activations of all three models stay within the size budget.
REFERENCE_TEXTS = [
    "The old man told a story.",
    "café à 我 😀!",
    "a  b\tc\r\nd\n\n\ne   ",
    f"Hello.{EOT}The end",
]
MAX_REFERENCE_TOKENS = 40

TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt")

MODEL_SPECS = {
    "gpt2-prefixed": dict(
        seed=1234,
        kind="lm",
        half=False,
        config=dict(
            n_layer=3, n_embd=48, n_head=4, n_inner=80, n_positions=64,
            activation_function="gelu_new", layer_norm_epsilon=1e-5,
        ),
    ),
    "gpt2-bare": dict(
        seed=5678,
        kind="base",
        half=False,
        config=dict(
            n_layer=2, n_embd=32, n_head=2, n_inner=None, n_positions=48,
            activation_function="gelu", layer_norm_epsilon=1e-6,
            scale_attn_by_inverse_layer_idx=True,
        ),
    ),
    "gpt2-half": dict(
        seed=9012,
        kind="lm",
        half=True,
        config=dict(
            n_layer=2, n_embd=40, n_head=5, n_inner=64, n_positions=64,
            activation_function="gelu_new", layer_norm_epsilon=1e-5,
        ),
    ),
}


def rerandomise(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter with larger random values so that any
    mistake in the consumer's maths changes the outputs noticeably."""
    from transformers.pytorch_utils import Conv1D

    gen = torch.Generator().manual_seed(seed)

    def normal_(t: torch.Tensor, mean: float, std: float) -> None:
        t.copy_(torch.randn(t.shape, generator=gen, dtype=torch.float32) * std + mean)

    seen: set[int] = set()
    with torch.no_grad():
        for _, module in model.named_modules():
            params = []
            if isinstance(module, (Conv1D, torch.nn.Linear)):
                params = [(module.weight, 0.0, 0.15), (module.bias, 0.0, 0.1)]
            elif isinstance(module, torch.nn.LayerNorm):
                params = [(module.weight, 1.0, 0.2), (module.bias, 0.0, 0.1)]
            elif isinstance(module, torch.nn.Embedding):
                params = [(module.weight, 0.0, 0.5)]
            for p, mean, std in params:
                # Tied parameters (lm_head.weight is wte.weight) are drawn once.
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                normal_(p, mean, std)
    all_params = {id(p) for p in model.parameters()}
    assert all_params <= seen, "some parameters were not re-randomised"


class Capture:
    """Forward hooks on the HF modules that record TransformerLens-named activations."""

    def __init__(self, base: torch.nn.Module, cfg) -> None:
        self.acts: dict[str, torch.Tensor] = {}
        self.handles = []
        n_head = cfg.n_head
        d_head = cfg.n_embd // n_head
        n_embd = cfg.n_embd

        def put(name: str, t: torch.Tensor) -> None:
            assert name not in self.acts, f"{name} captured twice"
            assert t.shape[0] == 1
            self.acts[name] = t[0].detach().clone().float()

        def out_hook(name, fn=lambda o: o):
            def hook(module, inputs, output):
                put(name, fn(output))
            return hook

        def in_hook(name):
            def hook(module, inputs):
                put(name, inputs[0])
            return hook

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(t.shape[0], t.shape[1], n_head, d_head)

        def qkv_hook(prefix):
            def hook(module, inputs, output):
                q, k, v = output.split(n_embd, dim=2)
                put(f"{prefix}.attn.hook_q", heads(q))
                put(f"{prefix}.attn.hook_k", heads(k))
                put(f"{prefix}.attn.hook_v", heads(v))
            return hook

        def attn_hook(prefix):
            def hook(module, inputs, output):
                put(f"{prefix}.hook_attn_out", output[0])
                put(f"{prefix}.attn.hook_pattern", output[1])
            return hook

        reg = self.handles.append
        reg(base.wte.register_forward_hook(out_hook("hook_embed")))
        reg(base.wpe.register_forward_hook(out_hook("hook_pos_embed")))
        for L, block in enumerate(base.h):
            pre = f"blocks.{L}"
            reg(block.register_forward_pre_hook(in_hook(f"{pre}.hook_resid_pre")))
            reg(block.ln_1.register_forward_hook(out_hook(f"{pre}.ln1.hook_normalized")))
            reg(block.attn.c_attn.register_forward_hook(qkv_hook(pre)))
            reg(block.attn.c_proj.register_forward_pre_hook(
                lambda m, i, pre=pre: put(f"{pre}.attn.hook_z", heads(i[0]))))
            reg(block.attn.register_forward_hook(attn_hook(pre)))
            reg(block.ln_2.register_forward_pre_hook(in_hook(f"{pre}.hook_resid_mid")))
            reg(block.ln_2.register_forward_hook(out_hook(f"{pre}.ln2.hook_normalized")))
            reg(block.mlp.c_fc.register_forward_hook(out_hook(f"{pre}.mlp.hook_pre")))
            reg(block.mlp.act.register_forward_hook(out_hook(f"{pre}.mlp.hook_post")))
            reg(block.mlp.register_forward_hook(out_hook(f"{pre}.hook_mlp_out")))
            reg(block.register_forward_hook(
                out_hook(f"{pre}.hook_resid_post", lambda o: o[0] if isinstance(o, tuple) else o)))
        reg(base.ln_f.register_forward_hook(out_hook("ln_final.hook_normalized")))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def hook_names(n_layer: int) -> list[str]:
    names = ["hook_embed", "hook_pos_embed"]
    for L in range(n_layer):
        p = f"blocks.{L}"
        names += [
            f"{p}.hook_resid_pre", f"{p}.ln1.hook_normalized",
            f"{p}.attn.hook_q", f"{p}.attn.hook_k", f"{p}.attn.hook_v",
            f"{p}.attn.hook_pattern", f"{p}.attn.hook_z", f"{p}.hook_attn_out",
            f"{p}.hook_resid_mid", f"{p}.ln2.hook_normalized",
            f"{p}.mlp.hook_pre", f"{p}.mlp.hook_post", f"{p}.hook_mlp_out",
            f"{p}.hook_resid_post",
        ]
    names.append("ln_final.hook_normalized")
    return names


def assert_close(a: torch.Tensor, b: torch.Tensor, what: str, atol: float = 1e-5, rtol: float = 1e-5) -> None:
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    if not torch.allclose(a, b, atol=atol, rtol=rtol):
        diff = (a - b).abs().max().item()
        raise AssertionError(f"{what}: max abs diff {diff}")


def numpy_forward(weights: dict[str, np.ndarray], cfg, ids: list[int]) -> dict[str, np.ndarray]:
    """Independent float64 GPT-2 forward pass from a state dict (bare key names)."""
    from math import erf, pi, sqrt

    C, H = cfg.n_embd, cfg.n_head
    D = C // H
    eps = cfg.layer_norm_epsilon
    T = len(ids)

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w + b

    def act(x):
        if cfg.activation_function == "gelu_new":
            return 0.5 * x * (1.0 + np.tanh(sqrt(2.0 / pi) * (x + 0.044715 * x ** 3)))
        if cfg.activation_function == "gelu":
            return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))
        raise ValueError(cfg.activation_function)

    w = {k: v.astype(np.float64) for k, v in weights.items()}
    out = {}
    x = w["wte.weight"][ids] + w["wpe.weight"][:T]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    for L in range(cfg.n_layer):
        p = f"h.{L}."
        h = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, i * C:(i + 1) * C].reshape(T, H, D).transpose(1, 0, 2) for i in range(3))
        scale = 1.0 / sqrt(D)
        if cfg.scale_attn_by_inverse_layer_idx:
            scale /= L + 1
        s = q @ k.transpose(0, 2, 1) * scale
        s[:, mask] = -np.inf
        s = np.exp(s - s.max(-1, keepdims=True))
        pat = s / s.sum(-1, keepdims=True)
        z = (pat @ v).transpose(1, 0, 2).reshape(T, C)
        attn_out = z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        x = x + attn_out
        h = ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        m = act(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        out[f"blocks.{L}.attn.hook_pattern"] = pat
        out[f"blocks.{L}.hook_resid_post"] = x
    xf = ln(x, w["ln_f.weight"], w["ln_f.bias"])
    out["ln_final.hook_normalized"] = xf
    out["logits"] = xf @ w["wte.weight"].T
    return out


def copy_tokenizer_files(dst: Path) -> None:
    src = FIXTURES / "tokenizer"
    for name in TOKENIZER_FILES:
        shutil.copyfile(src / name, dst / name)


def build_model(name: str, spec: dict, tokenizer: Tokenizer) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model

    out = FIXTURES / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    torch.manual_seed(spec["seed"])
    cfg = GPT2Config(
        vocab_size=tokenizer.get_vocab_size(),
        bos_token_id=tokenizer.token_to_id(EOT),
        eos_token_id=tokenizer.token_to_id(EOT),
        attn_implementation="eager",
        **spec["config"],
    )
    cls = GPT2LMHeadModel if spec["kind"] == "lm" else GPT2Model
    model = cls(cfg).float().eval()
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    rerandomise(model, spec["seed"] + 1)
    base = model.transformer if spec["kind"] == "lm" else model
    if spec["kind"] == "lm":
        assert model.lm_head.weight is base.wte.weight, "lm_head is expected to be tied to wte"

    if spec["half"]:
        model = model.half()
        model.save_pretrained(str(out), safe_serialization=True)
        # Reference activations come from the float16 weights upcast to float32.
        model = model.float().eval()
        base = model.transformer if spec["kind"] == "lm" else model
    else:
        model.save_pretrained(str(out), safe_serialization=True)
    # The generation config is not part of the fixture.
    gen_cfg = out / "generation_config.json"
    if gen_cfg.exists():
        gen_cfg.unlink()
    copy_tokenizer_files(out)

    # The saved weights must be exactly what the reference is computed from.
    saved = load_file(str(out / "model.safetensors"))
    prefix = "transformer." if spec["kind"] == "lm" else ""
    expected_dtype = torch.float16 if spec["half"] else torch.float32
    bare_weights = {}
    for k, v in base.state_dict().items():
        sk = prefix + k
        assert sk in saved, f"{name}: {sk} missing from model.safetensors"
        assert saved[sk].dtype == expected_dtype, (sk, saved[sk].dtype)
        assert torch.equal(saved[sk].float(), v), f"{name}: {sk} differs from saved file"
        bare_weights[k] = saved[sk].float().numpy()

    cases = []
    tensors: dict[str, torch.Tensor] = {}
    cap = Capture(base, cfg)
    for i, text in enumerate(REFERENCE_TEXTS):
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        assert 0 < len(ids) <= MAX_REFERENCE_TOKENS, (text, len(ids))
        cap.acts = {}
        with torch.no_grad():
            input_ids = torch.tensor([ids], dtype=torch.long)
            res = base(input_ids, output_hidden_states=True, output_attentions=True)
        acts = cap.acts
        hidden = res.last_hidden_state[0]
        logits = hidden @ base.wte.weight.T
        if spec["kind"] == "lm":
            cap.acts = {}
            with torch.no_grad():
                lm_logits = model(input_ids).logits[0]
            assert_close(lm_logits, logits, f"{name} case{i} lm_head logits")
            for k, v in cap.acts.items():
                assert_close(v, acts[k], f"{name} case{i} {k} via LM head model", 0, 0)

        T, C, H = len(ids), cfg.n_embd, cfg.n_head
        n_inner = cfg.n_inner if cfg.n_inner is not None else 4 * C
        expected_shapes = {"hook_embed": (T, C), "hook_pos_embed": (T, C), "ln_final.hook_normalized": (T, C)}
        for L in range(cfg.n_layer):
            p = f"blocks.{L}"
            for n in ("hook_resid_pre", "ln1.hook_normalized", "hook_attn_out", "hook_resid_mid",
                      "ln2.hook_normalized", "hook_mlp_out", "hook_resid_post"):
                expected_shapes[f"{p}.{n}"] = (T, C)
            for n in ("attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z"):
                expected_shapes[f"{p}.{n}"] = (T, H, C // H)
            expected_shapes[f"{p}.attn.hook_pattern"] = (H, T, T)
            expected_shapes[f"{p}.mlp.hook_pre"] = (T, n_inner)
            expected_shapes[f"{p}.mlp.hook_post"] = (T, n_inner)
        assert sorted(acts) == sorted(hook_names(cfg.n_layer)), sorted(set(acts) ^ set(hook_names(cfg.n_layer)))
        for k, shape in expected_shapes.items():
            assert tuple(acts[k].shape) == shape, (k, tuple(acts[k].shape), shape)

        # Consistency checks between the hooks and the HF outputs.
        hs = [h[0] for h in res.hidden_states]
        assert len(hs) == cfg.n_layer + 1, len(hs)
        assert_close(acts["hook_embed"] + acts["hook_pos_embed"], acts["blocks.0.hook_resid_pre"], "embed sum", 0, 0)
        for L in range(cfg.n_layer):
            p = f"blocks.{L}"
            assert_close(acts[f"{p}.hook_resid_pre"], hs[L], f"{p} resid_pre vs hidden_states", 0, 0)
            if L < cfg.n_layer - 1:
                assert_close(acts[f"{p}.hook_resid_post"], hs[L + 1], f"{p} resid_post vs hidden_states", 0, 0)
                assert_close(acts[f"{p}.hook_resid_post"], acts[f"blocks.{L + 1}.hook_resid_pre"], f"{p} post/pre", 0, 0)
            assert_close(acts[f"{p}.hook_resid_pre"] + acts[f"{p}.hook_attn_out"], acts[f"{p}.hook_resid_mid"],
                         f"{p} resid_mid", 0, 0)
            assert_close(acts[f"{p}.hook_resid_mid"] + acts[f"{p}.hook_mlp_out"], acts[f"{p}.hook_resid_post"],
                         f"{p} resid_post", 0, 0)
            assert_close(acts[f"{p}.attn.hook_pattern"], res.attentions[L][0], f"{p} pattern vs attentions", 0, 0)
            pat = acts[f"{p}.attn.hook_pattern"]
            assert_close(pat.sum(-1), torch.ones(H, T), f"{p} pattern rows sum to 1")
            assert torch.all(pat.triu(1) == 0), f"{p} pattern is not causal"
        assert_close(acts["ln_final.hook_normalized"], hidden, "ln_final vs last_hidden_state", 0, 0)
        assert_close(hs[-1], hidden, "hidden_states[-1] vs last_hidden_state", 0, 0)
        assert_close(acts["ln_final.hook_normalized"] @ base.wte.weight.T, logits, "logits = ln_final @ wte.T", 0, 0)

        # Independent float64 re-implementation from the saved file.
        ref = numpy_forward(bare_weights, cfg, ids)
        for k, v in ref.items():
            got = logits if k == "logits" else acts[k]
            assert_close(got.double(), torch.from_numpy(v), f"{name} case{i} numpy {k}", atol=2e-4, rtol=1e-4)

        tensors[f"case{i}/tokens"] = torch.tensor(ids, dtype=torch.int32)
        tensors[f"case{i}/logits"] = logits.detach().float().contiguous()
        for k in hook_names(cfg.n_layer):
            tensors[f"case{i}/{k}"] = acts[k].float().contiguous()
        cases.append(len(ids))
    cap.remove()

    save_file(tensors, str(out / "reference.safetensors"))
    write_json(out / "reference.json", {"texts": REFERENCE_TEXTS})
    print(f"{name}: tokens per case {cases}, {len(tensors)} reference tensors")


def build_models() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    tokenizer = Tokenizer.from_file(str(FIXTURES / "tokenizer" / "tokenizer.json"))
    for name, spec in MODEL_SPECS.items():
        build_model(name, spec, tokenizer)


# ---------------------------------------------------------------------------
# Corrupt inputs
# ---------------------------------------------------------------------------


def raw_safetensors(header: dict, data: bytes) -> bytes:
    """Serialise a safetensors file by hand: u64 LE header length, JSON header
    padded with spaces to a multiple of 8 bytes, then the data buffer."""
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * (-len(hdr) % 8)
    return struct.pack("<Q", len(hdr)) + hdr + data


def build_corrupt() -> None:
    from safetensors.torch import save as save_bytes

    out = FIXTURES / "corrupt"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    # A valid file whose data section is longer than its header, cut in half so
    # that the header is intact but the data buffer is short.
    valid = save_bytes(
        {
            "a": torch.arange(64, dtype=torch.float32).reshape(8, 8),
            "b": torch.arange(16, dtype=torch.int32),
        }
    )
    n = struct.unpack("<Q", valid[:8])[0]
    assert len(valid) // 2 > 8 + n, "cut must fall inside the data section"
    (out / "truncated.safetensors").write_bytes(valid[: len(valid) // 2])

    floats = struct.pack("<6f", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    (out / "overlap.safetensors").write_bytes(
        raw_safetensors(
            {
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
            },
            floats,
        )
    )
    (out / "past_end.safetensors").write_bytes(
        raw_safetensors(
            {
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [4], "data_offsets": [16, 32]},
            },
            floats,
        )
    )
    (out / "bad_dtype.safetensors").write_bytes(
        raw_safetensors(
            {"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}},
            struct.pack("<2f", 1.0, 2.0),
        )
    )

    d = out / "not_json_tokenizer"
    d.mkdir()
    (d / "tokenizer.json").write_text("this is not JSON {\"model\": [1, 2,\n", encoding="utf-8")

    bare = FIXTURES / "gpt2-bare"
    with open(bare / "config.json", encoding="utf-8") as f:
        bare_cfg = json.load(f)

    d = out / "config_mismatch"
    d.mkdir()
    write_json(d / "config.json", {**bare_cfg, "n_embd": 64})
    shutil.copyfile(bare / "model.safetensors", d / "model.safetensors")
    copy_tokenizer_files(d)

    d = out / "missing_tensor"
    d.mkdir()
    write_json(d / "config.json", bare_cfg)
    weights = load_file(str(bare / "model.safetensors"))
    del weights["h.1.mlp.c_fc.weight"]
    save_file({k: v.contiguous() for k, v in sorted(weights.items())}, str(d / "model.safetensors"),
              metadata={"format": "pt"})
    copy_tokenizer_files(d)

    # Each broken file must really be rejected by the reference implementation.
    from safetensors import safe_open

    for name in ("truncated", "overlap", "past_end", "bad_dtype"):
        try:
            with safe_open(str(out / f"{name}.safetensors"), framework="pt") as f:
                for k in f.keys():
                    f.get_tensor(k)
        except Exception:
            continue
        raise AssertionError(f"{name}.safetensors was accepted by safetensors")
    try:
        Tokenizer.from_file(str(out / "not_json_tokenizer" / "tokenizer.json"))
    except Exception:
        pass
    else:
        raise AssertionError("not_json_tokenizer was accepted")
    print("corrupt: written")


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["tokenizers", "models", "corrupt"], default=None)
    args = parser.parse_args()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    if args.only in (None, "tokenizers"):
        build_tokenizers()
    if args.only in (None, "models"):
        build_models()
    if args.only in (None, "corrupt"):
        build_corrupt()
    # The budget covers the directories written here; other scripts (e.g.
    # make_gradient_fixtures.py) keep their own budgets for their directories.
    own = ["tokenizer", "tokenizer-prefix", *MODEL_SPECS, "corrupt"]
    total = sum(p.stat().st_size for d in own for p in (FIXTURES / d).rglob("*") if p.is_file())
    print(f"Tests/Fixtures ({', '.join(own)}): {total} bytes in files")
    assert total < 2_500_000, "fixtures exceed the 2.5 MB budget"


if __name__ == "__main__":
    main()
