"""Trains a scikit-learn classifier on the penguins data and exports it to ONNX.

    .venv/bin/python server/test-fixtures/make_sklearn_onnx.py OUT_DIR

Writes OUT_DIR/model.onnx (input "input": FP32 [-1, 4]; outputs "label": BYTES [-1] and
"probabilities": FP32 [-1, 3]) and OUT_DIR/expected.json: the feature names, the float32 inputs
the model will see, and scikit-learn's own labels and probabilities on exactly those inputs.
"""

import json
import os
import sys

import numpy as np
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "node_modules", "vega-datasets", "data", "penguins.json")
FEATURES = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
TARGET = "Species"


def load():
    with open(DATA, encoding="utf-8") as f:
        records = json.load(f)
    rows = [r for r in records if r.get(TARGET) is not None and all(r.get(c) is not None for c in FEATURES)]
    x = np.array([[float(r[c]) for c in FEATURES] for r in rows], dtype=np.float32)
    y = np.array([r[TARGET] for r in rows])
    return x, y


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x, y = load()
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    model.fit(x, y)
    onx = convert_sklearn(
        model,
        "penguins",
        initial_types=[("input", FloatTensorType([None, len(FEATURES)]))],
        final_types=None,
        options={id(model.named_steps["clf"]): {"zipmap": False}},
        target_opset={"": 15, "ai.onnx.ml": 3},
    )
    names = [o.name for o in onx.graph.output]
    if names != ["label", "probabilities"]:
        sys.exit(f"unexpected ONNX outputs {names}; expected label, probabilities")
    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    expected = {
        "features": FEATURES,
        "classes": [str(c) for c in model.classes_],
        "inputs": x.tolist(),
        "labels": [str(v) for v in model.predict(x)],
        "probabilities": model.predict_proba(x).tolist(),
    }
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f)
    print(f"wrote {out_dir}/model.onnx ({len(x)} rows, classes {expected['classes']})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_sklearn_onnx.py OUT_DIR")
    main(sys.argv[1])
