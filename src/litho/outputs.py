"""Where litho writes, checked before any work, and written atomically (DESIGN.md §6).

Two promises:

* An output path (``-o``) is checked before anything is computed: it must
  be creatable and writable, not a file, not inside a file, not a dangling
  symbolic link, and its folder must already exist (litho never creates
  folders above the one it was asked to write). A bad path is one
  :class:`~litho.errors.LithoInputError` line.
* A run's output appears whole or not at all. Files and directories are
  built under a temporary name *beside* the destination (same folder, so the
  final rename is atomic)::

      .OUT.litho-tmp-<pid>-<random>

  and renamed into place only when complete. An output directory is
  replaced as a whole: the new run's directory takes the place of the old
  one in one exchange (``renameat2(RENAME_EXCHANGE)`` on Linux, else two
  renames), so files of an earlier run never sit beside a new run's. To
  keep that from deleting a user's own files, an existing directory is
  replaced only when it is empty or was written by litho (it holds the
  marker file :data:`MARKER`); any other directory is refused.

Temporary names carry the writing process's id. They are removed when the
body fails, on SIGINT/SIGTERM (the command-line entry point turns both into
exceptions), and, when the process was killed outright, by the next run that
writes into the same folder (:func:`remove_stale`: owner process gone).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from .errors import LithoInputError

#: File that marks a directory as a litho output (so a later run may replace it).
MARKER = ".litho-output"
_TMP, _OLD = "litho-tmp", "litho-old"
# ".<name>.litho-tmp-<pid>-<8 hex>[suffix]"; the pid says whether the owner still runs.
_TEMP_NAME = re.compile(r"^\..*\.(litho-tmp|litho-old)-(\d+)-[0-9a-f]{8}(\.[^.]*)?$")
# temporary directories of litho before 0.2 lived inside -o under this name
_LEGACY_TEMP = re.compile(r"^\.litho-[A-Za-z0-9_]{8}$")
# temporary names this process owns right now (never stale, even when a pid is reused)
_ACTIVE: set[str] = set()


# --------------------------------------------------------------------------- checks


def check_output_dir(path, flag: str = "-o") -> Path:
    """Check an output directory before any work and return the path to write.

    Parameters
    ----------
    path : str or PathLike
        The directory a command writes into (``-o``).
    flag : str
        How the user gave it, for the message.

    Returns
    -------
    Path
        The directory (a symbolic link to a directory is followed, so the
        link stays and its target is replaced).

    Raises
    ------
    LithoInputError
        Empty; a file; inside a file; a dangling link; its folder missing or
        not writable; the current directory or one above it; or a directory
        holding files litho did not write.
    """
    out = _common_checks(path, flag)
    try:
        if out.exists() and not out.is_dir():
            raise LithoInputError(f"{flag} {out}: exists and is not a directory")
        resolved = out.resolve()
        cwd = Path.cwd().resolve()
        if resolved == cwd or resolved in cwd.parents:
            raise LithoInputError(f"{flag} {out}: is the current directory or contains it; "
                                  f"litho replaces its output directory as a whole, so give a new directory")
        _check_parent(out, flag)
        if out.is_dir():
            if not _written_by_litho(out):
                raise LithoInputError(
                    f"{flag} {out}: exists and holds files litho did not write; litho replaces its output "
                    f"directory as a whole, so give a new or empty directory")
            if not os.access(out, os.W_OK | os.X_OK):
                raise LithoInputError(f"{flag} {out}: directory is not writable")
        _probe(out, directory=True, flag=flag)
    except OSError as err:
        raise LithoInputError(f"{flag} {out}: cannot write here ({err.strerror or err})") from None
    remove_stale(out.parent)
    return out


def check_output_file(path, flag: str = "-o", suffixes: tuple[str, ...] | None = None) -> Path:
    """Check an output file before any work (same rules as :func:`check_output_dir`).

    ``suffixes``, when given, are the accepted endings (lower case, with the dot).
    """
    out = _common_checks(path, flag)
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise LithoInputError(f"{flag} {out}: must end in {' or '.join(suffixes)} "
                              f"(got {out.suffix or 'no suffix'!r})")
    try:
        if out.is_dir():
            raise LithoInputError(f"{flag} {out}: is a directory; give a file name")
        _check_parent(out, flag)
        if out.exists() and not os.access(out, os.W_OK):
            raise LithoInputError(f"{flag} {out}: file is not writable")
        _probe(out, directory=False, flag=flag)
    except OSError as err:
        raise LithoInputError(f"{flag} {out}: cannot write here ({err.strerror or err})") from None
    remove_stale(out.parent)
    return out


def _common_checks(path, flag: str) -> Path:
    if path is None or not str(os.fspath(path)).strip():
        raise LithoInputError(f"{flag} {str(path or '')!r}: give a path (an empty name is not the current directory)")
    text = os.fspath(path)
    if "\0" in str(text):
        raise LithoInputError(f"{flag} {text!r}: a path cannot hold a NUL character")
    out = Path(text)
    try:
        if out.is_symlink():
            if not out.exists():
                raise LithoInputError(f"{flag} {out}: is a dangling symbolic link (to {os.readlink(out)})")
            if out.is_dir():
                out = Path(os.path.realpath(out))
    except OSError as err:
        raise LithoInputError(f"{flag} {out}: cannot use this path ({err.strerror or err})") from None
    return out


def _check_parent(out: Path, flag: str) -> None:
    """The folder that will hold ``out`` must exist, be a folder and be writable."""
    parent = Path(os.path.abspath(out)).parent
    if not parent.exists():
        ancestor = parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if ancestor.exists() and not ancestor.is_dir():
            raise LithoInputError(f"{flag} {out}: {ancestor} is a file, not a folder")
        raise LithoInputError(f"{flag} {out}: folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise LithoInputError(f"{flag} {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LithoInputError(f"{flag} {out}: folder {parent} is not writable")


def _probe(out: Path, *, directory: bool, flag: str) -> None:
    """Create and remove a temporary entry beside ``out``: the only honest writability test.

    ``os.access`` says yes to root everywhere, and knows nothing of
    file systems such as /sys that refuse new entries.
    """
    probe = _temp_path(out, _TMP)
    try:
        if directory:
            os.mkdir(probe)
            os.rmdir(probe)
        else:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(probe)
    except OSError as err:
        raise LithoInputError(f"{flag} {out}: cannot write in {probe.parent} ({err.strerror or err})") from None


def _written_by_litho(directory: Path) -> bool:
    """True for an empty directory, one holding :data:`MARKER`, or only old litho temporaries."""
    names = [p.name for p in directory.iterdir()]
    return not names or MARKER in names or all(_LEGACY_TEMP.match(n) for n in names)


# --------------------------------------------------------------------------- temporaries


def _temp_path(target: Path, tag: str, suffix: str = "") -> Path:
    target = Path(os.path.abspath(target))
    return target.parent / f".{target.name}.{tag}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _owner_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process's own live temporaries are in _ACTIVE; any other is left from a reused pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OverflowError:
        return False
    return True


def remove_stale(folder) -> list[Path]:
    """Remove litho temporaries in ``folder`` whose owner process is gone; return them.

    A run killed outright (SIGKILL, power loss) cannot clean up after
    itself; the next run writing into the same folder does it.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or entry.path in _ACTIVE or _owner_alive(int(m.group(2))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass  # not ours to remove after all (permissions); harmless to leave
    return removed


@contextlib.contextmanager
def _registered(path: Path):
    _ACTIVE.add(str(path))
    try:
        yield
    finally:
        _ACTIVE.discard(str(path))


# --------------------------------------------------------------------------- atomic writers


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary file has the destination's suffix, so writers that choose
    the format by suffix (gdstk, matplotlib) still work, and the ordinary
    permissions of a new file (0666 less the umask).
    """
    path = Path(path)
    tmp = _temp_path(path, _TMP, path.suffix)
    with _registered(tmp):
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as err:
            raise LithoInputError(f"{path}: cannot write ({err.strerror or err})") from None
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, flag: str = "-o") -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it *becomes* ``path``.

    ``path`` is checked first (:func:`check_output_dir`). An existing litho
    output at ``path`` is replaced as a whole; if the body raises (or the
    process is interrupted), ``path`` is left as it was and the temporary
    directory is removed.
    """
    out = check_output_dir(path, flag)
    tmp = _temp_path(out, _TMP)
    with _registered(tmp):
        try:
            os.mkdir(tmp)
        except OSError as err:
            raise LithoInputError(f"{flag} {out}: cannot write ({err.strerror or err})") from None
        try:
            yield tmp
            from . import __version__

            (tmp / MARKER).write_text(json.dumps({"written_by": "litho", "litho_version": __version__}) + "\n")
            _move_into_place(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, out: Path) -> None:
    """Make the finished directory ``tmp`` be ``out``; an old ``out`` ends up at ``tmp``."""
    if not os.path.lexists(out):
        try:
            os.rename(tmp, out)
            return
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    if _exchange(tmp, out):
        return  # tmp now holds the old run; the caller removes it
    # No atomic exchange here: move the old run aside, then the new one in. Killed between
    # the two, -o is briefly absent (never half-filled); both leftovers are stale temporaries.
    old = _temp_path(out, _OLD)
    with _registered(old):
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # file system or kernel without exchange
    raise OSError(code, os.strerror(code), str(b))
