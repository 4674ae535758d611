"""Offline wheels for installer tests: repack distributions installed in this venv into real wheel files.

The build machine reaches no package index during tests, so the installer's offline path (``--make-bundle``
with ``PIP_NO_INDEX``/``PIP_FIND_LINKS``, then ``--bundle``) is fed wheels rebuilt from the installed files
(the dist-info's own RECORD and WHEEL metadata, a fresh RECORD with sha256 entries) plus a hashed lock for them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from importlib.metadata import distribution
from pathlib import Path

_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def rewheel(name: str, out_dir: Path, *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A wheel of the installed distribution ``name`` in ``out_dir`` (``ZIP_STORED``: faster, larger)."""
    dist = distribution(name)
    meta_name = dist.metadata["Name"]
    version = dist.version
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    tag = next((t for t in tags if t.startswith(("py3", "cp3"))), tags[0])  # py2.py3 wheels list py2 first
    stem = re.sub(r"[-_.]+", "_", meta_name).lower()
    dist_info = f"{stem}-{version}.dist-info"
    wheel = out_dir / f"{stem}-{version}-{tag}.whl"
    records = []
    with zipfile.ZipFile(wheel, "w", compression) as archive:
        for file in dist.files or []:
            parts = Path(str(file)).parts
            if ".." in parts or "__pycache__" in parts or str(file).endswith(".pyc"):
                continue  # console scripts outside site-packages, and bytecode: pip makes both again
            if parts[0].endswith(".dist-info"):
                if parts[-1] in _INSTALLER_FILES:
                    continue
                arcname = "/".join((dist_info, *parts[1:]))
            else:
                arcname = "/".join(parts)
            data = Path(str(dist.locate_file(file))).read_bytes()
            archive.writestr(arcname, data)
            records.append(f"{arcname},{_record_hash(data)},{len(data)}")
        records.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n")
    return wheel


def hashed_lock(wheels: list[Path], lock: Path) -> None:
    """A ``--require-hashes`` requirements file pinning exactly these wheels."""
    lines = []
    for wheel in sorted(wheels):
        stem, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{stem.replace('_', '-')}=={version} \\\n    --hash=sha256:{digest}")
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
