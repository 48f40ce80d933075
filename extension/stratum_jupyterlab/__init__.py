"""Stratum for JupyterLab: the prebuilt labextension and the control plane proxy.

The labextension ships as shared data (share/jupyter/labextensions/stratum-jupyterlab); the
`stratum` entry point of jupyter-server-proxy is in :mod:`stratum_jupyterlab.proxy`.
"""

__version__ = "0.1.0"
