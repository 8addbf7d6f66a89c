"""Where encoding time goes: sentence-transformers' ``encode`` against tokenizing alone and the
model alone (forward pass, normalising, copying back), after a warm-up over every batch shape.

Made for a GPU machine, where the model is fast enough that the CPU side shows:

    python benchmarks/probe_encoder_stages.py --texts texts.json --model path/to/model

(``bench_encoder.py`` explains ``--texts`` and ``--model``.) Prints one line per case.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    import numpy as np
    import torch

    from recommender.encoder import SentenceEncoder

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", required=True, help="a JSON list of texts")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="model name or folder")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    texts = json.loads(Path(args.texts).read_text())
    n = len(texts)
    gpu = args.device.startswith("cuda")

    def sync() -> None:
        if gpu:
            torch.cuda.synchronize()

    for half, size in ((True, 1024), (False, 1024), (True, 256)):
        encoder = SentenceEncoder(args.model, device=args.device, batch_size=size)
        model = encoder._model  # probe-only peek at the loaded model
        if not half:
            model.float()
        encoder.encode(texts)  # warm-up over every shape the run will see
        sync()
        start = time.perf_counter()
        encoder.encode(texts)
        sync()
        whole = time.perf_counter() - start
        order = np.argsort([-len(t) for t in texts])
        ordered = [texts[i] for i in order]
        start = time.perf_counter()
        tokenize_batch = getattr(model, "preprocess", None) or model.tokenize
        features = [tokenize_batch(ordered[i : i + size]) for i in range(0, n, size)]
        tokenize = time.perf_counter() - start
        lengths = [f["input_ids"].shape[1] for f in features]
        start = time.perf_counter()
        with torch.inference_mode():
            for f in features:
                on_device = {
                    k: v.to(args.device) if isinstance(v, torch.Tensor) else v for k, v in f.items()
                }
                pooled = model.forward(on_device)["sentence_embedding"]
                torch.nn.functional.normalize(pooled, dim=1).float().cpu()
        sync()
        forward = time.perf_counter() - start
        print(
            f"{'fp16' if half else 'fp32'} b{size}: encode {n / whole:,.0f}/s; "
            f"tokenize {n / tokenize:,.0f}/s; model {n / forward:,.0f}/s; "
            f"padded length median {int(np.median(lengths))}, max {max(lengths)}",
            flush=True,
        )
        del encoder, model
        if gpu:
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
