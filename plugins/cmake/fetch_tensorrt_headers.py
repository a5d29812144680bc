"""Provide the TensorRT 10.14 API headers for the plugin build without a TensorRT install.

The headers come from the PyPI wheel kernel-lens==2.0.1, pinned by sha256. Only
``kernel_lens/include/tensorrt/*.h`` is extracted (nothing else of that package is used or
executed), and ``NvInferVersion.h`` must say 10.14. Run by CMake at configure time; also usable alone::

    python plugins/cmake/fetch_tensorrt_headers.py --dest build/plugins/_deps/tensorrt_include

Set ``AN_TRT_HEADERS_WHEEL`` to a local copy of the wheel to build offline (it is verified the same way).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "kernel-lens==2.0.1"
WHEEL = "kernel_lens-2.0.1-py3-none-any.whl"
SHA256 = "07cc714e8b5e7f34b672f7c7fad93febe7c747be5837ba276b1527370134ffe0"
PREFIX = "kernel_lens/include/tensorrt/"
EXPECTED_VERSION = (10, 14)
REQUIRED = ("NvInferRuntime.h", "NvInferRuntimePlugin.h", "NvInferPluginBase.h", "NvInferVersion.h")
STAMP = ".an_deploy_headers_sha256"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(tmp: Path) -> Path:
    local = os.environ.get("AN_TRT_HEADERS_WHEEL")
    if local:
        return Path(local)
    cmd = [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--only-binary=:all:", "-d", str(tmp)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pip download {PACKAGE} failed:\n{result.stdout}\n{result.stderr}")
    return tmp / WHEEL


def header_version(text: str) -> tuple[int, int]:
    found = {}
    for key in ("MAJOR", "MINOR"):
        match = re.search(rf"#define\s+TRT_{key}_ENTERPRISE\s+(\d+)", text) or re.search(
            rf"#define\s+NV_TENSORRT_{key}\s+(\d+)", text
        )
        if not match:
            raise SystemExit(f"NvInferVersion.h has no TensorRT {key} version")
        found[key] = int(match.group(1))
    return found["MAJOR"], found["MINOR"]


def extract(wheel: Path, dest: Path) -> list[str]:
    names: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            rest = info.filename[len(PREFIX) :] if info.filename.startswith(PREFIX) else None
            if rest is None or not re.fullmatch(r"[A-Za-z0-9_]+\.h", rest):
                continue
            (dest / rest).write_bytes(archive.read(info))
            names.append(rest)
    return sorted(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, type=Path, help="folder that receives the *.h files")
    args = parser.parse_args()
    dest: Path = args.dest
    stamp = dest / STAMP
    if stamp.is_file() and stamp.read_text().strip() == SHA256 and all((dest / h).is_file() for h in REQUIRED):
        return 0
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download(Path(tmp))
        actual = sha256_of(wheel)
        if actual != SHA256:
            raise SystemExit(f"{wheel.name}: sha256 {actual} != pinned {SHA256}; refusing to use it")
        names = extract(wheel, dest)
    missing = [h for h in REQUIRED if h not in names]
    if missing:
        raise SystemExit(f"{WHEEL} lacks {', '.join(missing)}")
    version = header_version((dest / "NvInferVersion.h").read_text())
    if version != EXPECTED_VERSION:
        raise SystemExit(f"headers are TensorRT {version[0]}.{version[1]}, expected 10.14")
    stamp.write_text(SHA256 + "\n")
    print(f"TensorRT {version[0]}.{version[1]} headers ({len(names)} files) in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
