#!/usr/bin/env bash
# Regenerates Sources/ONNXSchema/onnx.pb.swift from onnx.proto. Run once per ONNX or swift-protobuf upgrade and
# commit the result: building the protoc plugin takes about 10 minutes, so the build never does it.
#
#   scripts/generate-onnx-proto.sh [path/to/onnx.proto]
#
# Without an argument, onnx.proto comes from the `onnx` wheel installed into the project venv (make venv).
# Needs protoc (Debian: protobuf-compiler); the plugin is built from the swift-protobuf checkout SwiftPM resolved.
set -euo pipefail
cd "$(dirname "$0")/.."

proto=${1:-}
if [ -z "$proto" ]; then
    proto=$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')
fi
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }

swift package resolve
swift build -c release --package-path .build/checkouts/swift-protobuf --scratch-path .build-protoc \
    --product protoc-gen-swift

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
    --proto_path="$work" --swift_opt=Visibility=Public --swift_out="$work" "$work/onnx.proto"
cp "$work/onnx.pb.swift" Sources/ONNXSchema/onnx.pb.swift
echo "wrote Sources/ONNXSchema/onnx.pb.swift from $proto ($(protoc --version))"
