"""``reactdiff methods`` and ``reactdiff describe METHOD``: what the registry holds."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("methods", help="list the registered methods: stages, online/offline, parameters")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run_methods)
    describe = subparsers.add_parser(
        "describe", help="parameter count of each part of a method's networks (and the total)",
        description="Build a method's networks for the standard streams (emotion 25, 3dmm 58, mfcc 26) "
        "without allocating weights and count the parameters of each part.",
    )
    describe.add_argument("method", help="registered method name (see `reactdiff methods`)")
    describe.add_argument("--preset", default="default", help="model preset of the method (default: default)")
    describe.add_argument("--json", action="store_true", help="print JSON")
    describe.set_defaults(func=run_describe)


def parameter_counts(method, preset: str = "default") -> dict[str, int]:
    """Parameters per part of ``method``'s networks at ``preset``, built on the meta device (no
    memory for the weights), for the standard stream widths."""
    import torch

    from reactdiff.streams import STREAMS

    config = method.preset(preset)
    method.validate_config(config)
    names = method.input_streams(config)
    with torch.device("meta"):
        model = method.build(config, {n: STREAMS[n].dim for n in names}, {n: STREAMS[n].kind for n in names})
    return method.describe(model)


def run_methods(args: argparse.Namespace) -> int:
    import json

    from reactdiff.methods.registry import METHODS

    rows = []
    for name in METHODS:
        method = METHODS[name]
        config = method.preset("default")
        online = method.is_online(config)
        can_online = online or method.online_variant(config) is not None
        rows.append({
            "method": name,
            "stages": [stage.name for stage in method.stages],
            "mode": "online" if online else ("offline (online variant)" if can_online else "offline"),
            "parameters": parameter_counts(method)["total"],
            "title": method.title,
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| method | stages | mode (default preset) | parameters (default preset) | what it is |")
    print("|---|---|---|---:|---|")
    for row in rows:
        print(f"| {row['method']} | {' -> '.join(row['stages'])} | {row['mode']} | {row['parameters'] / 1e6:.2f} M | {row['title']} |")
    return 0


def run_describe(args: argparse.Namespace) -> int:
    import json

    from reactdiff.methods.registry import get_method

    counts = parameter_counts(get_method(args.method), args.preset)
    if args.json:
        print(json.dumps(counts, indent=2))
        return 0
    for part, count in counts.items():
        print(f"{part:>14}: {count:>13,d}")
    return 0
