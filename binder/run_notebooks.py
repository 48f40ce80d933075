"""Executes the demo notebooks headless, as a person would run them top to bottom on Binder.

    python binder/run_notebooks.py OUT_DIR [NOTEBOOK ...] [--measure PID ...] [--report FILE]
    binder/start python binder/run_notebooks.py OUT_DIR     # with a control plane of its own

Each notebook (default: every binder/notebooks/*.ipynb, in name order) runs with nbclient on
the kernel its metadata names (the "Stratum (TypeScript)" kernelspec of this Python
environment), in its own folder, so relative paths resolve as in JupyterLab; the executed copy
is written to OUT_DIR. While they run, the resident memory of the whole stack is sampled from
/proc every 200 ms: the process trees under each --measure PID (binder/start's: JupyterLab and
the control plane with its workers, replicas and gateway) plus this runner's descendants (the
kernels and whatever they start); the runner itself stands in for the Jupyter server that
manages kernels on Binder, which is already counted, so it is left out.

Run through binder/start without STRATUM_SERVER, the control plane that start launches becomes
this runner's child: it is measured with the rest and stopped at the end.

Workers that a notebook starts (the traffic scenario's edge and fog boxes) outlive its kernel,
as they would on Binder: this runner is their subreaper, so they stay in the measured tree, and
it stops whatever is left of them when every notebook has run.

The report (stdout, and --report FILE as JSON) lists per notebook its error outputs and the
MIME types of its outputs, and the peak of the summed RSS with the processes at the peak. Exits
1 when a notebook has an error output or cannot be executed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, resident bytes, command line) for every process we may read."""
    out: dict[int, tuple[int, int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open(f"/proc/{pid}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or a kernel thread
        # The command name in parentheses may hold spaces: the fields after its ")" are fixed.
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        out[pid] = (ppid, resident, cmd)
    return out


def tree(table: dict[int, tuple[int, int, str]], roots: list[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seen: set[int] = set()
    pending = [r for r in roots if r in table]
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        pending.extend(children.get(pid, []))
    return seen


def label(cmd: str) -> str:
    """A short name for a process of the stack."""
    for needle, name in (
        ("cli/main.js serve", "control plane"),
        ("cli/main.js worker", "worker"),
        ("gateway-main.js", "gateway"),
        ("warm-replica-main.js", "warm replica"),
        ("replica-main.js", "replica"),
        ("executor-main.js", "trial executor"),
        ("profile-main.js", "profiler"),
        ("kernel/dist/main.js", "kernel"),
        ("jupyter-lab", "jupyterlab"),
        ("jupyter lab", "jupyterlab"),
        ("run_notebooks.py", "notebook runner"),
    ):
        if needle in cmd:
            return name
    return cmd.split(" ")[0].rsplit("/", 1)[-1] or "?"


class Sampler(threading.Thread):
    def __init__(self, roots: list[int], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.interval = interval
        self.peak = 0
        self.peak_processes: list[dict] = []
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        table = processes()
        # This runner only stands in for the Jupyter server (already counted) that would manage
        # the kernels on Binder: its children count, it does not.
        pids = tree(table, [*self.roots, os.getpid()]) - {os.getpid()}
        total = sum(table[p][1] for p in pids)
        self.samples += 1
        if total > self.peak:
            self.peak = total
            self.peak_processes = sorted(
                ({"pid": p, "rss_mb": round(table[p][1] / 2**20, 1), "what": label(table[p][2])} for p in pids),
                key=lambda r: -r["rss_mb"],
            )

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()


def become_subreaper() -> None:
    """Orphans of the kernels (processes they started) are re-parented here instead of to init."""
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_leftovers(grace: float = 15.0) -> list[str]:
    """SIGTERM to what the notebooks left running under this runner, SIGKILL after `grace` s."""
    stopped: list[str] = []
    deadline = time.monotonic() + grace
    signalled: set[int] = set()
    while True:
        reap()
        table = processes()
        left = tree(table, [os.getpid()]) - {os.getpid()}
        if not left:
            return stopped
        late = time.monotonic() > deadline
        for pid in left:
            if pid in signalled and not late:
                continue
            if pid not in signalled:
                stopped.append(f"{label(table[pid][2])} ({pid})")
            signalled.add(pid)
            try:
                os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def mime_types(nb) -> list[str]:
    found: set[str] = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                found.add(f"stream/{out.get('name')}")
            found.update(out.get("data", {}).keys())
    return sorted(found)


def errors(nb) -> list[dict]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append({"cell": i, "ename": out.get("ename"), "evalue": out.get("evalue")})
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append({"cell": i, "ename": "stderr", "evalue": "".join(out.get("text", ""))[:500]})
    return found


def execute(path: Path, out_dir: Path, timeout: int) -> dict:
    nb = nbformat.read(str(path), as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "stratum-ts")
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.monotonic()
    failure = None
    try:
        client.execute()
    except Exception as e:  # a cell over its timeout, a kernel that died: the notebook failed
        failure = f"{type(e).__name__}: {e}"
    seconds = round(time.monotonic() - t0, 1)
    out = out_dir / path.name
    nbformat.write(nb, str(out))
    errs = errors(nb)
    if failure:
        errs.append({"cell": None, "ename": "ExecutionFailed", "evalue": failure[:1000]})
    return {"notebook": path.name, "executed": str(out), "seconds": seconds, "errors": errs, "mime_types": mime_types(nb)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--measure", type=int, action="append", default=[], metavar="PID")
    parser.add_argument("--report", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds one cell may take")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((HERE / "notebooks").glob("*.ipynb"))
    args.out_dir.mkdir(parents=True, exist_ok=True)

    become_subreaper()
    sampler = Sampler(args.measure)
    sampler.start()
    results = []
    for path in notebooks:
        result = execute(path.resolve(), args.out_dir, args.timeout)
        state = "ok" if not result["errors"] else f"{len(result['errors'])} error output(s)"
        print(f"run_notebooks: {result['notebook']}: {state} in {result['seconds']} s", flush=True)
        for e in result["errors"]:
            print(f"  cell {e['cell']}: {e['ename']}: {e['evalue']}", flush=True)
        results.append(result)
    sampler.stop()
    leftovers = stop_leftovers()
    if leftovers:
        print(f"run_notebooks: stopped what the notebooks left running: {', '.join(leftovers)}", flush=True)

    report = {
        "notebooks": results,
        "peak_rss_mb": round(sampler.peak / 2**20, 1),
        "peak_processes": sampler.peak_processes,
        "samples": sampler.samples,
    }
    print(f"run_notebooks: peak memory of the stack {report['peak_rss_mb']} MiB (sum of RSS)", flush=True)
    for p in sampler.peak_processes:
        print(f"  {p['rss_mb']:8.1f} MiB  {p['what']} ({p['pid']})", flush=True)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(not r["errors"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
