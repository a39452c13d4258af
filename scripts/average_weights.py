"""Average the weights of fine-tuned models of the same shape, then calibrate, blend and export the result.

WiSE-FT (Wortsman et al. 2022): the mean of a model and the same model fine-tuned further often keeps the new
gain while holding what the first did on other text. A "model soup" (Wortsman et al. 2022) is the mean of several
fine-tunes of one base. Either way scanning costs what one model costs.

    python scripts/average_weights.py models/kasuhara-bert-ja CHECKPOINT -o OUT --alpha 0.5 \
        --blend-baseline models/kasuhara-baseline --version 1.2.0
    python scripts/average_weights.py RUN_1 RUN_2 RUN_3 RUN_4 -o OUT --blend-baseline models/kasuhara-baseline
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kasuhara_nlp.bert_train import average_weights, finalize
from kasuhara_nlp.config import CONFIG_NAME
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders or checkpoints of one architecture "
                        "(the first one's tokenizer is kept)")
    parser.add_argument("-o", "--output", required=True, help="model folder to write")
    parser.add_argument("--alpha", type=float, help="with two models, the second one's weight (default 0.5); "
                        "more than two are always weighted equally")
    parser.add_argument("--blend-baseline", help="baseline model folder to blend with, as in kasuhara train")
    parser.add_argument("--version", default="0.1.0")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    args = parser.parse_args()
    if len(args.models) < 2 or (args.alpha is not None and len(args.models) != 2):
        parser.error("give two models (with --alpha if not 0.5) or more than two (weighted equally)")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    def load(path: str):
        return AutoModelForSequenceClassification.from_pretrained(path).float()

    model = load(args.models[0])
    if args.alpha is not None:
        average_weights(model, load(args.models[1]), args.alpha)
        weights = [round(1 - args.alpha, 4), args.alpha]
    else:
        # A running mean: after the k-th model each of the first k has weight 1/k.
        for k, path in enumerate(args.models[1:], start=2):
            average_weights(model, load(path), 1 / k)
        weights = [round(1 / len(args.models), 4)] * len(args.models)
    first = args.models[0]
    config = TrainConfig(model="bert", base=first, out_dir=args.output, max_length=args.max_length,
                         stride=args.stride, version=args.version, name="kasuhara-bert-ja",
                         blend_baseline=args.blend_baseline or "")
    finalize(model, AutoTokenizer.from_pretrained(first), config, load_messages())
    record_sources(Path(args.output) / CONFIG_NAME, args.models, weights)
    print(f"wrote {args.output}")


def record_sources(config_path: Path, models: list[str], weights: list[float]) -> None:
    """Name the averaged models and their weights in the written config (``extra.averaged``, shown in the card).

    A source's name is its ``name version`` where it is a model folder, else its path (a checkpoint).
    """
    config = json.loads(config_path.read_text(encoding="utf-8"))
    sources = []
    for path, weight in zip(models, weights, strict=True):
        source = Path(path) / CONFIG_NAME
        named = json.loads(source.read_text(encoding="utf-8")) if source.is_file() else {}
        name = f"{named['name']} {named['version']}" if named.get("name") and named.get("version") else str(path)
        sources.append({"name": name, "weight": weight})
    config.setdefault("extra", {})["averaged"] = sources
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
