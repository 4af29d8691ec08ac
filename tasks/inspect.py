"""Print a few decoded examples of a task or mixture, to see what the model is trained on; or list them all.

    python -m tasks.inspect alexatm_default_pretrain --split=train --num=5 --seed=0
    python -m tasks.inspect --list
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

OBJECTIVE_NAMES = {0: "denoise", 1: "clm", -1: "other"}


def format_example(example: dict, output_features: dict, *, show_ids: bool = False) -> str:
    """Human-readable text of one task example (numpy values): objective, decoded inputs and targets."""
    lines = []
    if "objective" in example:
        obj = int(example["objective"])
        lines.append(f"objective: {OBJECTIVE_NAMES.get(obj, obj)}")
    for key in ("inputs", "targets"):
        if key not in example:
            continue
        ids = [int(i) for i in example[key]]
        vocab = output_features[key].vocabulary
        text = vocab.decode(ids)
        lines.append(f"{key} ({len(ids)} tokens): {text}")
        if show_ids:
            lines.append(f"{key} ids: {ids}")
    return "\n".join(lines)


def inspect_examples(
    name: str,
    *,
    split: str = "train",
    num: int = 5,
    seed: int = 0,
    inputs_length: int = 512,
    targets_length: int = 512,
    show_ids: bool = False,
) -> list[str]:
    """Formatted examples of task/mixture `name` (registers every task first)."""
    import tasks.all  # noqa: F401
    from tasks.registry import get_mixture_or_task

    provider = get_mixture_or_task(name)
    ds = provider.get_dataset(
        sequence_length={"inputs": inputs_length, "targets": targets_length},
        split=split, shuffle=True, seed=seed, num_epochs=1,
    )
    features = provider.output_features
    return [format_example(ex, features, show_ids=show_ids) for ex in ds.take(num).as_numpy_iterator()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.inspect", description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", help="task or mixture name, e.g. alexatm_default_pretrain")
    parser.add_argument("--list", action="store_true", help="print every registered task and mixture")
    parser.add_argument("--split", default="train")
    parser.add_argument("--num", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inputs_length", type=int, default=512)
    parser.add_argument("--targets_length", type=int, default=512)
    parser.add_argument("--show_ids", action="store_true", help="also print the token ids")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        import tasks.all  # noqa: F401
        from tasks.registry import registered_names

        print("\n".join(registered_names()))
        return
    examples = inspect_examples(
        args.name, split=args.split, num=args.num, seed=args.seed,
        inputs_length=args.inputs_length, targets_length=args.targets_length, show_ids=args.show_ids,
    )
    for i, text in enumerate(examples):
        print(f"=== {args.name} [{args.split}] example {i} ===\n{text}\n")


if __name__ == "__main__":
    main()
