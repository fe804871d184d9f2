"""The build backend of a generated package (``guidec build -t package``), copied into the
project as ``_guidec_backend.py``.

A PEP 517 backend in the project itself, standard library only: ``pip install DIR`` and
``pip wheel DIR`` then need nothing from an index (its ``requires`` is empty), so they work
offline. It builds a pure-Python wheel (``py3-none-any``) and an sdist of the one package the
project's ``[tool.guidec]`` names, byte-identical from run to run (fixed timestamps, sorted
entries).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import tomllib
import zipfile
from pathlib import Path

# Zip and tar entries carry this time, so that two builds of one project are identical.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _project() -> tuple[str, str, str, str, str]:
    """The distribution name, version, package, summary and README text."""
    data = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    readme = Path(project.get("readme", "README.md")).read_text(encoding="utf-8")
    return (project["name"], project["version"], data["tool"]["guidec"]["package"],
            project.get("description", ""), readme)


def _metadata(name: str, version: str, summary: str, readme: str) -> str:
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
            "Requires-Python: >=3.11\nClassifier: Typing :: Typed\n"
            f"Description-Content-Type: text/markdown\n\n{readme}")


def _files(package: str) -> list[Path]:
    return sorted(p for p in Path(package).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def _dist(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def get_requires_for_build_wheel(config_settings: object = None) -> list[str]:
    """Nothing: the backend is standard library only."""
    return []


def get_requires_for_build_sdist(config_settings: object = None) -> list[str]:
    """Nothing: the backend is standard library only."""
    return []


def build_wheel(wheel_directory: str, config_settings: object = None,
                metadata_directory: str | None = None) -> str:
    """Write the wheel into ``wheel_directory``; return its file name."""
    name, version, package, summary, readme = _project()
    dist = _dist(name)
    info = f"{dist}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = [(p.as_posix(), p.read_bytes()) for p in _files(package)]
    entries.append((f"{info}/METADATA", _metadata(name, version, summary, readme).encode()))
    entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: guidec\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = []
    for path, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as whl:
        for path, data in entries:
            entry = zipfile.ZipInfo(path, _EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(entry, data)
    return filename


def build_sdist(sdist_directory: str, config_settings: object = None) -> str:
    """Write the source distribution into ``sdist_directory``; return its file name."""
    name, version, package, summary, readme = _project()
    root = f"{_dist(name)}-{version}"
    files = [Path("pyproject.toml"), Path("README.md"), Path("_guidec_backend.py"),
             *_files(package)]
    filename = f"{root}.tar.gz"
    members = [(f"{root}/{p.as_posix()}", p.read_bytes()) for p in files]
    members.append((f"{root}/PKG-INFO", _metadata(name, version, summary, readme).encode()))
    with open(Path(sdist_directory) / filename, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in members:
            entry = tarfile.TarInfo(path)
            entry.size, entry.mtime, entry.mode = len(data), 315532800, 0o644
            tar.addfile(entry, io.BytesIO(data))
    return filename
