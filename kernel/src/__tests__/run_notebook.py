"""Builds a notebook from a JSON list of cell sources, executes it headless with nbclient on the
stratum-ts kernel (working directory: the notebook's), and saves it with its outputs.

usage: python run_notebook.py CELLS.json OUT.ipynb
"""
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> None:
    cells_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "stratum-ts", "display_name": "Stratum (TypeScript)", "language": "typescript"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in json.loads(cells_path.read_text())]
    client = NotebookClient(
        nb,
        kernel_name="stratum-ts",
        timeout=240,
        allow_errors=True,
        resources={"metadata": {"path": str(out_path.parent)}},
    )
    client.execute()
    nbformat.write(nb, str(out_path))


if __name__ == "__main__":
    main()
