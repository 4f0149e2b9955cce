"""The ``litho`` console script: signal and pipe handling before any heavy import.

This module imports nothing but the standard library before it has set up:

* SIGINT (Ctrl-C) at any moment, imports included, exits 130 after one
  line ``litho: interrupted`` on stderr, never a traceback;
* SIGTERM exits 143 after ``litho: terminated``; both arrive as exceptions,
  so the temporary outputs of :mod:`litho.outputs` are removed on the way out;
* a closed stdout or stderr (``litho materials | head -c 10``) is not an
  error: further output is discarded and the command finishes its work
  (files are still written) with its ordinary exit code.

``python -m litho`` runs the same entry point.
"""

from __future__ import annotations

import os
import signal
import sys


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup code runs."""


def _on_sigterm(signum, frame):
    raise Terminated


class _QuietPipe:
    """A text stream that discards output once its reader has gone (EPIPE).

    The file descriptor is then pointed at /dev/null, so that the interpreter's
    own flush at exit finds nothing to complain about ("Exception ignored ...").
    """

    def __init__(self, stream):
        self._stream = stream
        self.closed_by_reader = False

    def _gone(self) -> None:
        self.closed_by_reader = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text):
        if self.closed_by_reader:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self.closed_by_reader:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _leave(code: int) -> None:
    """Exit now: flush what can be flushed, skip waiting for worker threads."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _quiet_exit(signum, frame):
    """Before (and after) the command runs there is nothing to clean up: leave at once."""
    _say("litho: interrupted" if signum == signal.SIGINT else "litho: terminated")
    _leave(130 if signum == signal.SIGINT else 143)


def _install(handler_int, handler_term) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a background job keeps ignoring it
        signal.signal(signal.SIGINT, handler_int)
    signal.signal(signal.SIGTERM, handler_term)


# Installed when this module is imported, so the moments between the import and main()
# are covered too.
_install(_quiet_exit, _quiet_exit)


def _signal_in_chain(exc: BaseException):
    """KeyboardInterrupt or Terminated if one of them caused ``exc`` (its __cause__/__context__ chain)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return type(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the ``litho`` command line; returns (or exits with) its exit code."""
    # The imports (numpy, shapely, every command module) run under the quiet-exit handlers:
    # nothing is written yet, and a KeyboardInterrupt inside a C extension's import
    # would be printed by that extension as a traceback before Python could catch it.
    from .cli import build_parser, main as cli_main

    build_parser()
    try:
        # while the command runs, signals become exceptions, so temporary outputs are removed
        _install(signal.default_int_handler, _on_sigterm)
        if sys.stdout is not None and not isinstance(sys.stdout, _QuietPipe):
            sys.stdout = _QuietPipe(sys.stdout)
        if sys.stderr is not None and not isinstance(sys.stderr, _QuietPipe):
            sys.stderr = _QuietPipe(sys.stderr)

        code = cli_main(argv)
    except KeyboardInterrupt:
        # cleanup ran while the exception unwound; a second Ctrl-C must not interrupt the exit
        _install(signal.SIG_IGN, signal.SIG_IGN)
        _say("litho: interrupted")
        _leave(130)
    except Terminated:
        _install(signal.SIG_IGN, signal.SIG_IGN)
        _say("litho: terminated")
        _leave(143)
    except Exception as exc:
        # A signal that lands inside an import can surface as another exception
        # (an ImportError raised while handling it): still an interruption.
        cause = _signal_in_chain(exc)
        if cause is None:
            raise
        _install(signal.SIG_IGN, signal.SIG_IGN)
        _say("litho: interrupted" if cause is KeyboardInterrupt else "litho: terminated")
        _leave(130 if cause is KeyboardInterrupt else 143)
    _install(_quiet_exit, _quiet_exit)
    if code == 130:  # interrupted inside the command, which printed its line: do not wait for workers
        _leave(130)
    return code


if __name__ == "__main__":
    sys.exit(main())
