#!/usr/bin/env python3
"""Checks a combined model written by `bottleneck export` with the ONNX tools and onnxruntime.

    check-export.py MODEL.onnx INPUTS.f32 SCORES.f32 [--tolerance 1e-4]

INPUTS.f32 holds N images as raw little-endian float32 in the model's input layout (NCHW); SCORES.f32 holds the
[N, classes] probabilities our engine computed for them. The script
  1. runs onnx.checker (full check, with shape inference) on the model,
  2. checks the contract: one input, one output named `scores` of shape [N, classes], and the `bottleneck.*`
     metadata (format combined/1, labels matching the class count, preprocessing and training JSON),
  3. runs onnxruntime on the inputs and compares with SCORES.f32: the largest absolute difference must not exceed
     the tolerance, every row must sum to 1 (softmax output), and no score may be NaN or infinite.
It prints one JSON line with the figures and exits 1 on any failure, naming it.
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime

REQUIRED_METADATA = [
    "bottleneck.format", "bottleneck.labels", "bottleneck.preprocessing", "bottleneck.backbone_sha256",
    "bottleneck.bottleneck_tensor", "bottleneck.training", "bottleneck.test_metrics", "bottleneck.tool_version",
]


def fail(message):
    print(f"check-export: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("scores")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    model = onnx.load(args.model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as error:
        fail(f"onnx.checker rejects {args.model}: {error}")

    metadata = {entry.key: entry.value for entry in model.metadata_props}
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        fail(f"metadata lacks {', '.join(missing)}")
    if metadata["bottleneck.format"] != "combined/1":
        fail(f"bottleneck.format is {metadata['bottleneck.format']!r}, not 'combined/1'")
    labels = json.loads(metadata["bottleneck.labels"])
    for key in ["bottleneck.preprocessing", "bottleneck.training", "bottleneck.test_metrics"]:
        if not isinstance(json.loads(metadata[key]), dict):
            fail(f"{key} is not a JSON object")

    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    outputs = [value.name for value in model.graph.output]
    if len(inputs) != 1 or outputs != ["scores"]:
        fail(f"expected one input and the single output 'scores', got inputs {[i.name for i in inputs]}, outputs {outputs}")
    output_dims = model.graph.output[0].type.tensor_type.shape.dim
    if len(output_dims) != 2 or output_dims[1].dim_value != len(labels):
        fail(f"'scores' is declared {[d.dim_value or d.dim_param for d in output_dims]}, not [N, {len(labels)}]")

    image_shape = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim[1:]]
    if not all(image_shape):
        fail(f"the input has symbolic image dimensions {image_shape}; this check needs fixed ones")
    batch = np.fromfile(args.inputs, dtype="<f4").reshape([-1] + image_shape)
    ours = np.fromfile(args.scores, dtype="<f4").reshape(batch.shape[0], len(labels))

    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    theirs = session.run(["scores"], {inputs[0].name: batch})[0]
    # NaN compares false with everything, so non-finite scores are refused before any comparison.
    for name, scores in [("onnxruntime's", theirs), ("our engine's", ours)]:
        if not np.all(np.isfinite(scores)):
            fail(f"{name} scores contain {int(np.sum(~np.isfinite(scores)))} NaN or infinite values")
    difference = float(np.max(np.abs(theirs - ours)))
    row_sum_error = float(np.max(np.abs(theirs.sum(axis=1) - 1)))
    print(json.dumps({"images": int(batch.shape[0]), "classes": len(labels), "max_abs_diff": difference,
                      "max_row_sum_error": row_sum_error, "top1_agree": int(np.sum(theirs.argmax(1) == ours.argmax(1))),
                      "tolerance": args.tolerance}))
    if not row_sum_error <= 1e-5:
        fail(f"onnxruntime's scores rows do not sum to 1 (off by {row_sum_error}): the output is not a softmax")
    if not difference <= args.tolerance:
        fail(f"onnxruntime and our engine differ by {difference} > {args.tolerance}")


if __name__ == "__main__":
    main()
