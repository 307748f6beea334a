"""Output folders that appear whole or not at all: written into a temporary directory beside
the target, which replaces it only when the writing completed (no half-written output after
an error, Ctrl-C or SIGTERM). Kept free of heavy imports: the CLI needs it to start fast."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The output directory exists and overwriting was not asked for."""


@contextmanager
def atomic_directory(out: Path, force: bool = True) -> Iterator[Path]:
    """Yield a temporary directory beside ``out`` that becomes ``out`` only if the block
    completes; on any error or interrupt it is removed and an existing ``out`` is untouched."""
    out = Path(out)
    if out.exists() and not force:
        raise OutputExistsError(f"{out} exists; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial.", dir=out.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / out.name)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
