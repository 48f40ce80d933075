"""The Stratum (TypeScript) kernel under jupyter_kernel_test, plus interrupt and shutdown.

Run by kernel.test.ts with JUPYTER_PATH pointing at a kernelspec it installed; the kernel's
working directory is an empty temporary directory, so `@stratum/kernel` must resolve from
anywhere.
"""
import os
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import jupyter_kernel_test
from jupyter_client.manager import KernelManager, start_new_kernel

PENGUINS = Path(__file__).resolve().parents[3] / "node_modules" / "vega-datasets" / "data" / "penguins.json"
PIPELINE = f"""%%stratum pipeline penguins
apiVersion: stratum/v1
kind: Pipeline
metadata: {{ name: penguins }}
data: {{ source: {PENGUINS} }}
target: Species
features: [Beak Length (mm), Flipper Length (mm)]
transforms:
  - dropMissing: {{}}
task: classification
models:
  - name: tree
    trainer: decision-tree
    params: {{ maxDepth: [2, 4] }}
selection: {{ metric: accuracy }}
"""


class StratumKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "stratum-ts"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'
    code_generate_error = 'throw new Error("boom")'
    completion_samples = [
        {"text": "%stratum de", "matches": {"deploy", "deployments"}},
        {"text": "%stratum train x --w", "matches": {"--watch"}},
        {"text": "const stratumAnswer = 42;\nstratumAns", "matches": {"stratumAnswer"}},
    ]
    complete_code_samples = ["1 + 1", "%stratum status", "%%stratum pipeline p\nkind: Pipeline"]
    incomplete_code_samples = ["function f() {", "%%stratum pipeline p"]
    code_inspect_sample = "%stratum deploy"
    code_display_data = [
        {"code": 'import { display } from "tslab";\ndisplay.html("<b>hi</b>")', "mime": "text/html"},
        {"code": PIPELINE, "mime": "text/html"},
    ]

    # This kernel prints a cell's last value on stdout as tslab does, and has no history, pager
    # or clear_output: the base class's tests of those features do not apply to it.
    test_execute_result = None
    test_history = None
    test_pager = None
    test_clear_output = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.cwd = tempfile.mkdtemp(prefix="stratum-kernel-")
        env = dict(os.environ, STRATUM_SERVER="http://127.0.0.1:9")
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, cwd=cls.cwd, env=env)

    def test_notebook_api_resolves_from_any_directory(self) -> None:
        self.flush_channels()
        reply, outputs = self.execute_helper(
            'import { stratum, type Run } from "@stratum/kernel";\n'
            "const count: number = stratum.pipelines.names().length;\n"
            'console.log(typeof stratum.train, count >= 0, process.cwd() === "' + self.cwd + '")'
        )
        self.assertEqual(reply["content"]["status"], "ok", outputs)
        self.assertIn("function true true", "".join(m["content"].get("text", "") for m in outputs))

    def test_magic_errors_are_one_error_without_a_stack(self) -> None:
        for code, ename, evalue in [
            ("%stratum train", "UsageError", "train needs NAME|SPEC"),
            ("%stratum runs", "ConnectionError", "cannot reach the Stratum control plane at http://127.0.0.1:9"),
            ("%stratum profile penguins --tiers", "UsageError", "--tiers needs a value"),
        ]:
            with self.subTest(code=code):
                self.flush_channels()
                reply, outputs = self.execute_helper(code)
                self.assertEqual(reply["content"]["status"], "error")
                self.assertEqual(reply["content"]["ename"], ename)
                self.assertEqual([m["msg_type"] for m in outputs], ["error"])
                self.assertTrue(outputs[0]["content"]["evalue"].startswith(evalue), outputs[0]["content"])
                self.assertFalse(any("    at " in line for line in outputs[0]["content"]["traceback"]))

    def test_bad_pipeline_names_the_cell_line(self) -> None:
        self.flush_channels()
        bad = PIPELINE.replace("trainer: decision-tree", "trainer: decision-tre")
        reply, outputs = self.execute_helper(bad)
        self.assertEqual(reply["content"]["ename"], "SpecError")
        # `trainer:` is on the cell's line 13.
        self.assertRegex(outputs[0]["content"]["evalue"], r"^pipeline penguins, cell line 13, column 14: models\[0\]\.trainer")

    def test_interrupt_stops_a_waiting_cell_and_the_kernel_stays(self) -> None:
        self.flush_channels()
        msg_id = self.kc.execute('console.log("waiting"); await new Promise(() => {})')
        # Interrupt once the cell is waiting (it printed, then awaits), so the interrupt is what
        # ends it. The print comes from inside tslab's vm script, run with breakOnSigint; a
        # SIGINT in the instant before that script returns can be lost in Node, so wait a
        # moment, as a person pressing interrupt on a waiting cell does.
        while True:
            msg = self.kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                break
        time.sleep(0.3)
        self.km.interrupt_kernel()
        reply = self.get_non_kernel_info_reply(timeout=30)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        self.flush_channels()
        reply, outputs = self.execute_helper('console.log("still here")')
        self.assertEqual(reply["content"]["status"], "ok")


class ShutdownTests(unittest.TestCase):
    def test_shutdown_request_ends_the_process(self) -> None:
        km = KernelManager(kernel_name="stratum-ts")
        km.start_kernel(cwd=tempfile.mkdtemp(prefix="stratum-kernel-"))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        process: subprocess.Popen = km.provisioner.process  # type: ignore[union-attr]
        msg_id = kc.shutdown()  # on the control channel
        reply = kc.control_channel.get_msg(timeout=15)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["msg_type"], "shutdown_reply")
        self.assertEqual(process.wait(timeout=15), 0)
        kc.stop_channels()
        km.cleanup_resources()


if __name__ == "__main__":
    unittest.main()
