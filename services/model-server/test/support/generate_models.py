"""Writes the model server's test models as MLflow model directories (MLmodel with onnx and
python_function flavors, a signature, an input example, requirements) under the given folder:

  linear/      y = x @ W + b, one input "x" float32 [batch, 4]; signature: 4 named double columns
  classifier/  two inputs "sepal_length" float32 [batch] and "petal_count" int64 [batch] -> outputs
               "probability" float32 [batch] and "label" int64 [batch]; signature: named columns of mixed
               types (double, long, and an optional string column the model does not use)
  heavy/       a 64 -> 2048 -> 2048 -> 2048 -> 1 ReLU network (34 MB of weights, more than any cache):
               a batch-1 call streams all weights for one row, a batched call for many (for the
               batching benchmark); signature: an unnamed float32 tensor [-1, 64]

Run with Debian's interpreter: /usr/bin/python3 generate_models.py OUT_DIR (another python3 that
cannot import onnx hands the run to it). Weights are fixed (seeded), so predictions are reproducible.
"""

import json
import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as missing:
    # The python3 on PATH may be another interpreter (pyenv) that cannot see Debian's modules: hand
    # the run to Debian's once; past that, one line saying what to install.
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, *sys.argv])
    sys.exit(f"generate_models.py: {missing}: install Debian's python3-onnx and python3-numpy "
             f"(apt-get install python3-onnx python3-numpy) and run it with {DEBIAN_PYTHON}")

OPSET = 13
IR_VERSION = 8


def save_onnx(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mast-tests")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_model_dir(directory, graph, inputs_schema, outputs_schema, example, example_type, serving_example):
    os.makedirs(directory, exist_ok=True)
    save_onnx(graph, os.path.join(directory, "model.onnx"))
    signature = {
        "inputs": json.dumps(inputs_schema),
        "outputs": json.dumps(outputs_schema),
        "params": None,
    }
    lines = [
        "artifact_path: model",
        "flavors:",
        "  onnx:",
        "    code: null",
        "    data: model.onnx",
        "    onnx_version: " + onnx.__version__,
        "    providers:",
        "    - CPUExecutionProvider",
        "  python_function:",
        "    data: model.onnx",
        "    env:",
        "      conda: conda.yaml",
        "      virtualenv: python_env.yaml",
        "    loader_module: mlflow.onnx",
        "    python_version: 3.11.2",
        "mlflow_version: 2.18.0",
        "model_size_bytes: " + str(os.path.getsize(os.path.join(directory, "model.onnx"))),
        "model_uuid: 0123456789abcdef0123456789abcdef",
        "run_id: fedcba9876543210fedcba9876543210",
        "saved_input_example_info:",
        "  artifact_path: input_example.json",
        "  type: " + example_type,
    ]
    if example_type == "dataframe":
        lines.append("  pandas_orient: split")
    lines += [
        "  serving_input_path: serving_input_example.json",
        "signature:",
        "  inputs: " + json.dumps(signature["inputs"]),
        "  outputs: " + json.dumps(signature["outputs"]),
        "  params: null",
        "utc_time_created: '2026-11-30 12:00:00.000000'",
        "",
    ]
    write(os.path.join(directory, "MLmodel"), "\n".join(lines))
    write(os.path.join(directory, "input_example.json"), json.dumps(example))
    write(os.path.join(directory, "serving_input_example.json"), json.dumps(serving_example, indent=2))
    write(os.path.join(directory, "requirements.txt"), "mlflow==2.18.0\nonnx==1.12.0\nonnxruntime==1.17.0\n")
    write(
        os.path.join(directory, "python_env.yaml"),
        "python: 3.11.2\nbuild_dependencies:\n- pip==23.0.1\n- setuptools==66.1.1\n- wheel==0.38.4\n"
        "dependencies:\n- -r requirements.txt\n",
    )
    write(
        os.path.join(directory, "conda.yaml"),
        "channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip<=23.0.1\n- pip:\n"
        "  - mlflow==2.18.0\n  - onnx==1.12.0\n  - onnxruntime==1.17.0\nname: mlflow-env\n",
    )


def linear(out):
    weights = np.array([[0.5], [-1.25], [2.0], [0.75]], dtype=np.float32)
    bias = np.array([0.1], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")],
    )
    columns = ["f0", "f1", "f2", "f3"]
    example = {"columns": columns, "data": [[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, -1.0, 2.0]]}
    write_model_dir(
        os.path.join(out, "linear"),
        graph,
        [{"type": "double", "name": name, "required": True} for name in columns],
        [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}],
        example,
        "dataframe",
        {"dataframe_split": example},
    )


def classifier(out):
    nodes = [
        helper.make_node("Cast", ["petal_count"], ["petals"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["sepal_length", "w_sepal"], ["a"]),
        helper.make_node("Mul", ["petals", "w_petal"], ["c"]),
        helper.make_node("Add", ["a", "c"], ["ac"]),
        helper.make_node("Add", ["ac", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
        helper.make_node("Greater", ["probability", "half"], ["positive"]),
        helper.make_node("Cast", ["positive"], ["label"], to=TensorProto.INT64),
    ]
    initializers = [
        numpy_helper.from_array(np.array(0.8, dtype=np.float32), "w_sepal"),
        numpy_helper.from_array(np.array(-0.6, dtype=np.float32), "w_petal"),
        numpy_helper.from_array(np.array(-1.5, dtype=np.float32), "bias"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [
            helper.make_tensor_value_info("sepal_length", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("petal_count", TensorProto.INT64, ["batch"]),
        ],
        [
            helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
        ],
        initializers,
    )
    example = {
        "columns": ["sepal_length", "petal_count", "comment"],
        "data": [[5.1, 3, "first"], [6.3, 1, "second"]],
    }
    write_model_dir(
        os.path.join(out, "classifier"),
        graph,
        [
            {"type": "double", "name": "sepal_length", "required": True},
            {"type": "long", "name": "petal_count", "required": True},
            {"type": "string", "name": "comment", "required": False},
        ],
        [
            {"type": "float", "name": "probability", "required": True},
            {"type": "long", "name": "label", "required": True},
        ],
        example,
        "dataframe",
        {"dataframe_split": example},
    )


def heavy(out):
    rng = np.random.RandomState(7)
    sizes = [64, 2048, 2048, 2048, 1]
    nodes, initializers = [], []
    current = "x"
    for layer in range(len(sizes) - 1):
        scale = np.float32(1.0 / np.sqrt(sizes[layer]))
        weights = (rng.standard_normal((sizes[layer], sizes[layer + 1])) * scale).astype(np.float32)
        initializers.append(numpy_helper.from_array(weights, f"W{layer}"))
        product = f"h{layer}" if layer < len(sizes) - 2 else "y"
        nodes.append(helper.make_node("MatMul", [current, f"W{layer}"], [product if layer == len(sizes) - 2 else f"m{layer}"]))
        if layer < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [f"m{layer}"], [product]))
        current = product
    graph = helper.make_graph(
        nodes,
        "heavy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializers,
    )
    example = np.round(rng.standard_normal((2, 64)), 3).tolist()
    write_model_dir(
        os.path.join(out, "heavy"),
        graph,
        [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 64]}}],
        [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}],
        example,
        "ndarray",
        {"inputs": example},
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: generate_models.py OUT_DIR")
    target = sys.argv[1]
    linear(target)
    classifier(target)
    heavy(target)
