#!/usr/bin/env python3
"""Peer benchmark: the steps of a training epoch from audio files, the PyTorch way.

`../shared/bench/train_step.py` times one step on synthetic tensors made before
timing; this times what an epoch does on real data: a torch DataLoader over a
Dataset whose items read real clips and texts, then that script's own
`train_step` (log-mel, three branches, distance-weighted triplets, backward,
Adam). Per item (16 items = one batch of 32, as the paper code's loader):
  tag->text  : a random ISEAR text and its emotion's tag vector
  tag->song  : a random 4Q clip (soundfile decode, channel mean, resample to
               16 kHz if needed, a random 80,000-sample crop) and its
               quadrant's tag vector
  text->song : a random ISEAR text and a random 4Q clip
Texts are tokenized with the MiniLM tokenizer (truncation 256, padded to the
batch's longest). Tag vectors are fixed random 50-d vectors per class (the tag
branch's cost does not depend on their values). `--workers` is the
DataLoader's num_workers (0, PyTorch's default: items load in the training
process between steps).

Timed: from the first batch request to the end of the last step (model load
excluded). Prints one JSON line on stdout with the keys storyscore's
`cargo bench --bench epoch -- --json` prints; progress goes to stderr.
"""
import argparse
import csv
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("STORYSCORE_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "bench"))

import common  # noqa: E402  (sets thread variables before torch loads)
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

import train_step as ts  # noqa: E402


def read_isear(path):
    """-> texts, label indices, label names (ISEAR's `|`-separated CSV: Field1, SIT)."""
    texts, labels, names = [], [], []
    with open(path, encoding="latin-1", newline="") as f:
        for row in csv.DictReader(f, delimiter="|"):
            text, label = (row.get("SIT") or "").strip(), (row.get("Field1") or "").strip()
            if not text or not label:
                continue
            if label not in names:
                names.append(label)
            texts.append(text)
            labels.append(names.index(label))
    return texts, labels, names


def read_4q(folder):
    """-> clip paths, quadrant indices (meta.csv: id, quadrant)."""
    paths, labels = [], []
    with open(os.path.join(folder, "meta.csv"), newline="") as f:
        for row in csv.DictReader(f):
            path = os.path.join(folder, row["id"] + ".ogg")
            if os.path.exists(path):
                paths.append(path)
                labels.append(int(row["quadrant"][1:]) - 1)
    return paths, labels


def load_crop(path, rng):
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    wav = data.mean(axis=1)
    if sr != common.SAMPLE_RATE:
        g = math.gcd(int(sr), common.SAMPLE_RATE)
        wav = resample_poly(wav, common.SAMPLE_RATE // g, int(sr) // g).astype(np.float32)
    n = common.CHUNK_SAMPLES
    if len(wav) < n:
        return np.concatenate([wav, np.zeros(n - len(wav), dtype=np.float32)])
    start = rng.randrange(len(wav) - n + 1)
    return np.ascontiguousarray(wav[start:start + n])


class EpochItems(torch.utils.data.Dataset):
    def __init__(self, texts, text_labels, clips, clip_labels, n_items, seed):
        self.texts, self.text_labels = texts, text_labels
        self.clips, self.clip_labels = clips, clip_labels
        self.n_items, self.seed = n_items, seed

    def __len__(self):
        return self.n_items

    def __getitem__(self, i):
        rng = random.Random(self.seed * 1_000_003 + i)
        t1, t2 = rng.randrange(len(self.texts)), rng.randrange(len(self.texts))
        c1, c2 = rng.randrange(len(self.clips)), rng.randrange(len(self.clips))
        return {
            "ttt_text": self.texts[t1], "ttt_label": self.text_labels[t1],
            "tts_wav": load_crop(self.clips[c1], rng), "tts_label": self.clip_labels[c1],
            "common_text": self.texts[t2], "common_wav": load_crop(self.clips[c2], rng),
            "common_label": self.text_labels[t2],
        }


class Collate:
    def __init__(self, n_text_labels, n_clip_labels, seed):
        self.tokenizer = common.load_tokenizer()
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=256)
        g = torch.Generator().manual_seed(seed)
        self.text_tags = torch.randn(n_text_labels, common.TAG_DIM, generator=g)
        self.clip_tags = torch.randn(n_clip_labels, common.TAG_DIM, generator=g)
        self.n_text, self.n_clip = n_text_labels, n_clip_labels

    def tokens(self, texts):
        enc = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in enc)
        ids = torch.zeros(len(enc), width, dtype=torch.long)
        mask = torch.zeros(len(enc), width, dtype=torch.long)
        for r, e in enumerate(enc):
            ids[r, :len(e.ids)] = torch.tensor(e.ids)
            mask[r, :len(e.ids)] = 1
        return ids, mask

    def __call__(self, items):
        col = {k: [it[k] for it in items] for k in items[0]}
        ttt_y = torch.tensor(col["ttt_label"])
        tts_y = torch.tensor(col["tts_label"])
        # train_step runs the 32 texts as one batch: padded to the longest of all 32.
        ids, mask = self.tokens(col["ttt_text"] + col["common_text"])
        h = len(items)
        ttt_ids, ttt_mask, common_ids, common_mask = ids[:h], mask[:h], ids[h:], mask[h:]
        return {
            "ttt_tag": self.text_tags[ttt_y], "ttt_ids": ttt_ids, "ttt_mask": ttt_mask,
            "ttt_y": F.one_hot(ttt_y, self.n_text).float(),
            "tts_tag": self.clip_tags[tts_y], "tts_wav": torch.from_numpy(np.stack(col["tts_wav"])),
            "tts_y": F.one_hot(tts_y, self.n_clip).float(),
            "common_ids": common_ids, "common_mask": common_mask,
            "common_wav": torch.from_numpy(np.stack(col["common_wav"])),
            "common_y": F.one_hot(torch.tensor(col["common_label"]), self.n_text).float(),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isear", default=os.path.join(SHARED, "data", "isear", "isear.csv"))
    ap.add_argument("--music", default=os.path.join(SHARED, "data", "4q"), help="4Q folder")
    ap.add_argument("--steps", type=int, default=20, help="timed steps (batches of 32)")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader num_workers")
    ap.add_argument("--threads", type=int, default=common.default_threads())
    ap.add_argument("--fine-tune-text", action="store_true",
                    help="MiniLM trains with the heads (default: frozen, as storyscore's default)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    threads = common.set_threads(args.threads)
    torch.manual_seed(args.seed)
    texts, text_labels, names = read_isear(args.isear)
    clips, clip_labels = read_4q(args.music)
    if not texts or not clips:
        raise SystemExit(f"no texts in {args.isear} or no clips in {args.music}")
    freeze = not args.fine_tune_text
    model = common.StoryScoreNet()
    model.train()
    if freeze:
        for p in model.text.encoder.parameters():
            p.requires_grad_(False)
        model.text.encoder.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4, weight_decay=1e-4)
    data = EpochItems(texts, text_labels, clips, clip_labels, args.steps * ts.HALF, args.seed)
    loader = torch.utils.data.DataLoader(
        data, batch_size=ts.HALF, shuffle=False, num_workers=args.workers,
        collate_fn=Collate(len(names), 4, args.seed))
    gen = torch.Generator().manual_seed(args.seed + 1)
    common.log(f"train_epoch: {len(texts)} texts, {len(clips)} clips, {args.steps} steps, "
               f"workers={args.workers}, threads={threads}, freeze_text={freeze}")

    times, cpu0 = [], time.process_time()
    t0 = last = time.perf_counter()
    loss = None
    for i, batch in enumerate(loader):
        loss = ts.train_step(model, opt, batch, gen, freeze)
        now = time.perf_counter()
        times.append(now - last)
        last = now
        common.log(f"  step {i + 1}/{args.steps}: {times[-1] * 1e3:.0f} ms, loss {loss.item():.4f}")
    epoch_s = last - t0
    common.emit({
        "bench": "train_epoch",
        "steps": len(times),
        "epoch_s": epoch_s,
        "s_per_step": epoch_s / len(times),
        "samples_per_s": 2 * ts.HALF * len(times) / epoch_s,
        "ms_per_step_p50": common.percentile_ms(times, 50),
        "cpu_s": time.process_time() - cpu0,
        "threads": threads,
        "workers": args.workers,
        "fine_tune_text": not freeze,
        "last_loss": float(loss.item()) if loss is not None else None,
        "torch": torch.__version__,
    })


if __name__ == "__main__":
    main()
