#!/usr/bin/env bash
# Packs what the GPU checks need on a machine that has a GPU but not this build's
# Debian LLVM/MLIR 22: the named executables of build/ and every shared library they load
# except the C and C++ runtimes (that machine's own are newer), into one xz tarball,
# .device/bundle.tar.xz (ignored by git). tools/device/run.sh unpacks and runs it there.
#
#   tools/device/bundle.sh build/tests/ajit-gpu-test build/bench/ajit-bench-gpu
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.device
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$out"
for exe in "$@"; do
  cp "$exe" "$stage/bin/"
  ldd "$exe" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) ;;
      libz3.so.*) ;;
      *) cp -Lu "$lib" "$stage/lib/" ;;
    esac
  done
done
llvm=$(ls "$stage"/lib/libLLVM.so.* 2>/dev/null | head -1)
z3=$( [ -n "$llvm" ] && nm -D --undefined-only "$llvm" | awk '$2 ~ /^Z3_/ {print $2}' | sort -u || true)
if [ -n "$z3" ]; then
  echo "$z3" |
    awk 'BEGIN {print "#include <stdio.h>\n#include <stdlib.h>"}
         {printf "void %s(void) { fputs(\"ajit device bundle: %s called (libz3 is a stub)\\n\", stderr); abort(); }\n", $1, $1}' \
    > "$stage/z3stub.c"
  soname=$(objdump -p "$llvm" | awk '$1 == "NEEDED" && $2 ~ /^libz3/ {print $2}')
  gcc -shared -fPIC -o "$stage/lib/$soname" -Wl,-soname,"$soname" "$stage/z3stub.c"
fi
tar cf - -C "$stage" bin lib | xz -6 -T2 > "$out/bundle.tar.xz"
grep -qxF "/.device/" .git/info/exclude 2>/dev/null || echo "/.device/" >> .git/info/exclude
ls -la "$out/bundle.tar.xz"
