"""Average the weights of two fine-tuned models of the same shape, then calibrate, blend and export the result.

WiSE-FT (Wortsman et al. 2022): the mean of a model and the same model fine-tuned further often keeps the new
gain while holding what the first did on other text; scanning costs what one model costs.

    python scripts/average_weights.py models/kasuhara-bert-ja CHECKPOINT -o OUT --alpha 0.5 \
        --blend-baseline models/kasuhara-baseline --version 1.2.0
"""

from __future__ import annotations

import argparse

from kasuhara_nlp.bert_train import average_weights, finalize
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="model folder or checkpoint (its tokenizer is kept)")
    parser.add_argument("second", help="model folder or checkpoint of the same architecture")
    parser.add_argument("-o", "--output", required=True, help="model folder to write")
    parser.add_argument("--alpha", type=float, default=0.5, help="weight of the second model (0-1)")
    parser.add_argument("--blend-baseline", help="baseline model folder to blend with, as in kasuhara train")
    parser.add_argument("--version", default="0.1.0")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    args = parser.parse_args()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = average_weights(AutoModelForSequenceClassification.from_pretrained(args.first).float(),
                            AutoModelForSequenceClassification.from_pretrained(args.second).float(), args.alpha)
    config = TrainConfig(model="bert", base=args.first, out_dir=args.output, max_length=args.max_length,
                         stride=args.stride, version=args.version, name="kasuhara-bert-ja",
                         blend_baseline=args.blend_baseline or "")
    finalize(model, AutoTokenizer.from_pretrained(args.first), config, load_messages())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
