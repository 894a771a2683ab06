"""`helpdesk bench package`: each function's unzipped size with its layers, against Lambda's limit.

Reads a `sam build` output folder (building it first with --build when asked). Lambda's limit
is 250 MB unzipped for a function and all its layers together.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from helpdesk_tools.template import load_template, resources_of

ROOT = Path(__file__).resolve().parents[3]
LIMIT_MB = 250.0
MB = 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "package", help="unzipped size of each function with its layers (needs a sam build)"
    )
    parser.add_argument("--build-dir", default=str(ROOT / ".aws-sam" / "build"))
    parser.add_argument("--build", action="store_true", help="run `sam build` first")
    parser.set_defaults(handler=run)


def folder_size(path: Path) -> int:
    """Bytes of every file below `path`, links not followed."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def sam_build(build_dir: Path) -> None:
    """Run `sam build` with the project's own SAM CLI and a matching interpreter on PATH."""
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.exists():
        raise SystemExit("sam is not installed: run ./infra/bootstrap.sh --sam")
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    python312 = find_python312()
    if python312:
        env["PATH"] = f"{Path(python312).parent}{os.pathsep}{env['PATH']}"
    subprocess.run(
        [str(sam), "build", "--build-dir", str(build_dir)], cwd=ROOT, env=env, check=True
    )


def find_python312() -> str | None:
    """A python3.12 that runs (a pyenv shim may exist without a selected 3.12)."""
    candidates = [shutil.which("python3.12")]
    candidates += [
        str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.12*/bin/python3.12"))
    ]
    for candidate in candidates:
        if (
            candidate
            and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0
        ):
            return candidate
    return None


def sizes(build_dir: Path) -> list[tuple[str, float, float, float]]:
    """(function, own MB, layers MB, total MB) for every function in the template."""
    template = load_template()
    layer_sizes = {
        name: folder_size(build_dir / name) / MB
        for name in resources_of(template, "AWS::Serverless::LayerVersion")
        if (build_dir / name).exists()
    }
    global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    rows = []
    for name, resource in resources_of(template, "AWS::Serverless::Function").items():
        own = folder_size(build_dir / name) / MB if (build_dir / name).exists() else 0.0
        layers = global_layers + resource["Properties"].get("Layers", [])
        layer_mb = sum(layer_sizes.get(layer["Ref"], 0.0) for layer in layers)
        rows.append((name, own, layer_mb, own + layer_mb))
    return rows


def run(args: argparse.Namespace) -> int:
    build_dir = Path(args.build_dir)
    if args.build:
        sam_build(build_dir)
    if not build_dir.exists():
        print(f"no build at {build_dir}: run with --build")
        return 1
    print(f"unzipped sizes from {build_dir} (Lambda limit {LIMIT_MB:.0f} MB with layers)")
    print(f"{'function':20} {'code MB':>8} {'layers MB':>10} {'total MB':>9} {'of limit':>9}")
    for name, own, layer_mb, total in sizes(build_dir):
        print(f"{name:20} {own:8.1f} {layer_mb:10.1f} {total:9.1f} {total / LIMIT_MB:8.0%}")
    return 0
