"""The ``larder`` command line: parse arguments, build what the command needs, run it, report plainly.

Each command group lives in its own module with a ``register(subparsers)`` function; the modules import heavy
libraries (numpy, models, sounddevice) only inside the commands that need them, so ``larder parse`` starts fast.
Every ``LarderError`` is printed as one plain sentence with its hint and a per-stage exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from device.errors import LarderError

log = logging.getLogger("larder")


def build_parser() -> argparse.ArgumentParser:
    from device import __version__
    from device.cli import bench, inventory, ops, voice

    parser = argparse.ArgumentParser(
        prog="larder", description="Hands-free kitchen inventory: voice in, stock changes, spoken replies."
    )
    parser.add_argument("--version", action="version", version=f"larder {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (inventory, voice, ops, bench):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except KeyboardInterrupt:  # Ctrl-C while the commands' modules import
        return 130
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code = args.func(args)
    except LarderError as exc:
        print(f"larder: {exc.code} error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one sentence, details only with -v
        log.debug("internal error", exc_info=True)
        print(
            f"larder: internal error: {type(exc).__name__}: {exc} (run with -v for details)",
            file=sys.stderr,
        )
        return 70
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
