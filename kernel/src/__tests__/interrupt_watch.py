"""Interrupting a cell that watches a run stops the watching, not the run, and the kernel stays.

Starts the stratum-ts kernel (STRATUM_SERVER/STRATUM_HOME come from the environment), defines a
pipeline from the YAML file given, trains it with a live view, interrupts once the first frame
is shown, then follows the same run to its end and prints a JSON report on the last line.

usage: python interrupt_watch.py PIPELINE.yaml
"""
import json
import re
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import start_new_kernel


def run_cell(kc, code, on_output=None):
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        if kind in ("stream", "display_data", "update_display_data", "error"):
            outputs.append({"type": kind, **msg["content"]})
            if on_output:
                on_output(outputs[-1])
    reply = kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=120)
    return reply["content"], outputs


def main() -> None:
    yaml = Path(sys.argv[1]).read_text()
    km, kc = start_new_kernel(kernel_name="stratum-ts", cwd=tempfile.mkdtemp(prefix="stratum-nb-"))
    try:
        define, _ = run_cell(kc, "%%stratum pipeline slow\n" + yaml)
        interrupted = []

        def interrupt_on_first_frame(out):
            if out["type"] == "display_data" and not interrupted:
                interrupted.append(True)
                km.interrupt_kernel()

        train, train_outputs = run_cell(kc, "%stratum train slow --as r", interrupt_on_first_frame)
        watched = re.search(r"stopped watching run (\w+)", train.get("evalue", ""))
        run_id = watched.group(1) if watched else "(none)"
        alive, alive_outputs = run_cell(kc, 'console.log("alive", 1 + 1)')
        follow, follow_outputs = run_cell(kc, f"%stratum leaderboard {run_id} --watch")
        frames = [o for o in follow_outputs if "text/html" in o.get("data", {})]
        print(
            json.dumps(
                {
                    "define": define["status"],
                    "train": {k: train.get(k) for k in ("status", "ename", "evalue")},
                    "frames_before_interrupt": len(train_outputs),
                    "alive": alive["status"],
                    "alive_text": "".join(o.get("text", "") for o in alive_outputs),
                    "follow": follow["status"],
                    "final_text": frames[-1]["data"]["text/plain"] if frames else follow.get("evalue"),
                }
            )
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
