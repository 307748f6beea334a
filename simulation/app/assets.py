"""Fetch the browser app's front-end files for machines without internet.

A Solara page loads its JavaScript and CSS through Solara's CDN proxy
(``/_solara/cdn/<package>@<version>/...``), which caches them in
``<sys.prefix>/share/solara/cdn/``. With internet Solara fills that cache itself; offline
(CI, a locked-down school network) the page stays blank. The files are plain npm packages, so
``npm pack`` fetches them from the npm registry and we unpack each into the cache.

Run ``python -m simulation.app.assets``; it skips packages already present, so it is a no-op
the second time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# what Solara 1.54's page asks the CDN proxy for (the app uses no Altair/Vega charts)
PACKAGES: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.0.3",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
)


def cache_dir() -> Path:
    """Solara's CDN cache of this environment (where its proxy looks first)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing(root: Path | None = None) -> list[str]:
    """Packages not yet in the cache (a folder with a package.json counts as present)."""
    root = root or cache_dir()
    return [p for p in PACKAGES if not (root / p / "package.json").is_file()]


def _unpack(tarball: Path, target: Path) -> None:
    """Extract an npm tarball without its leading ``package/`` folder."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) < 2 or member.issym() or member.islnk() or ".." in parts:
                continue
            member.name = str(Path(*parts[1:]))
            tar.extract(member, target, filter="data")


def fetch(root: Path | None = None, npm: str = "npm") -> list[str]:
    """Download and unpack every missing package; returns the ones fetched."""
    root = root or cache_dir()
    todo = missing(root)
    if not todo:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError("npm is needed to fetch the app's front-end files offline "
                           "(install Node.js/npm, or run the app once with internet)")
    with tempfile.TemporaryDirectory() as tmp:
        for spec in todo:
            out = subprocess.run([exe, "pack", spec, "--silent"], cwd=tmp, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()
            tarball = Path(tmp) / out[-1]
            target = root / spec
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            _unpack(tarball, partial)
            partial.rename(target)  # only complete packages count as present
    return todo


def main(argv: list[str] | None = None) -> int:
    """Command line: fetch what is missing, say what was done."""
    parser = argparse.ArgumentParser(
        prog="python -m simulation.app.assets",
        description="Put the teaching app's front-end files into Solara's CDN cache "
                    f"({cache_dir()}) with npm, for machines without internet.")
    parser.parse_args(argv)
    try:
        fetched = fetch()
    except (RuntimeError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or ""
        print(f"error: {err} {detail}".strip(), file=sys.stderr)
        return 1
    print(f"fetched {', '.join(fetched)} into {cache_dir()}" if fetched
          else f"front-end files already present in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
