#!/usr/bin/env python3
"""A Stratum external trainer: scikit-learn, exported to ONNX with skl2onnx.

The contract (docs/external-trainer.md): Stratum runs `COMMAND job.json`; job.json holds the
params, seed, task, feature names, classes, the train (and held-out test) data and the output
dir. This script prints one JSON metric line per epoch on stdout and writes model.onnx and
metrics.json into the output dir.

Allow it on a worker (or `stratum serve`) under a name the spec uses as params.command:

    stratum serve --allow-trainer "sklearn=.venv/bin/python examples/external/sklearn_train.py"

Params: model (logistic | forest for classification, ridge | forest for regression), C
(logistic), alpha (ridge), nEstimators, maxDepth (forest; trees are added over 4 epochs, and a
STOP file from Stratum's early stopping ends training after the current epoch).
"""
import csv
import json
import os
import sys
import time

import numpy as np
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge

EPOCHS = 4


def load(part):
    """(x, y) from the data file Stratum wrote: CSV with a header, or JSON {columns, x, y}."""
    if part["format"] == "json":
        with open(part["path"]) as f:
            data = json.load(f)
        return np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"], dtype=np.float64)
    with open(part["path"], newline="") as f:
        rows = list(csv.reader(f))[1:]
    table = np.asarray(rows, dtype=np.float64)
    return table[:, :-1].astype(np.float32), table[:, -1]


def build(job):
    p, seed = job["params"], job["seed"]
    kind = p.get("model", "logistic" if job["task"] == "classification" else "ridge")
    if job["task"] == "classification":
        if kind == "logistic":
            return LogisticRegression(C=float(p.get("C", 1.0)), max_iter=2000, random_state=seed), False
        if kind == "forest":
            return RandomForestClassifier(max_depth=p.get("maxDepth"), random_state=seed, warm_start=True), True
    else:
        if kind == "ridge":
            return Ridge(alpha=float(p.get("alpha", 1.0))), False
        if kind == "forest":
            return RandomForestRegressor(max_depth=p.get("maxDepth"), random_state=seed, warm_start=True), True
    raise SystemExit(f"sklearn_train: unknown model {kind!r} for {job['task']}")


def score(model, task, x, y):
    if task == "classification":
        return {"accuracy": float(np.mean(model.predict(x) == y))}
    return {"rmse": float(np.sqrt(np.mean((model.predict(x) - y) ** 2)))}


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    started = time.time()
    x, y = load(job["train"])
    test = load(job["test"]) if job.get("test") else None
    classify = job["task"] == "classification"
    if classify:
        y = y.astype(np.int64)
        if test:
            test = (test[0], test[1].astype(np.int64))
    model, grows = build(job)
    total = int(job["params"].get("nEstimators", 40))
    epochs = EPOCHS if grows else 1
    for epoch in range(1, epochs + 1):
        if grows:
            model.set_params(n_estimators=max(1, round(total * epoch / epochs)))
        model.fit(x, y)
        metrics = {f"train_{k}": v for k, v in score(model, job["task"], x, y).items()}
        if test:
            metrics.update({f"val_{k}": v for k, v in score(model, job["task"], *test).items()})
        print(json.dumps({"epoch": epoch, "metrics": metrics}), flush=True)
        if os.path.exists(job["stopFile"]):
            break

    options = {id(model): {"zipmap": False}} if classify else None
    onx = convert_sklearn(
        model,
        initial_types=[(job["model"]["input"], FloatTensorType([None, x.shape[1]]))],
        options=options,
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    out = job["outputDir"]
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"train_seconds": time.time() - started}, f)


if __name__ == "__main__":
    main()
