//===- Sgemm.cpp - f32 matmul micro-kernels: AVX-512, AVX2+FMA, portable ---===//
//
// One loop structure (BLIS's two inner loops plus a k blocking) around a register-blocked
// micro-kernel per variant:
//
//   for each k block of KC            (the B panel slice, KC x panel, stays in L1)
//     for each group of NR columns    (jr)
//       for each group of MR rows     (ir)
//         micro-kernel: MR x NR accumulators in registers; per k, NR/lanes vector loads
//         of B and MR broadcasts of A feed MR x NR/lanes FMAs.
//
// AVX-512: 12 x 32 (24 zmm accumulators, 2 B vectors, broadcasts folded into the FMAs).
// AVX2: 6 x 16 (12 ymm accumulators). Portable: 4 x 16 in plain C for the compiler to
// vectorize. Rows past the last full MR go through the same kernel instantiated for fewer
// rows; columns past the last full NR are masked (packed panels are zero-padded, so only
// the stores and unpacked loads need masks).
//
//===----------------------------------------------------------------------===//
#include "kernels/matmul/Sgemm.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>
#include <iterator>
#include <string_view>

namespace {

constexpr int64_t kPanel = AJIT_UK_SGEMM_PANEL;

// The k block: the B panel slice (KC x 32 floats = 32 KiB at 256) and an A sliver of
// 12 x KC floats fit the 48 KiB L1 together.
constexpr int64_t kKc = 256;

// Rows of A packed at a time (a multiple of every variant's MR): 48 KiB on the stack.
constexpr int64_t kMc = 48;

/// Packs a[mc, kc] (row stride lda) as slivers of MR rows, each kc steps of MR
/// consecutive floats, so the micro-kernel broadcasts from one pointer with constant
/// offsets (twelve row pointers do not fit the general registers beside the loop's own).
/// A last sliver of fewer rows keeps the stride MR.
template <int MR>
void packSlivers(const float *a, int64_t lda, int64_t mc, int64_t kc, float *out) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    int64_t rows = std::min<int64_t>(MR, mc - ir);
    float *sliver = out + ir * kc;
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = a + (ir + r) * lda;
      for (int64_t p = 0; p < kc; ++p) sliver[p * MR + r] = row[p];
    }
  }
}

/// Dispatches a run-time row count (1..MR) to a kernel instantiated for it, so the
/// accumulators stay in registers for every count.
template <class Kernel, bool PackedA, int R = Kernel::MR>
inline void forRows(int64_t rows, auto &&...args) {
  if constexpr (R > 1)
    if (rows < R) return forRows<Kernel, PackedA, R - 1>(rows, args...);
  Kernel::template run<R, PackedA>(args...);
}

/// Element (row r, step p) of an A sliver: packed (MR floats per step) or in place.
template <int MR, bool PackedA>
inline const float *aAt(const float *a, int64_t lda, int r, int64_t p) {
  return PackedA ? a + p * MR + r : a + r * lda + p;
}

/// The shared loops around a micro-kernel (see the file comment).
template <class Kernel>
void sgemmWith(const float *a, int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
               int64_t m, int64_t n, int64_t k, int64_t flags) {
  if (m <= 0 || n <= 0) return;
  bool packed = flags & AJIT_UK_SGEMM_B_PACKED, accumulate = flags & AJIT_UK_SGEMM_ACCUMULATE;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  // A is packed when many column groups reuse each sliver; up to 256 columns the kernel
  // reads A's rows in place. Measured on one thread, B packed: 64^3 59.6 -> 90.5 GFLOP/s,
  // 128^3 101 -> 124, 256^3 116 -> 127 in place; from 512 columns both within 2%.
  bool packA = n > 8 * Kernel::NR;
  alignas(64) float apack[kMc * kKc];
  for (int64_t pc = 0; pc < k; pc += kKc) {
    int64_t kc = std::min(kKc, k - pc);
    bool add = accumulate || pc > 0;
    for (int64_t ic = 0; ic < m; ic += kMc) {
      int64_t mc = std::min(kMc, m - ic);
      if (packA) packSlivers<Kernel::MR>(a + ic * lda + pc, lda, mc, kc, apack);
      for (int64_t jr = 0; jr < n; jr += Kernel::NR) {
        int64_t cols = std::min<int64_t>(Kernel::NR, n - jr);
        const float *bp = packed ? b + (jr / kPanel) * k * kPanel + pc * kPanel + jr % kPanel
                                 : b + pc * ldb + jr;
        int64_t bstride = packed ? kPanel : ldb;
        for (int64_t ir = 0; ir < mc; ir += Kernel::MR) {
          int64_t rows = std::min<int64_t>(Kernel::MR, mc - ir);
          float *cp = c + (ic + ir) * ldc + jr;
          if (packA)
            forRows<Kernel, true>(rows, apack + ir * kc, int64_t(0), bp, bstride, packed, cp, ldc, kc, cols, add);
          else
            forRows<Kernel, false>(rows, a + (ic + ir) * lda + pc, lda, bp, bstride, packed, cp, ldc, kc, cols, add);
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// AVX-512: 12 x 32
//===----------------------------------------------------------------------===//

#define AJIT_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

struct Avx512 {
  static constexpr int MR = 12, NR = 32;

  template <int R, bool PackedA>
  AJIT_AVX512 static void run(const float *a, int64_t lda, const float *b, int64_t bstride,
                              bool packed, float *c, int64_t ldc, int64_t kc, int64_t cols,
                              bool add) {
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r) {
      acc[r][0] = add ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
      acc[r][1] = add ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    if (packed && cols == NR) {
#pragma GCC unroll 2
      for (int64_t p = 0; p < kc; ++p, b += bstride) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int r = 0; r < R; ++r) {
          __m512 av = _mm512_set1_ps(*aAt<MR, PackedA>(a, lda, r, p));
          acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
      }
    } else {
      for (int64_t p = 0; p < kc; ++p, b += bstride) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
        for (int r = 0; r < R; ++r) {
          __m512 av = _mm512_set1_ps(*aAt<MR, PackedA>(a, lda, r, p));
          acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
      _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
  }
};

//===----------------------------------------------------------------------===//
// AVX2 + FMA: 6 x 16
//===----------------------------------------------------------------------===//

#define AJIT_AVX2 __attribute__((target("avx2,fma")))

struct Avx2 {
  static constexpr int MR = 6, NR = 16;

  AJIT_AVX2 static __m256i laneMask(int64_t valid) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)std::clamp<int64_t>(valid, 0, 8)), lanes);
  }

  template <int R, bool PackedA>
  AJIT_AVX2 static void run(const float *a, int64_t lda, const float *b, int64_t bstride,
                            bool packed, float *c, int64_t ldc, int64_t kc, int64_t cols,
                            bool add) {
    __m256i m0 = laneMask(cols), m1 = laneMask(cols - 8);
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) {
      acc[r][0] = add ? _mm256_maskload_ps(c + r * ldc, m0) : _mm256_setzero_ps();
      acc[r][1] = add ? _mm256_maskload_ps(c + r * ldc + 8, m1) : _mm256_setzero_ps();
    }
    bool full = packed || cols == NR;
    for (int64_t p = 0; p < kc; ++p, b += bstride) {
      __m256 b0 = full ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, m0);
      __m256 b1 = full ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, m1);
      for (int r = 0; r < R; ++r) {
        __m256 av = _mm256_broadcast_ss(aAt<MR, PackedA>(a, lda, r, p));
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_maskstore_ps(c + r * ldc, m0, acc[r][0]);
      _mm256_maskstore_ps(c + r * ldc + 8, m1, acc[r][1]);
    }
  }
};

//===----------------------------------------------------------------------===//
// Portable: 4 x 16
//===----------------------------------------------------------------------===//

struct Portable {
  static constexpr int MR = 4, NR = 16;

  template <int R, bool PackedA>
  static void run(const float *a, int64_t lda, const float *b, int64_t bstride, bool packed,
                  float *c, int64_t ldc, int64_t kc, int64_t cols, bool add) {
    float acc[R][NR] = {};
    int64_t width = packed ? NR : cols; // packed panels are zero-padded: read all
    for (int64_t p = 0; p < kc; ++p, b += bstride)
      for (int r = 0; r < R; ++r) {
        float av = *aAt<MR, PackedA>(a, lda, r, p);
        for (int64_t j = 0; j < width; ++j) acc[r][j] += av * b[j];
      }
    for (int r = 0; r < R; ++r)
      for (int64_t j = 0; j < cols; ++j) c[r * ldc + j] = add ? c[r * ldc + j] + acc[r][j] : acc[r][j];
  }
};

AJIT_AVX512 void sgemmAvx512(const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                             int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t flags) {
  sgemmWith<Avx512>(a, lda, b, ldb, c, ldc, m, n, k, flags);
}

AJIT_AVX2 void sgemmAvx2(const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                         int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t flags) {
  sgemmWith<Avx2>(a, lda, b, ldb, c, ldc, m, n, k, flags);
}

void sgemmPortable(const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                   int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t flags) {
  sgemmWith<Portable>(a, lda, b, ldb, c, ldc, m, n, k, flags);
}

struct Variant {
  const char *name;
  ajit::kernels::SgemmFn fn;
  bool (*runsHere)();
};

/// Widest first; the portable variant runs everywhere.
const Variant kVariants[] = {
    {"avx512", sgemmAvx512,
     [] { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"); }},
    {"avx2", sgemmAvx2, [] { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }},
    {"portable", sgemmPortable, [] { return true; }},
};

/// The widest variant the host runs, decided once.
const Variant &best() {
  static const Variant &chosen = [] () -> const Variant & {
    __builtin_cpu_init();
    for (const Variant &v : kVariants)
      if (v.runsHere()) return v;
    return kVariants[std::size(kVariants) - 1];
  }();
  return chosen;
}

} // namespace

extern "C" {

void ajit_uk_sgemm(const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                   int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t flags) {
  best().fn(a, lda, b, ldb, c, ldc, m, n, k, flags);
}

void ajit_uk_sgemm_pack_b(const float *b, int64_t ldb, int64_t k, int64_t n,
                          int64_t panel_begin, int64_t panel_end, float *packed) {
  // Eight panels at a time, row by row: each row of B is read as one 1 KiB run and written
  // to eight sequential streams. Measured against panel by panel (B read 128 bytes a row):
  // 768x3072 2.25 -> 1.33 ms, 784x512 187 -> 155 us; row by row over all panels is worse
  // for wide B (4.3 ms at 768x3072: too many write streams).
  constexpr int64_t kGroup = 8;
  for (int64_t g0 = panel_begin; g0 < panel_end; g0 += kGroup) {
    int64_t g1 = std::min(panel_end, g0 + kGroup);
    for (int64_t row = 0; row < k; ++row) {
      const float *src = b + row * ldb;
      for (int64_t p = g0; p < g1; ++p) {
        float *dst = packed + (p * k + row) * kPanel;
        const float *from = src + p * kPanel;
        int64_t width = std::min(kPanel, n - p * kPanel);
        if (width == kPanel) {
          for (int64_t j = 0; j < kPanel; ++j) dst[j] = from[j]; // a fixed-size copy: vectorized
        } else {
          for (int64_t j = 0; j < kPanel; ++j) dst[j] = j < width ? from[j] : 0.0f;
        }
      }
    }
  }
}

const char *ajit_uk_sgemm_variant(void) { return best().name; }

} // extern "C"

namespace ajit::kernels {

SgemmFn sgemmVariant(const char *name) {
  __builtin_cpu_init();
  for (const Variant &v : kVariants)
    if (std::string_view(name) == v.name) return v.runsHere() ? v.fn : nullptr;
  return nullptr;
}

} // namespace ajit::kernels
