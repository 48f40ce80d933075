"""Standard Open Inference Protocol clients against a running Stratum replica.

    .venv/bin/python server/test-fixtures/triton_clients.py URL MODEL EXPECTED_JSON

Uses tritonclient.http (JSON and binary tensors) and tritonclient.grpc exactly as one would
against Triton, and checks the answers against scikit-learn's (expected.json from
make_sklearn_onnx.py). Prints one "ok ..." line per check; exits non-zero on the first failure.
"""

import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def text(values):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def check(result, expected, how):
    labels = text(result.as_numpy("label"))
    probabilities = result.as_numpy("probabilities")
    assert labels == expected["labels"], f"{how}: labels differ from scikit-learn's"
    assert probabilities.dtype == np.float32, f"{how}: probabilities are {probabilities.dtype}"
    worst = float(np.max(np.abs(probabilities - np.array(expected["probabilities"]))))
    assert worst < 1e-5, f"{how}: probabilities differ by {worst}"
    print(f"ok {how}: {len(labels)} rows, max |p - sklearn| = {worst:.2e}")


def refused(call, how):
    try:
        call()
    except InferenceServerException as e:
        print(f"ok {how}: refused with {e.status()}: {e.message()}")
        return
    raise AssertionError(f"{how}: a malformed request was accepted")


def run_http(address, model, x, expected):
    client = httpclient.InferenceServerClient(url=address)
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(model)
    meta = client.get_model_metadata(model)
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}], meta
    print("ok http: live, ready, metadata")
    for binary in (True, False):
        tensor = httpclient.InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x, binary_data=binary)
        outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("label", "probabilities")]
        check(client.infer(model, [tensor], outputs=outputs), expected, f"http binary_data={binary}")
    tensor = httpclient.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)
    check(client.infer(model, [tensor]), expected, "http default outputs")
    zipped = client.infer(model, [tensor], request_compression_algorithm="gzip", response_compression_algorithm="gzip")
    check(zipped, expected, "http gzip request")
    wrong = httpclient.InferInput("input", [1, 3], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
    refused(lambda: client.infer(model, [wrong]), "http wrong shape")


def run_grpc(address, model, x, expected):
    client = grpcclient.InferenceServerClient(url=address)
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(model)
    meta = client.get_model_metadata(model)
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.inputs] == [("input", "FP32", [-1, 4])], meta
    print("ok grpc: live, ready, metadata")
    tensor = grpcclient.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)
    outputs = [grpcclient.InferRequestedOutput(n) for n in ("label", "probabilities")]
    check(client.infer(model, [tensor], outputs=outputs, request_id="r1"), expected, "grpc")
    check(client.infer(model, [tensor]), expected, "grpc default outputs")
    wrong = grpcclient.InferInput("input", [1, 4], "FP64")
    wrong.set_data_from_numpy(np.zeros((1, 4), dtype=np.float64))
    refused(lambda: client.infer(model, [wrong]), "grpc wrong datatype")


def main(url, model, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    x = np.array(expected["inputs"], dtype=np.float32)
    address = url.split("://", 1)[-1]
    run_http(address, model, x, expected)
    run_grpc(address, model, x, expected)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: triton_clients.py URL MODEL EXPECTED_JSON")
    main(*sys.argv[1:])
