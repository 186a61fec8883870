#!/usr/bin/env bash
# Trace in C++ -> export .mlir -> ajitc -> link into a plain C program -> same result as the JIT.
set -euo pipefail
export_bin=$1 ajitc=$2 main_c=$3 cc=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
"$export_bin" "$work"
"$ajitc" "$work/layer.mlir" -o "$work/layer.o" --header "$work/layer.h"
"$cc" -O2 -std=c11 -I"$work" "$main_c" "$work/layer.o" -lm -o "$work/aot_main"
if ldd "$work/aot_main" | grep -Ei 'llvm|mlir|ajit'; then
  echo "run_aot_test: the AOT program links LLVM/MLIR/ajit libraries" >&2
  exit 1
fi
"$work/aot_main" "$work"
# With --parallel the object needs libomp only: no ajit symbol (micro-kernels, buffer pool).
"$ajitc" "$work/layer.mlir" -o "$work/layer_parallel.o" --header "$work/layer_parallel.h" --parallel
if nm -u "$work/layer_parallel.o" | grep -w -E 'ajit_[a-z_]+'; then
  echo "run_aot_test: the --parallel object needs ajit's runtime symbols" >&2
  exit 1
fi
