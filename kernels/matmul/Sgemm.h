/*===- Sgemm.h - f32 matmul micro-kernels with a flat C ABI ------*- C -*-===//
//
// IREE-ukernel style: generated code tiles the output and calls these per tile; they
// never allocate, never spawn threads and keep no state. Row-major f32 throughout.
//
// Right operands are read either in place ([k, n] rows, stride ldb) or packed: column
// panels of AJIT_UK_SGEMM_PANEL columns, each panel k rows of that many contiguous
// floats, the last panel zero-padded. Packing costs one pass over B and pays when many
// rows of A reuse it (the kernel then streams each panel with unit stride); for a few
// rows of A, reading B in place is cheaper.
//
// The entry points pick the widest variant the host runs (AVX-512, AVX2+FMA, portable
// C) once; each variant is also callable by name for tests and benchmarks.
//
//===----------------------------------------------------------------------===*/
#ifndef AJIT_KERNELS_MATMUL_SGEMM_H
#define AJIT_KERNELS_MATMUL_SGEMM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Columns per packed panel, for every variant. */
#define AJIT_UK_SGEMM_PANEL 32

/* Flags of ajit_uk_sgemm. */
#define AJIT_UK_SGEMM_B_PACKED 1   /* b is a packed panel sequence (see above) */
#define AJIT_UK_SGEMM_ACCUMULATE 2 /* c += a.b instead of c = a.b */

/* c[m, n] (ldc) = a[m, k] (lda) . b[k, n]. Unpacked, b is row-major with stride ldb;
   packed, b points at the panel holding the first of the n columns (the column index must
   be a multiple of the panel width) and ldb is ignored. m, n or k may be zero. */
void ajit_uk_sgemm(const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                   int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t flags);

/* Packs panels [panel_begin, panel_end) of b[k, n] (row stride ldb) into `packed`, which
   holds ceil(n / AJIT_UK_SGEMM_PANEL) * k * AJIT_UK_SGEMM_PANEL floats in all; panel p
   starts at packed + p * k * AJIT_UK_SGEMM_PANEL. Disjoint ranges may be packed by
   different threads. */
void ajit_uk_sgemm_pack_b(const float *b, int64_t ldb, int64_t k, int64_t n,
                          int64_t panel_begin, int64_t panel_end, float *packed);

/* The variant the entry points use: "avx512", "avx2" or "portable". */
const char *ajit_uk_sgemm_variant(void);

#ifdef __cplusplus
} /* extern "C" */

namespace ajit::kernels {

using SgemmFn = void (*)(const float *, int64_t, const float *, int64_t, float *, int64_t,
                         int64_t, int64_t, int64_t, int64_t);

/// The variants by name, for tests and benchmarks; null when the host cannot run it.
SgemmFn sgemmVariant(const char *name);

} // namespace ajit::kernels
#endif

#endif
