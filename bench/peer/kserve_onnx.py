"""The Python peer for bench/serving-matrix: KServe's own model server (kserve.ModelServer,
FastAPI + uvicorn) with a kserve.Model that runs an ONNX file in onnxruntime.

It answers the same Open Inference Protocol REST route as a Stratum replica
(POST /v2/models/NAME/infer), so one load generator drives both. One uvicorn worker, gRPC off,
onnxruntime on the CPU provider with the same intra-op thread count as the Stratum replica it is
compared with; no dynamic batching (KServe's batcher is a separate sidecar outside the model
server). Per-request log lines are off, as they are in the Stratum replicas during the bench.

    python kserve_onnx.py --model PATH --model_name NAME --http_port PORT [--threads 1]

Prints `kserve peer ready on http://127.0.0.1:PORT` once the model is loaded (the port is
listening a moment later: poll /v2/health/ready).
"""

import argparse
import logging
import sys

import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer, model_server
from kserve.utils.numpy_codec import from_np_dtype
from kserve.utils.utils import generate_uuid


class OnnxModel(Model):
    def __init__(self, name: str, path: str, threads: int):
        super().__init__(name)
        self.path = path
        self.threads = threads
        self.session = None

    def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        names = [o.name for o in self.session.get_outputs()]
        outputs = []
        for name, value in zip(names, self.session.run(names, feeds)):
            value = np.asarray(value)
            out = InferOutput(name=name, shape=list(value.shape), datatype=from_np_dtype(value.dtype))
            out.set_data_from_numpy(value, binary_data=False)
            outputs.append(out)
        return InferResponse(model_name=self.name, infer_outputs=outputs, response_id=payload.id or generate_uuid())


def main() -> None:
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=1)
    # --model_name and --http_port are KServe's own flags (model_server.parser).
    args, _ = parser.parse_known_args()
    model = OnnxModel(args.model_name, args.model, args.threads)
    model.load()
    server = ModelServer(
        http_port=args.http_port,
        workers=1,
        enable_grpc=False,
        enable_latency_logging=False,
    )
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("kserve", "kserve.trace", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    print(f"kserve peer ready on http://127.0.0.1:{args.http_port}", flush=True)
    sys.stdout.flush()
    server.start([model])


if __name__ == "__main__":
    main()
