"""Output folders that appear whole or not at all, and never at the cost of a file secmig did
not write.

A folder is written into a hidden temporary directory beside the target
(``.NAME.partial.<pid>.<random>``), which becomes the target only when the writing completed
(no half-written output after an error, Ctrl-C or SIGTERM). While a command writes a target
it holds a lock (``.NAME.lock`` beside it, ``fcntl.flock``), so two commands never write the
same folder at once; the final move refuses to land on anything that appeared meanwhile.
``force`` replaces only a folder secmig itself wrote (its ``manifest.json`` has a
``secmig_version``, or a sweep folder's ``sweep.json``), never a regular file or a foreign
folder. Temporary folders left by a killed process (its PID in the name is no longer alive)
are removed at the next start. Kept free of heavy imports: the CLI needs it to start fast.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputError(Exception):
    """The output folder cannot be written as asked (the message says why; exit code 2)."""


class OutputExistsError(OutputError, FileExistsError):
    """The output directory exists and overwriting was not asked for (or is not allowed)."""


class OutputBusyError(OutputError):
    """Another secmig process is writing the same output folder right now."""


# --- what may be replaced -------------------------------------------------------------------

def written_by_secmig(path: Path) -> bool:
    """True for a real folder (not a link) that secmig wrote: a manifest.json with a
    ``secmig_version`` key, or a sweep folder's sweep.json."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    if (path / "sweep.json").is_file():
        return True
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    # a comparison's manifest has one entry per scenario
    return "secmig_version" in manifest or any(
        isinstance(v, dict) and "secmig_version" in v for v in manifest.values())


def _is_empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


def check_target(out: Path, force: bool) -> None:
    """Refuse a target that must not be replaced (raise OutputExistsError saying why)."""
    out = Path(out)
    if not os.path.lexists(out) or _is_empty_dir(out):
        return
    if out.is_symlink():
        raise OutputExistsError(f"{out} is a symbolic link; secmig does not replace it, "
                                "also not with --force: choose another --out")
    if not out.is_dir():
        raise OutputExistsError(f"{out} is a file, not an output folder; secmig never "
                                "replaces it, also not with --force: choose another --out")
    if not written_by_secmig(out):
        raise OutputExistsError(f"{out} is a folder secmig did not write (it has no "
                                "manifest.json from secmig); secmig does not replace it, "
                                "also not with --force: choose another --out, or move it "
                                "away yourself")
    if not force:
        raise OutputExistsError(f"{out} exists; use --force to replace it (it is kept as is)")


# --- temporary folders of dead processes ----------------------------------------------------

def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True
    return True


def _owner(name: str, prefix: str) -> int | None:
    """PID in '<prefix><pid>.<random>', or None (not one of ours)."""
    pid = name[len(prefix):].split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


def clean_stale(out: Path) -> list[Path]:
    """Remove ``.NAME.partial.*`` and ``.NAME.old.*`` beside ``out`` left by processes that no
    longer run. An old copy whose replacement never arrived (killed between the two moves)
    is put back in place instead. Returns what was removed or restored."""
    out = Path(out)
    parent, name = out.parent, out.name
    done: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return done
    for kind in ("old", "partial"):
        prefix = f".{name}.{kind}."
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            pid = _owner(entry.name, prefix)
            if pid is None or _pid_alive(pid):
                continue
            if kind == "old" and not os.path.lexists(out) and entry.is_dir():
                try:
                    _rename_noreplace(entry, out)
                    done.append(entry)
                    continue
                except OSError:
                    pass
            shutil.rmtree(entry, ignore_errors=True)
            done.append(entry)
    return done


# --- the lock -------------------------------------------------------------------------------

_held: dict[str, _Reservation] = {}


def _key(out: Path) -> str:
    return str(Path(os.path.abspath(out)))


def lock_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.lock"


def _acquire(out: Path) -> int:
    """Take ``.NAME.lock`` beside ``out`` (non-blocking); return its descriptor."""
    import fcntl

    path = lock_path(out)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise _cannot_write(out.parent, err) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                owner = os.pread(fd, 32, 0).decode(errors="replace").strip()
            except OSError:
                owner = ""
            os.close(fd)
            raise OutputBusyError(
                f"another secmig process{' (' + owner + ')' if owner else ''} is writing "
                f"{out} right now; wait until it has finished, or choose another --out"
            ) from None
        # the holder before us may have removed the lock file after we opened it: only the
        # file that is still at the path counts
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
            return fd
        os.close(fd)


def _release(out: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(lock_path(out))
    os.close(fd)


def _cannot_write(where: Path, err: OSError) -> OutputError:
    reason = err.strerror or str(err)
    return OutputError(f"cannot write the output folder in {where} ({reason}); choose "
                       "another --out or make it writable")


class _Reservation:
    def __init__(self, out: Path, force: bool) -> None:
        self.out = out
        self.force = force
        self.tmp: Path | None = None


def _make_parent(out: Path) -> None:
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"cannot write {out}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write {out}: a part of {parent} is a file, not a "
                          "folder") from None
    except NotADirectoryError:
        raise OutputError(f"cannot write {out}: a part of {parent} is a file, not a "
                          "folder") from None
    except OSError as err:
        raise _cannot_write(parent, err) from None


def _new_partial(out: Path) -> Path:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial.{os.getpid()}.",
                                    dir=out.parent))
        tmp.chmod(0o755)
        probe = tmp / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise _cannot_write(out.parent, err) from None
    return tmp


@contextmanager
def reserve_output(out: Path, force: bool = False, *, partial: bool = True,
                   check: Callable[[Path, bool], None] | None = None
                   ) -> Iterator[Path | None]:
    """Hold ``out`` for a whole command, before any work: check that it may be written
    (``check_target``), take its lock, remove stale temporary folders and (with ``partial``)
    create the temporary folder up front, so a read-only place is found before a long
    simulation. ``atomic_directory(out)`` inside the block uses this lock and folder. Yields
    the temporary folder (or None). ``check(out, force)`` replaces check_target for commands
    that write into a folder in place (calibration, sweeps)."""
    out = Path(out)
    key = _key(out)
    if key in _held:
        yield _held[key].tmp
        return
    check = check or check_target
    check(out, force)
    _make_parent(out)
    fd = _acquire(out)
    res = _Reservation(out, force)
    _held[key] = res
    try:
        clean_stale(out)
        check(out, force)  # again, now that we hold the lock
        if partial:
            res.tmp = _new_partial(out)
        yield res.tmp
    finally:
        _held.pop(key, None)
        if res.tmp is not None:
            shutil.rmtree(res.tmp, ignore_errors=True)
        _release(out, fd)


# --- the final move -------------------------------------------------------------------------

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _renameat2() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``, failing with FileExistsError if anything is at ``dst`` (also
    an empty folder, which a plain rename would silently replace)."""
    fn = _renameat2()
    if fn is not None:
        import ctypes

        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst),
              _RENAME_NOREPLACE) == 0:  # type: ignore[operator]
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(dst))
    # fallback: the lock keeps other secmig processes out between the check and the move
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)


def _place(tmp: Path, out: Path, force: bool) -> None:
    """Put the finished ``tmp`` at ``out``: replace only what check_target allows."""
    check_target(out, force)
    old: Path | None = None
    if _is_empty_dir(out):
        with contextlib.suppress(OSError):
            out.rmdir()
    elif os.path.lexists(out):
        old = out.parent / f".{out.name}.old.{os.getpid()}.{os.urandom(4).hex()}"
        _rename_noreplace(out, old)
    try:
        _rename_noreplace(tmp, out)
    except FileExistsError:
        if old is not None:
            with contextlib.suppress(OSError):
                _rename_noreplace(old, out)
        raise OutputExistsError(f"{out} appeared while this run was writing; nothing was "
                                "replaced (choose another --out)") from None
    except BaseException:
        if old is not None:
            with contextlib.suppress(OSError):
                _rename_noreplace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_directory(out: Path, force: bool = True) -> Iterator[Path]:
    """Yield a temporary directory beside ``out`` that becomes ``out`` only if the block
    completes; on any error or interrupt it is removed and an existing ``out`` is untouched.
    ``force`` replaces an existing ``out`` only if secmig wrote it (see check_target)."""
    out = Path(out)
    with reserve_output(out, force, partial=False) as reserved:
        tmp = reserved if reserved is not None and reserved.is_dir() else _new_partial(out)
        try:
            yield tmp
            _place(tmp, out, force)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
