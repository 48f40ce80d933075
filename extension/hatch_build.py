"""Adds the built files to the wheel: the labextension, the kernelspec, the recorded paths.

The labextension is built by `npm run setup` (or `npm run build -w stratum-jupyterlab`) into
dist/labextension before pip builds this package. The paths file records where this checkout's
control plane CLI and the node that built it live, so the proxy entry point can start it.
"""

import json
import os
import shutil
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

NAME = "stratum-jupyterlab"


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        dist = root / "dist"
        labextension = dist / "labextension"
        if not (labextension / "package.json").is_file():
            raise RuntimeError(
                f"{labextension} is not built: run `npm run setup` (or `npm run build -w {NAME}`) first"
            )
        shared = build_data.setdefault("shared_data", {})
        shared[str(labextension)] = f"share/jupyter/labextensions/{NAME}"
        shared[str(root / "install.json")] = f"share/jupyter/labextensions/{NAME}/install.json"

        kernelspec = dist / "kernelspec" / "share" / "jupyter" / "kernels" / "stratum-ts"
        if (kernelspec / "kernel.json").is_file():
            shared[str(kernelspec)] = "share/jupyter/kernels/stratum-ts"

        repo = root.parent
        paths = {
            "cli": str(repo / "server" / "dist" / "cli" / "main.js"),
            "node": os.environ.get("STRATUM_NODE") or shutil.which("node") or "node",
            "repo": str(repo),
        }
        dist.mkdir(exist_ok=True)
        recorded = dist / "_paths.json"
        recorded.write_text(json.dumps(paths, indent=2) + "\n")
        build_data.setdefault("force_include", {})[str(recorded)] = "stratum_jupyterlab/_paths.json"
