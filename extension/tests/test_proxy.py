"""The jupyter-server-proxy configuration of the `stratum` route (stratum_jupyterlab.proxy)."""

import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from jupyter_server_proxy.config import ServerProcess

from stratum_jupyterlab import proxy


class ProxyConfigTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="stratum-proxy-test-")
        self.cli = Path(self.home) / "main.js"
        self.cli.write_text("// stand-in for the CLI\n")
        self.env = {"STRATUM_HOME": self.home, "STRATUM_CLI": str(self.cli), "STRATUM_NODE": "/usr/bin/node"}

    def test_launches_the_control_plane_on_demand(self):
        with mock.patch.dict(os.environ, self.env, clear=False):
            os.environ.pop("STRATUM_SERVER", None)
            config = proxy.setup_stratum()
        self.assertEqual(
            config["command"], ["/usr/bin/node", str(self.cli), "serve", "--port", "{port}", "--workers", "2"]
        )
        self.assertFalse(config["absolute_url"])
        self.assertGreaterEqual(config["timeout"], 60)
        # jupyter-server-proxy accepts it as is.
        process = ServerProcess(name="stratum", **config)
        self.assertEqual(process.get_proxy_base_class()[0].__name__, "SuperviseAndProxyHandler")

    def test_attaches_to_a_running_control_plane(self):
        with mock.patch.dict(os.environ, {**self.env, "STRATUM_SERVER": "http://127.0.0.1:7070"}):
            config = proxy.setup_stratum()
        self.assertEqual(config["command"], [])
        self.assertEqual(config["port"], 7070)
        process = ServerProcess(name="stratum", **config)
        self.assertEqual(process.get_proxy_base_class()[0].__name__, "NamedLocalProxyHandler")

    def test_refuses_a_remote_server(self):
        with mock.patch.dict(os.environ, {**self.env, "STRATUM_SERVER": "http://stratum.example:7070"}):
            with self.assertRaises(ValueError):
                proxy.setup_stratum()

    def test_adds_the_token_read_at_request_time(self):
        with mock.patch.dict(os.environ, self.env):
            os.environ.pop("STRATUM_TOKEN", None)
            self.assertEqual(proxy.auth_headers(), {})
            (Path(self.home) / "api-token").write_text("s3cret\n")
            self.assertEqual(proxy.auth_headers(), {"Authorization": "Bearer s3cret"})
            os.environ["STRATUM_TOKEN"] = "from-env"
            self.assertEqual(proxy.auth_headers(), {"Authorization": "Bearer from-env"})

    def test_says_where_the_cli_is_missing(self):
        with mock.patch.dict(os.environ, {**self.env, "STRATUM_CLI": "/nowhere/main.js"}):
            os.environ.pop("STRATUM_SERVER", None)
            with self.assertRaisesRegex(RuntimeError, "STRATUM_CLI"):
                proxy.setup_stratum()

    def test_installed_package_records_the_repository_cli(self):
        recorded = proxy.recorded_paths()
        self.assertTrue(recorded.get("cli", "").endswith("server/dist/cli/main.js"), recorded)


if __name__ == "__main__":
    unittest.main()
