"""The `photo-search` command: parse arguments, call the library, present the result.

Nothing here does real work. Every command prints exactly one JSON object with `--json`, or
readable text without; expected failures become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .errors import PhotoSearchError
from .health import health_report
from .images import LoadOptions

EXIT_OK, EXIT_BAD_INPUT = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with where to look) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON object on stdout instead of text")

    parser = _Parser(
        prog="photo-search",
        description="Search your own photo folder by example photo or by text, and find "
                    "near-duplicates. Everything stays on this machine; photos are only read.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = commands.add_parser("report", parents=[common], help="which photos load, which do not, and why",
                                 description="Ingestion health: try to decode every image in a folder "
                                             "and report what would be skipped, with reasons.")
    report.add_argument("photos_dir", metavar="PHOTOS_DIR", help="the photo folder (only read, never changed)")
    report.add_argument("--max-megapixels", type=float, default=LoadOptions.max_megapixels,
                        help="skip images larger than this (default: %(default)g)")
    report.add_argument("--workers", type=int, default=None, help="decode threads (default: all cores)")
    report.set_defaults(handler=run_report)

    for name, help_text in (
        ("index", "build or update the index of a photo folder"),
        ("search", "find photos by text or by an example photo"),
        ("dupes", "find exact and near-duplicate photos"),
        ("eval", "measure search quality against ground truth"),
        ("gallery", "write search results as a self-contained HTML page"),
    ):
        placeholder = commands.add_parser(name, parents=[common], help=f"{help_text} (not built yet)")
        placeholder.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        placeholder.set_defaults(handler=_not_built(name))
    return parser


def _not_built(name: str) -> Callable[[argparse.Namespace], dict[str, Any]]:
    def handler(_: argparse.Namespace) -> dict[str, Any]:
        raise PhotoSearchError(f"'photo-search {name}' is not available in this version yet")

    return handler


def run_report(args: argparse.Namespace) -> dict[str, Any]:
    report = health_report(args.photos_dir, LoadOptions(min_side=224, max_megapixels=args.max_megapixels),
                           workers=args.workers, progress=not args.json and sys.stderr.isatty())
    return report.as_dict()


def _print_human(command: str, result: dict[str, Any]) -> None:
    if command == "report":
        print(f"{result['loaded']} of {result['files']} image files load; {len(result['skipped'])} skipped.")
        if result["by_format"]:
            print("formats: " + ", ".join(f"{name} {count}" for name, count in result["by_format"].items()))
        for item in result["skipped"]:
            print(f"  skipped {item['path']}: {item['reason']}")
        return
    print(json.dumps(result, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    # File names may not be valid UTF-8; show them escaped rather than crash on printing.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        result = args.handler(args)
    except PhotoSearchError as error:
        message = str(error)
        print(f"photo-search: error: {message}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": message}))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("photo-search: interrupted; nothing in your photo folder was changed", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    else:
        _print_human(args.command, result)
    return EXIT_OK
