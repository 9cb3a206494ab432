#!/usr/bin/env bash
# make demo: a short showcase on the default 16x16 engine, every result checked bit for bit
# against the golden reference. Exits non-zero if any check fails.
set -uo pipefail
tessera=${TESSERA:-build/bin/tessera}
status=0

step() {
  echo
  echo "== $1"
  shift
  "$tessera" "$@" || status=1
}

step "Engine configuration, read back from its CSRs" info
step "Raw int32 GEMM, 64x64x64" gemm --m 64 --k 64 --n 64 --seed 1 --check
step "Awkward shape: 100x300x37 (nothing a multiple of 16)" gemm --m 100 --k 300 --n 37 --seed 2 --check
step "Requantized int8 layer, per-channel multipliers" gemm --m 128 --k 256 --n 96 --seed 3 --requant --check
step "Requantized ReLU layer" gemm --m 196 --k 288 --n 64 --seed 4 --relu --check
step "Benchmark: 256x256x256" bench gemm --m 256 --k 256 --n 256
step "Sparse B, 2:4, through the sparse-gather path (SPGEMM)" spmm --m 128 --k 256 --n 96 --nm 2:4 --seed 5 --requant --check
step "Sparse B, 10 % unstructured, ReLU" spmm --m 100 --k 300 --n 37 --density 0.1 --seed 6 --relu --check
step "Sparse benchmark: 1:4, 256x256x256" bench spmm --m 256 --k 256 --n 256 --nm 1:4
step "Sparse A (ReLU outputs, 40 % nonzero) through SPGEMMA" spmm --m 150 --k 200 --n 64 --a-density 0.4 --seed 7 --relu --check
# The int8 digits CNN (ONNX Runtime static quantization, scripts/digits_models.py) on eight
# digits: where each layer ran, its cycles and utilization, the predictions and accuracy.
digits=tests/data/onnx
step "Quantized ONNX CNN on 8 digits (convolutions on the engine, the rest on the host)" \
  onnx run "$digits/digits_cnn.onnx" --input "input=$digits/digits_demo_x_nchw.npy" \
  --labels "$digits/digits_demo_y.npy" --output build/demo/digits --check

echo
if [[ $status -eq 0 ]]; then echo "demo: PASS"; else echo "demo: FAIL"; fi
exit $status
