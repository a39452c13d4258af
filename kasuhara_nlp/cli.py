"""The `kasuhara` command: parses arguments and calls one library function per command.

Exit codes: 0 success; 1 finished, but some records could not be read (each reported with file
and line); 2 usage error; 3 the run could not start (missing model, unreadable input file).

>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__  # noqa: F401  (re-exported for --version)
from .classifier import DEFAULT_MAX_CHARS
from .errors import ConfigError, InputFormatError, KasuharaError
from .labels import CATEGORIES
from .readers import FORMATS, preset_names

EXIT_OK, EXIT_DATA_ERRORS, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3


def _count(minimum: int):
    """An argparse type: an integer of at least ``minimum`` (a usage error otherwise, not a traceback)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _err(message: str) -> None:
    print(f"kasuhara: {message}", file=sys.stderr)


def _load(args):
    """The classifier of `scan` and `score`, with their --model, --thresholds and --max-chars."""
    from .classifier import KasuharaClassifier

    return KasuharaClassifier.from_pretrained(args.model, thresholds=args.thresholds, max_chars=args.max_chars)


def cmd_scan(args) -> int:
    from .scan import ScanOptions, check_output, check_route_output, parse_name_roles, run_scan

    if args.route:
        check_route_output(args.output)
    check_output(args.inputs, args.output)  # before the model loads: -o naming an input is a usage error
    if args.summary:
        check_output(args.inputs, args.summary, "--summary")
    name_roles = parse_name_roles(args.name_role or ())
    clf = _load(args)
    options = ScanOptions(format=args.format, preset=args.preset, text_field=args.text_field,
                          id_field=args.id_field, raw=args.raw, mask_pii=not args.no_mask,
                          batch_size=args.batch_size, conversations=not args.no_conversations,
                          encoding=args.encoding, support_domains=tuple(args.support_domain or ()),
                          agent_addresses=tuple(args.agent_address or ()), name_roles=name_roles or None)
    progress = sys.stderr.isatty() and not args.quiet
    summary = run_scan(args.inputs, args.output, clf, options, progress=progress,
                       on_problem=lambda r: _err(f"{r['status']}: {r['reason']}"))
    if not args.quiet:
        print(summary.text(), file=sys.stderr)
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
    if args.route:
        from .routing import route_results_file

        routed = route_results_file(args.output, args.route, thresholds=clf.thresholds, on_problem=_err)
        _print_route_summary(routed, quiet=args.quiet)
        if routed.needs_attention:  # dead letters, or deliveries awaiting retry (this run's or earlier)
            return EXIT_DATA_ERRORS
    return EXIT_DATA_ERRORS if summary.by_status.get("error") else EXIT_OK


def _print_route_summary(summary, *, quiet: bool = False, as_json: bool = False, problems: bool = True) -> None:
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False))
    elif not quiet:
        print(summary.text(), file=sys.stderr)
    # Even with -q or --json: cron mails stderr, and an alert lost to an outage must not pass unnoticed.
    for line in summary.problems() if problems else summary.warnings:
        _err(f"routing: {line}")


def cmd_route(args) -> int:
    from .routing import route_results_file

    if args.results is None and not (args.release_held or args.retry_dead or args.ack_dead):
        _err("give a results JSONL file, or --release-held, --retry-dead or --ack-dead")
        return EXIT_USAGE
    summary = route_results_file(args.results, args.policy, release_held=args.release_held,
                                 retry_dead=args.retry_dead, ack_dead=args.ack_dead, on_problem=_err)
    _print_route_summary(summary, quiet=args.quiet, as_json=args.json)
    return EXIT_DATA_ERRORS if summary.needs_attention or summary.unreadable else EXIT_OK


def cmd_report_message(args) -> int:
    from .routing import report_message

    text = args.text if args.text != "-" else sys.stdin.read()
    result = report_message(text, staff=args.staff, categories=args.category, severity=args.severity,
                            policy=args.policy, conversation_id=args.conversation_id, message_id=args.message_id,
                            channel=args.channel, quote=args.quote, note=args.note or "")
    if args.json:
        print(json.dumps({**result.summary.to_dict(), "delivery": result.deliveries,
                          "acknowledgement": result.acknowledgement()}, ensure_ascii=False))
    _print_route_summary(result.summary, quiet=args.quiet or args.json, problems=False)
    if not args.quiet and not args.json:
        kept = "kept" if result.added else "already kept"
        print(f"labelled example {result.example['id']} {kept} in {result.example_path}", file=sys.stderr)
        print(result.acknowledgement())  # to the person who reported, in the policy's language
    # Non-zero while this report has not reached its destinations (the acknowledgement says so too).
    return EXIT_DATA_ERRORS if {"dead", "retry"} & set(result.deliveries.values()) else EXIT_OK


def cmd_score(args) -> int:
    from .display import format_prediction

    clf = _load(args)
    text = args.text if args.text != "-" else sys.stdin.read()
    pred = clf.predict(text, raw=args.raw)
    if args.json:
        print(json.dumps(pred.to_dict(), ensure_ascii=False, default=vars))
    else:
        print(format_prediction(pred, color=sys.stdout.isatty()))
    return EXIT_OK


def cmd_info(args) -> int:
    from .about import about

    info = about(args.model)
    for key, value in info.items():
        print(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value}")
    return EXIT_OK if "model_error" not in info else EXIT_FAILURE


def cmd_train(args) -> int:
    from .data import load_labelled_path, vote_dir_for
    from .train import TrainConfig

    # Training runs for minutes to hours: show per-epoch progress (figures only, never message text).
    logging.basicConfig(level=logging.INFO, format="kasuhara: %(message)s")
    out = args.output or f"models/kasuhara-{'baseline' if args.model == 'baseline' else 'bert-ja'}"
    cfg = TrainConfig(model=args.model, out_dir=out, base=args.base or "", epochs=args.epochs,
                      learning_rate=args.learning_rate, batch_size=args.batch_size, max_length=args.max_length,
                      stride=args.stride, seed=args.seed, device=args.device, version=args.version,
                      max_minutes=args.max_minutes, layers=args.layers, teacher=args.teacher or "",
                      distill_weight=args.distill_weight, blend_baseline=args.blend_baseline or "",
                      checkpoint_dir=args.checkpoint_dir or "", nbsvm=args.nbsvm, subtype_weight=args.subtype_weight,
                      vote_dir=str(vote_dir_for(args.data)) if args.soft_labels else "")
    if cfg.model == "baseline":
        from .train import train_baseline as train
    elif cfg.model == "blend":
        from .blend import reblend as train
    else:
        from .bert_train import train_bert as train  # needs the train extra (torch)
    clf = train(cfg, load_labelled_path(args.data))
    print(json.dumps(clf.info(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from .model_card import evaluate_data

    report, notice = evaluate_data(args.model, args.data, splits=args.splits, thresholds=args.thresholds,
                                   compare=args.compare, write_card=args.write_card)
    if notice:
        _err(notice)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.report:
        Path(args.report).write_text(text + "\n", encoding="utf-8")
    print(text)
    return EXIT_OK


def cmd_feedback(args) -> int:
    from .feedback import build_training, check_training_output, write_training

    # -o naming the corrections log (append-only, cannot be made again) or a scan is a usage error.
    check_training_output(args.corrections, args.results, args.output)
    summary = build_training(args.corrections, args.results)
    # Like `scan`: report every unusable decision (file and line) and go on with the others; exit 1.
    for problem in summary.problems:
        _err(str(problem))
    if summary.conflicts:
        _err(f"{len(summary.conflicts)} message(s) with conflicting decisions; the latest decision of each is used "
             "(record a new decision to change it):")
        for conflict in summary.conflicts:
            print(f"  {conflict}", file=sys.stderr)
    counts = (f"(one per message, from {summary.decisions} decisions; conflicts: {len(summary.conflicts)}, "
              f"problems: {len(summary.problems)})")
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False))
    if summary.records:
        write_training(summary.records, args.output)
        print(f"training records written: {len(summary.records)} -> {args.output} {counts}", file=sys.stderr)
    else:  # nothing usable was read: an earlier OUT must not be replaced by an empty file
        kept = "left as it was" if Path(args.output).exists() else "not written"
        print(f"no training records {counts}: {args.output} {kept}", file=sys.stderr)
    return EXIT_DATA_ERRORS if summary.problems else EXIT_OK


def cmd_report(args) -> int:
    from .report import write_report

    logging.basicConfig(level=logging.WARNING, format="kasuhara: %(message)s")  # "the results file is empty"
    out = write_report(args.results, args.output, top=args.top)
    print(f"report: {out}", file=sys.stderr)
    return EXIT_OK


def _shared(*parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A parent parser: options several commands share, defined once so their names and help stay in step."""
    return argparse.ArgumentParser(add_help=False, parents=list(parents))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kasuhara", description="Find customer harassment (カスハラ) in Japanese messages.")
    p.add_argument("--version", action="version", version=f"kasuhara-nlp {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_text: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help_text, parents=list(parents))
        s.set_defaults(func=func)
        return s

    model_opts = _shared()
    model_opts.add_argument("--model", help="model folder (default: the bundled model)")
    threshold_opts = _shared(model_opts)
    threshold_opts.add_argument("--thresholds", help="JSON file overriding per-category thresholds")
    scoring_opts = _shared(threshold_opts)  # scan and score: _load's options
    scoring_opts.add_argument("--raw", action="store_true", help="score whole bodies, quotes and signatures included")
    scoring_opts.add_argument("--max-chars", type=_count(1), default=DEFAULT_MAX_CHARS, metavar="N",
                              help="score the first N characters of a longer message; its result says so "
                                   "(default: %(default)s)")
    message_arg = _shared()
    message_arg.add_argument("text", help="the message text, or - for stdin")
    summary_opts = _shared()
    summary_opts.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    summary_opts.add_argument("-q", "--quiet", action="store_true", help="no summary")

    s = command("scan", cmd_scan, "score every message of CSV/JSONL/mail/chat exports", scoring_opts)
    s.add_argument("inputs", nargs="+", help="input files or folders; - reads stdin")
    s.add_argument("-o", "--output", default="-", help="output .jsonl or .csv (default: JSONL on stdout)")
    s.add_argument("--format", choices=FORMATS, help="force the input format instead of detecting it")
    s.add_argument("--preset", choices=preset_names(), help="column mapping preset for helpdesk exports")
    s.add_argument("--encoding", help="force the input encoding (default: detected; CP932 and UTF-8 known)")
    s.add_argument("--support-domain", action="append", help="mail domain of your support staff (repeatable)")
    s.add_argument("--agent-address", action="append", help="address of an agent (repeatable)")
    s.add_argument("--name-role", action="append", help="NAME=ROLE for chat speakers, e.g. 佐藤=agent")
    s.add_argument("--text-field", help="column holding the message text")
    s.add_argument("--id-field", help="column holding the message id")
    s.add_argument("--no-mask", action="store_true", help="keep PII (addresses, phone numbers) in output text")
    s.add_argument("--no-conversations", action="store_true", help="do not add conversation records")
    s.add_argument("--batch-size", type=_count(1), default=64)
    s.add_argument("--summary", help="also write the summary as JSON to this file")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    s.add_argument("--route", metavar="POLICY", help="route flagged results by this policy TOML (see docs/routing.md)")

    s = command("route", cmd_route, "send alerts for results written earlier, by a routing policy", summary_opts)
    s.add_argument("results", nargs="?", help="results JSONL from `kasuhara scan` (- reads stdin)")
    s.add_argument("--policy", help="routing policy TOML (default: every flag to kasuhara-routing/alerts.jsonl)")
    s.add_argument("--release-held", action="store_true", help="deliver alerts held for quiet hours now")
    s.add_argument("--retry-dead", action="store_true",
                   help="try dead-lettered alerts again now (after fixing an address, URL or server)")
    s.add_argument("--ack-dead", action="store_true",
                   help="mark dead letters as handled by hand, so runs stop exiting 1 for them")

    s = command("report-message", cmd_report_message,
                "report a message you received as harassment (staff self-report)", message_arg, summary_opts)
    s.add_argument("--staff", required=True, help="your name, as in the policy's staff map")
    s.add_argument("--category", action="append", required=True, choices=CATEGORIES,
                   help="category id; repeat for several")
    s.add_argument("--severity", type=int, required=True, choices=[1, 2, 3], help="1 mild, 2 clear, 3 severe")
    s.add_argument("--policy", help="routing policy TOML")
    s.add_argument("--conversation-id")
    s.add_argument("--message-id")
    # The default is a data/SCHEMA.md channel, so the kept example passes data/tools/check_records.py.
    s.add_argument("--channel", default="web_form", help="where the message came from: email, chat, phone, "
                   "meeting, web_form, sns_dm, review_reply, one_liner (default: web_form)")
    s.add_argument("--quote", help="the exact part of the text that is harassment")
    s.add_argument("--note", help="one line on why")

    s = command("score", cmd_score, "score one message and show the evidence", message_arg, scoring_opts)
    s.add_argument("--json", action="store_true", help="print the result as JSON")

    command("info", cmd_info, "versions, model, tokenizer and dictionary", model_opts)

    s = command("train", cmd_train, "train the baseline or fine-tune a BERT on labelled JSONL")
    s.add_argument("--model", choices=["baseline", "bert", "blend"], default="baseline",
                   help="blend: pair the trained BERT folder --base with the baseline --blend-baseline")
    s.add_argument("--data", help="labelled JSONL file or data folder (default: the bundled data/)")
    s.add_argument("-o", "--output", help="model folder to write")
    s.add_argument("--base", help="BERT base: local folder or Hugging Face id")
    s.add_argument("--epochs", type=_count(1), default=6)
    s.add_argument("--learning-rate", type=float, default=5e-5)
    s.add_argument("--batch-size", type=_count(1), default=32)
    s.add_argument("--max-length", type=int, default=128)
    s.add_argument("--stride", type=int, default=32, help="tokens shared by neighbouring windows of a long message")
    s.add_argument("--seed", type=int, default=13)
    s.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    s.add_argument("--version", default="0.1.0", help="version recorded in the model")
    s.add_argument("--max-minutes", type=float, default=0.0, help="stop training after this many minutes")
    s.add_argument("--layers", type=int, default=0, help="keep this many of the base's layers (0: all)")
    s.add_argument("--teacher", help="fine-tuned model folder to distil from; several joined by commas are averaged")
    s.add_argument("--distill-weight", type=float, default=0.5, help="teacher's share of the loss (0-1)")
    s.add_argument("--blend-baseline", help="baseline model folder to blend with the BERT")
    s.add_argument("--checkpoint-dir", help="save the model after every epoch (epoch-N folders) here")
    s.add_argument("--nbsvm", action="store_true",
                   help="baseline: average an NB-SVM over character 1-4 grams into the TF-IDF model")
    s.add_argument("--soft-labels", action="store_true",
                   help="bert: learn each category's share of the labellers in <data>/agreement, not the majority")
    s.add_argument("--subtype-weight", type=float, default=0.0,
                   help="bert: weight of an auxiliary loss on the records' subtypes (A1-D4); 0 turns it off")

    s = command("evaluate", cmd_evaluate, "metrics on labelled data (a labelled file: all of it; the corpus: test "
                "and blind splits)", threshold_opts)
    s.add_argument("--data", help="labelled JSONL file or data folder (default: data/)")
    s.add_argument("--splits", nargs="+", help="splits to evaluate (default: test and blind for a data folder; "
                   "every record of a labelled file, reported as \"all\")")
    s.add_argument("--report", help="write the report JSON here")
    s.add_argument("--write-card", action="store_true",
                   help="write evaluation.json and MODEL_CARD.md into the model folder")
    s.add_argument("--compare", help="another model folder (e.g. the baseline) to report beside it in the card")

    s = command("feedback", cmd_feedback, "turn analyst decisions (notebooks/01) into labelled training records")
    s.add_argument("corrections", nargs="+", help="corrections JSONL file(s) written by record_decision()")
    s.add_argument("--results", required=True, nargs="+", action="extend",
                   help="the scan results JSONL/CSV file(s) the decisions were made on (give every scan the "
                        "corrections cover)")
    s.add_argument("-o", "--output", required=True,
                   help="labelled JSONL to write (data/SCHEMA.md format, text PII-masked); replaced when at least "
                        "one record comes out, left as it was when none does; never one of the corrections or "
                        "results files")
    s.add_argument("--json", action="store_true", help="also print the summary (counts, problems, conflicts) as JSON")

    s = command("report", cmd_report, "a self-contained HTML report (Japanese) of scan results")
    s.add_argument("results", help="scan results JSONL or CSV written by `kasuhara scan`")
    s.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    s.add_argument("--top", type=_count(0), default=20, help="flagged messages to show (default: 20)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    try:
        return args.func(args)
    except (ConfigError, InputFormatError) as exc:
        _err(str(exc))
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURE
    except KasuharaError as exc:
        _err(str(exc))
        return EXIT_FAILURE
    except FileNotFoundError as exc:
        _err(f"{exc.filename}: file not found")
        return EXIT_FAILURE
    except IsADirectoryError as exc:  # e.g. `report -o somefolder`: name the path, no traceback
        _err(f"{exc.filename}: is a folder; give a file name")
        return EXIT_USAGE
    except PermissionError as exc:
        _err(f"{exc.filename}: permission denied")
        return EXIT_FAILURE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
