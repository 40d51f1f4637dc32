# Bottleneck: build, test, demo and benchmark.
#
# Quick start on a fresh Debian 12 machine with Swift installed (on PATH or at /opt/swift):
#   make demo    # installs what it needs, builds, imports EfficientNet-Lite0, classifies the golden images
#   make test    # installs what it needs, generates the operator fixtures, runs the test suite
# Every step is idempotent: a second run only checks and returns in seconds.

# ---- Settings (override on the command line: make test CONFIG=debug) --------------------------------------------
# swift from PATH, else the toolchain at /opt/swift.
ifndef SWIFT
SWIFT := $(firstword $(shell command -v swift 2>/dev/null) /opt/swift/usr/bin/swift)
endif
PYTHON       ?= python3
CONFIG       ?= release
SHARED       ?= ../shared
TEST_FLAGS   ?=
APT_PACKAGES := libopenblas-dev libturbojpeg0-dev libcurl4-openssl-dev libpng-dev dataset-fashion-mnist zip unzip openssl

VENV         := .venv
VENV_PY      := $(VENV)/bin/python
REQUIREMENTS := scripts/requirements.txt
VENV_STAMP   := $(VENV)/.installed-$(shell sha256sum $(REQUIREMENTS) | cut -c1-16)
MODEL        := models/efficientnet-lite0.onnx
FIXTURES_DIR := Tests/Fixtures/generated/ops
FIXTURES_STAMP := $(FIXTURES_DIR)/index.json
# The AWS Lambda Runtime Interface Emulator: a static binary inside the aws-sam-cli wheel (no Docker, no Go build)
SAM_CLI_VERSION := 1.170.0
RIE          := build/tools/aws-lambda-rie-x86_64
GOLDEN_IMAGES = $(wildcard $(SHARED)/reference/golden/images/*)
DEMO_PER_CLASS ?= 100

# The CLI binary. Asking SwiftPM costs a fraction of a second, so it is asked once, and only by targets that use it.
BIN_DIR = $(eval BIN_DIR := $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path))$(BIN_DIR)
BIN     = $(BIN_DIR)/bottleneck

# SwiftPM finds its compilers next to `swift`: have that directory on PATH (last, so nothing else is shadowed).
export PATH := $(PATH):$(patsubst %/,%,$(dir $(SWIFT)))

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Steps depend on each other's side effects (packages before the build, the build before the model): run in order.
.NOTPARALLEL:

# A venv whose interpreter no longer runs (python upgraded or removed) is rebuilt: forget its stamp.
ifneq ($(wildcard $(VENV)/bin/python),)
  $(shell $(VENV_PY) -c '' 2>/dev/null || rm -f $(VENV)/.installed-*)
endif

.PHONY: help deps venv rie lambda build build-tests model fixtures demo test bench bench-int8 bench-images bench-extract bench-train bench-lambda clean distclean

# ---- Entry points -----------------------------------------------------------------------------------------------

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## demo: import EfficientNet-Lite0, classify the golden images of ../shared, then the main job on a Fashion-MNIST
##       subset: extract every image's vector (cached: a second run reuses them), train a softmax head, evaluate it,
##       export backbone + head as models/fashion-mnist.onnx and predict a few test images with it
demo: deps venv build model
	@[ -n "$(GOLDEN_IMAGES)" ] || { echo "no golden images in $(SHARED)/reference/golden/images" >&2; exit 1; }
	$(BIN) classify --model $(MODEL) --top 3 $(GOLDEN_IMAGES)
	$(BIN) datasets prepare fashion-mnist --per-class $(DEMO_PER_CLASS)
	$(BIN) run --config configs/fashion-mnist.yaml
	$(BIN) export --run runs/fashion-mnist --output models/fashion-mnist.onnx
	find datasets/fashion-mnist/test -name '*.png' -print0 | sort -z | sed -z -n '1~250p' \
	    | xargs -0 $(BIN) predict --model models/fashion-mnist.onnx --top 3

## test: generate the fixtures and the model, then run the whole test suite (swift test -c release)
test: deps venv rie fixtures build-tests model
	$(SWIFT) test -c $(CONFIG) $(TEST_FLAGS)

## bench: time our engine against onnxruntime on EfficientNet-Lite0 (threads 1 and 2, batches 1, 8, 32)
bench: deps venv build model
	SHARED=$(SHARED) scripts/bench.sh $(BIN) $(MODEL)

## bench-int8: the int8 stretch: our int8 engine against onnxruntime's fp32 (as bench), then full Fashion-MNIST
##             test accuracy with fp32 and int8 features (extracts 70,000 images twice on the first run)
bench-int8: deps venv build model
	PRECISION=int8 SHARED=$(SHARED) scripts/bench.sh $(BIN) $(MODEL)
	scripts/bench-int8-accuracy.sh $(BIN)

## bench-images: decode + resize + normalise images/s against Pillow on the same JPEGs (one thread each)
bench-images: deps venv build
	SHARED=$(SHARED) scripts/bench-images.sh $(BIN)

## bench-train: full Fashion-MNIST: our softmax head against scikit-learn's LogisticRegression on the same vectors
bench-train: deps venv build model
	scripts/bench-train.sh $(BIN)

## bench-extract: end-to-end extraction images/s, cold and warm, local folder and S3 (moto on 127.0.0.1)
bench-extract: deps venv build model
	SHARED=$(SHARED) scripts/bench-extract.sh $(BIN) $(MODEL)

## lambda: build/lambda.zip for AWS Lambda (provided.al2023) serving LAMBDA_MODEL, a combined model from
##         `bottleneck export`; the bootstrap is built with the Swift stdlib and OpenBLAS linked in (.build/lambda)
LAMBDA_MODEL ?= models/fashion-mnist.onnx
lambda: deps build
	@[ -s "$(LAMBDA_MODEL)" ] || { echo "no $(LAMBDA_MODEL): write one with \`$(BIN) export --run runs/fashion-mnist --output $(LAMBDA_MODEL)\`" >&2; exit 1; }
	$(BIN) package-lambda --model $(LAMBDA_MODEL) --output build/lambda.zip

## bench-lambda: cold start, warm latency and peak RSS of build/lambda.zip under the Lambda emulator (make lambda first)
bench-lambda: deps venv rie lambda
	scripts/bench-lambda.sh build/lambda.zip $(SHARED)/reference/golden/images/chelsea.jpg

# ---- Steps ------------------------------------------------------------------------------------------------------

## deps: install the Debian packages the build links against (apt-get only when one is missing)
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "deps: installing$$missing"; \
	    $$sudo apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## venv: the project's Python environment .venv with the pinned scripts/requirements.txt
venv: $(VENV_STAMP)
	@:
$(VENV_STAMP): $(REQUIREMENTS) scripts/setup-venv.sh
	@PYTHON=$(PYTHON) scripts/setup-venv.sh
	@touch $@

## build: release build of the `bottleneck` CLI (for demo and bench)
build: deps
	$(SWIFT) build -c $(CONFIG) --product bottleneck

## build-tests: build everything, tests included, exactly as `swift test -c release` will (a plain release build
##              lacks -enable-testing, so alternating the two would recompile every module each time)
build-tests: deps
	$(SWIFT) test list -c $(CONFIG) >/dev/null

## model: models/efficientnet-lite0.onnx, written by `bottleneck backbone install` (delete it to redo)
model: $(MODEL)
	@:
$(MODEL): | venv
	@[ -x "$(BIN)" ] || $(MAKE) --no-print-directory build
	@mkdir -p $(@D)
	$(BIN) backbone install efficientnet-lite0
	@[ -s $@ ] || { echo "backbone install did not write $@" >&2; exit 1; }

## rie: the AWS Lambda Runtime Interface Emulator in build/tools (from the aws-sam-cli wheel on PyPI)
rie: $(RIE)
	@:
$(RIE): | venv
	@mkdir -p $(@D)/wheel
	$(VENV_PY) -m pip download --quiet --no-deps --dest $(@D)/wheel aws-sam-cli==$(SAM_CLI_VERSION)
	unzip -o -q -j $(@D)/wheel/aws_sam_cli-$(SAM_CLI_VERSION)-py3-none-any.whl \
	    samcli/local/rapid/aws-lambda-rie-x86_64 -d $(@D)
	chmod +x $@
	rm -rf $(@D)/wheel
	@[ "$$(head -c 4 $@ | tail -c 3)" = ELF ] || { echo "$@ is not an ELF executable" >&2; exit 1; }

## fixtures: ONNX operator fixtures in Tests/Fixtures/generated/ops (redone when the script or the venv changes)
fixtures: $(FIXTURES_STAMP)
	@:
$(FIXTURES_STAMP): scripts/make_op_fixtures.py $(VENV_STAMP)
	$(VENV_PY) scripts/make_op_fixtures.py $(FIXTURES_DIR)

# ---- Cleaning ---------------------------------------------------------------------------------------------------

## clean: remove build products, the imported model and the generated fixtures (keeps .venv)
clean:
	rm -rf .build models Tests/Fixtures/generated

## distclean: clean, and remove .venv too
distclean: clean
	rm -rf $(VENV)
