"""The ``litho`` command: a thin argparse layer over the public API.

Every module in this package that defines ``register(subparsers)`` adds one
command (or a group); ``ORDER`` in the module sorts ``litho --help``. A
command's handler is set with ``parser.set_defaults(func=...)`` and receives
the parsed arguments; it returns an exit code (or None for 0).

A user's mistake (:class:`litho.errors.LithoInputError`, a missing file, a
bad option) is printed as one line on stderr with exit code 2, never as a
traceback (DESIGN.md §6).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import re
import sys
import warnings

from .. import fields
from ..errors import LithoInputError, LithoNote
from ..recipe import PIXEL_RANGE_UM

# A value that starts with "-" and then a digit, a point, inf or nan is a (negative) number or a
# list of them ("--defocus-um -2,0,2", "--orientation-deg -1e-3"), never an option: no litho
# option starts so. Its type= function then checks it.
_NEGATIVE_NUMBERS = re.compile(r"^-(?:\d|\.\d|inf|nan)", re.IGNORECASE)

#: ``type=`` of every command's ``--pixel-um``: the recipe's simulation.pixel_um range.
pixel_um_option = fields.option(fields.number, "--pixel-um", lo=PIXEL_RANGE_UM[0], hi=PIXEL_RANGE_UM[1],
                                unit="µm")
PIXEL_UM_HELP = f"{PIXEL_RANGE_UM[0]:g} to {PIXEL_RANGE_UM[1]:g} µm"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``litho CMD: error: ...``; negative numbers are values."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBERS

    def error(self, message):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="litho",
        description="Simulate direct photopatterning of quantum-dot films: "
                    "mask -> aerial image -> crosslinking -> developed pixels.",
        epilog="Example: litho simulate recipes/rgb_stripe_1000ppi.toml -o out\n\n"
               "Output (-o): checked before any work; its folder must exist. A run's directory\n"
               "appears whole or not at all and replaces an earlier litho run in -o as a whole;\n"
               "a non-empty directory litho did not write is refused. report.json is the same\n"
               "bytes for the same inputs (run time: timing.json).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"litho {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.__name__)):
        module.register(sub)
    return parser


def _one_line_litho_warnings() -> None:
    """Print litho's own warnings (e.g. an unusable kernel cache) as one ``litho: ...`` line."""
    import warnings

    current = warnings.formatwarning
    if getattr(current, "litho", False):
        return

    def formatwarning(message, category, filename, lineno, line=None):
        if category.__module__.split(".")[0] == "litho":
            return f"litho: {message}\n"
        return current(message, category, filename, lineno, line)

    formatwarning.litho = True
    warnings.formatwarning = formatwarning


def main(argv: list[str] | None = None) -> int:
    _one_line_litho_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        with _notes(args.command):
            code = args.func(args)
    except LithoInputError as err:
        print(f"litho {args.command}: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"litho {args.command}: {err.filename}: no such file", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"litho {args.command}: out of memory; use a coarser --pixel-um or tiling", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"litho {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


@contextlib.contextmanager
def _notes(command: str):
    """Print each :class:`LithoNote` (a remark on an accepted input) as one line on stderr."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, LithoNote):
            print(f"litho {command}: note: {message}", file=sys.stderr)
        else:
            previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", LithoNote)
        warnings.showwarning = show
        yield


def output_dir(path, flag: str = "-o"):
    """The ``-o`` directory as a Path, checked before any work (:func:`litho.outputs.check_output_dir`).

    Every command that writes a directory calls this first thing in its
    handler, so a bad ``-o`` is one line before anything is computed.
    """
    from ..outputs import check_output_dir

    return check_output_dir(path, flag)


def output_file(path, flag: str = "-o", suffixes: tuple[str, ...] | None = None):
    """An output file as a Path, checked before any work (:func:`litho.outputs.check_output_file`)."""
    from ..outputs import check_output_file

    return check_output_file(path, flag, suffixes)


def example_help(description: str, example: str) -> dict:
    """Keyword arguments for ``add_parser`` giving a description and a runnable example."""
    return dict(
        help=description.split(".")[0],
        description=description,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_scheduler_option(p) -> None:
    """``--scheduler`` of the commands whose independent work runs as Dask tasks."""
    p.add_argument("--scheduler", default=None,
                   help="threads (default: Dask's local scheduler), sync, or a Dask scheduler address "
                        "tcp://host:port")


def add_grid_run_options(p, *, out_default: str | None, out_help: str) -> None:
    """``--scheduler``, ``--pixel-um`` and ``-o`` of the commands that run many points (sweep, optimize)."""
    add_scheduler_option(p)
    p.add_argument("--pixel-um", type=pixel_um_option, default=None,
                   help=f"sample pitch for every point, {PIXEL_UM_HELP}")
    p.add_argument("-o", "--out", default=out_default, help=out_help)
