"""``reactdiff train METHOD [STAGE]``: train any registered method, one stage or all of them.

    reactdiff train reactdiff autoencoder --data D --out runs/rd/autoencoder
    reactdiff train reactdiff diffusion --data D --autoencoder runs/rd/autoencoder --out runs/rd/diffusion
    reactdiff train reactdiff --data D --out runs/rd          # every stage in order, into runs/rd/<stage>
    reactdiff train transvae --data D --out runs/transvae     # a one-stage method
    reactdiff train transvae --data D --out runs/tv --recipe demo   # a named step budget (tiny, demo, long)

Every setting of a stage is a flag generated from its settings dataclass (``--optim.lr``,
``--steps``, ``--batch_size``, ``--preset``, ``--model.<field>``...). Budgets are optimizer steps,
so the same command and seed give the same model on any machine. Re-running the same command on
the same ``--out`` continues the run from ``<out>/last`` (exactly: optimizer, LR schedule, EMA,
step and RNG). Launch under ``torchrun --nproc_per_node N`` for data-parallel training.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.methods.registry import METHODS

    parser = subparsers.add_parser(
        "train",
        help="train a registered method (`reactdiff methods` lists them), one stage or all",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    methods = parser.add_subparsers(dest="method", metavar="METHOD", required=True)
    for name in METHODS:
        method = METHODS[name]
        method_parser = methods.add_parser(name, help=method.title, description=method.title)
        if len(method.stages) == 1:
            _add_stage_arguments(method_parser, method, method.stages[0], add_config_args)
            continue
        # Without a STAGE every stage runs in order (settings per stage from --config sections).
        # --data/--out are checked in run_all: argparse would demand them before a STAGE too.
        _add_common_arguments(method_parser, required=False)
        method_parser.add_argument("--config", type=Path, default=None, help="YAML/JSON with one section of settings per stage")
        method_parser.add_argument("--recipe", default=None,
                                   help=f"named per-stage settings of the method: {', '.join(method.budgets)} "
                                   "(step budgets; `paper`: the published training where the method has one); --config sections override them")
        method_parser.add_argument("--preset", default=None, help=f"model preset of the first stage (later stages take its model): {', '.join(method.presets)}")
        method_parser.add_argument("--seed", type=int, default=None, help="seed of every stage")
        method_parser.add_argument("--device", default=None, help="device of every stage (auto, cpu, cuda...)")
        method_parser.set_defaults(func=run_all, method_name=name)
        stages = method_parser.add_subparsers(dest="stage", metavar="STAGE", required=False)
        for stage in method.stages:
            stage_parser = stages.add_parser(stage.name, help=stage.help, description=stage.help)
            _add_stage_arguments(stage_parser, method, stage, add_config_args)


def _add_common_arguments(parser, required: bool = True) -> None:
    parser.add_argument("--data", type=Path, required=required, help="dataset root prepared by `reactdiff prepare`")
    parser.add_argument("--out", type=Path, required=required, help="run folder (checkpoints in last/ and best/, logs/)")


def _add_stage_arguments(parser, method, stage, add_config_args) -> None:
    _add_common_arguments(parser)
    if stage.requires:
        parser.add_argument(f"--{stage.requires}", dest="previous", type=Path, required=True,
                            help=f"the {method.name} {stage.requires} checkpoint (or its run folder) this stage continues")
    parser.add_argument("--resume", action="store_true", help="require an existing run in --out to continue (default: continue if there is one)")
    parser.add_argument("--recipe", default=None,
                        help=f"named settings of this stage: {', '.join(method.budgets)} (step budgets); --config and flags override them")
    add_config_args(parser, stage.config_class)
    parser.set_defaults(func=run_stage, method_name=method.name, stage_name=stage.name)


def run_stage(args: argparse.Namespace) -> int:
    from reactdiff.config import flag_settings
    from reactdiff.methods.registry import get_method
    from reactdiff.train.run import flatten_config_file, train_stage

    settings, config_file = flag_settings(args), args.config
    if args.recipe:
        # recipe < config file < flags, as for a whole method's run.
        recipe = get_method(args.method_name).budget(args.recipe).get(args.stage_name, {})
        from_file = flatten_config_file(config_file) if config_file is not None else {}
        settings, config_file = {**recipe, **from_file, **settings}, None
    result = train_stage(
        args.method_name, args.stage_name, args.data, args.out, settings=settings, config_file=config_file,
        previous=getattr(args, "previous", None), resume=True if args.resume else None,
    )
    _print_result(f"{args.method_name} {args.stage_name}", result)
    return 0


def run_all(args: argparse.Namespace) -> int:
    from reactdiff.errors import ConfigError
    from reactdiff.train.run import train_method

    if args.data is None or args.out is None:
        raise ConfigError(f"give --data and --out (all stages of {args.method_name} into OUT/<stage>), or a STAGE")
    from reactdiff.methods.registry import get_method

    common = {key: value for key, value in (("seed", args.seed), ("device", args.device)) if value is not None}
    method = get_method(args.method_name)
    recipe = method.budget(args.recipe) if args.recipe else {}
    if args.preset is not None:
        first = method.stages[0].name
        recipe = dict(recipe, **{first: dict(recipe.get(first, {}), preset=args.preset)})
    results = train_method(args.method_name, args.data, args.out, settings=recipe, common=common, config_file=args.config)
    for stage, result in results.items():
        _print_result(f"{args.method_name} {stage}", result)
    return 0


def _print_result(label: str, result) -> None:
    best = f"; best val loss {result.best_val_loss:.4f}" if result.best_val_loss is not None else ""
    print(f"{label}: {result.step} steps, last train loss {result.train_loss:.4f}{best}; checkpoints in {result.out_dir}")
