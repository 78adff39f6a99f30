"""The `hearback` command line: `transcribe`, `summarize`, `speakers ...`, `groups ...`, `keys ...` and `serve`.

Errors a user can fix end the command with one line on stderr and exit status 2; nothing prints a
traceback unless --verbose is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional

from app import commands_groups, commands_keys, commands_service, commands_summary, commands_transcribe
from hearback import allocator
from hearback.errors import HearbackError

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

log = logging.getLogger("hearback")


def main(argv: Optional[list[str]] = None) -> int:
    allocator.tune()  # before the models load: the process's peak memory (hearback/allocator.py)
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.run(args)
    except HearbackError as exc:
        print(f"hearback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hearback: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so in one line, details only with --verbose
        if args.verbose:
            log.exception("internal error")
        print(f"hearback: internal error: {type(exc).__name__}: {exc} (rerun with --verbose for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearback", description="Transcripts with word timestamps and named speakers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (and tracebacks) to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands_transcribe.register(commands)
    commands_summary.register(commands)
    commands_service.register(commands)
    commands_groups.register(commands)
    commands_keys.register(commands)
    return parser


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
