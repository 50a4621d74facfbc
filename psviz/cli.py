"""The `psviz` command line."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="psviz", description="Proxy Synthesis: train, evaluate and visualise.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the embedded default demo")
    demo.add_argument("--alpha", type=float, default=0.4, help="Beta(alpha, alpha) for lambda (default 0.4)")
    demo.add_argument("--mu", type=float, default=1.0, help="generation ratio: synthetics per batch size (1.0)")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from . import demo

            demo.run(alpha=args.alpha, mu=args.mu, seed=args.seed)
    except ValueError as error:
        print(f"psviz {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
