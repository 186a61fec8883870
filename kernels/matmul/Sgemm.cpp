//===- Sgemm.cpp - f32 matmul micro-kernels: AVX-512, AVX2+FMA, portable ---===//
//
// One loop structure around a register-blocked micro-kernel per variant:
//
//   for each block of NC columns        (B's k block for them, KC x NC, stays in L2)
//     for each k block of KC
//       for each group of MR rows (ir)  (the A sliver, MR x KC, stays in L1)
//         for each group of NR columns  (the B sliver streams from L2)
//           micro-kernel: MR x NR accumulators in registers; per k, NR/lanes vector loads
//           of B and MR broadcasts of A feed MR x NR/lanes FMAs.
//
// AVX-512: 6 x 64 (24 zmm accumulators; 4 B vectors and 6 broadcasts per 24 FMAs, where
// 12 x 32 needs 2 and 12). AVX2: 6 x 16 (12 ymm accumulators). Portable: 4 x 16 in plain C
// for the compiler to vectorize. Rows past the last full MR go through the same kernel
// instantiated for fewer rows; columns past the last full NR are masked (packed panels
// are zero-padded, so only the stores and unpacked loads need masks).
//
// Measured on this machine (one thread, tiles of 144 x 512 as TileMatmuls emits them,
// B packed, each ratio the median of 60 interleaved pairs against the previous 12 x 32
// kernel with B's sliver in L1 and KC 256): 6 x 64 with the A sliver in L1 and KC 512
// takes 0.87 to 0.91 of the time at 1000x768x512, 1024^3 and 2048x3072x768.
//
#include "kernels/matmul/Sgemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <immintrin.h>
#include <iterator>
#include <string_view>

namespace {

constexpr int64_t kPanel = AJIT_UK_SGEMM_PANEL;

// The k block: an A sliver of 6 x KC floats (12 KiB) stays in L1 while the B slivers
// stream past it; fewer k blocks also mean fewer passes of C through the registers.
constexpr int64_t kKc = 512;

// How far ahead (in k steps) the AVX-512 kernel prefetches packed B. Measured on one
// thread, tiles of 144 x 512, B packed once: distance 4 / 8 / 16 / 32 took 0.97 / 0.95 /
// 0.95 / 0.96 of the time without prefetch at 2048x768x3072, 0.93 at 4096x1024x4096 (16).
constexpr int64_t kPrefetchSteps = 16;

// Rows of A packed at a time (a multiple of every variant's MR): 48 KiB on the stack.
constexpr int64_t kMc = 24;

// Columns per block: B's KC x NC block (1 MiB) stays in the 2 MiB L2 while every A sliver
// of the rows passes over it. A multiple of every variant's NR and of the panel width.
constexpr int64_t kNc = 512;

/// Packs a[mc, kc] (row stride lda) as slivers of MR rows, each kc steps of MR
/// consecutive floats, so the micro-kernel broadcasts from one pointer with constant
/// offsets and each k step's broadcasts share one cache line.
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
  // A is packed when more than eight column groups reuse each sliver; for fewer the kernel
  // reads A's rows in place. Measured with the 12 x 32 kernel on one thread, B packed:
  // 64^3 59.6 -> 90.5 GFLOP/s, 128^3 101 -> 124, 256^3 116 -> 127 in place; from 512
  // columns both within 2%. The AVX-512 6 x 64 kernel reads A in place at every width:
  // packing took 5-9% more time at 144x512x1024, 576x768x2048, 1024^3, 96x784x4096 and
  // 2048x512x2048 (one thread, B packed; a sliver is packed again for every 512 columns,
  // so wider B brings it no more reuse). TileMatmuls' tiles (at most 512 columns) read A
  // in place on every variant.
  bool packA = Kernel::NR < 64 && n > 8 * Kernel::NR;
  alignas(64) float apack[kMc * kKc];
  int64_t bstride = packed ? kPanel : ldb;
  int64_t bgap = packed ? k * kPanel : kPanel; // from column j to column j + kPanel in b
  for (int64_t jc = 0; jc < n; jc += kNc) {
    int64_t nc = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t kc = std::min(kKc, k - pc);
      bool add = accumulate || pc > 0;
      for (int64_t ic = 0; ic < m; ic += kMc) {
        int64_t mc = std::min(kMc, m - ic);
        if (packA) packSlivers<Kernel::MR>(a + ic * lda + pc, lda, mc, kc, apack);
        for (int64_t ir = 0; ir < mc; ir += Kernel::MR) {
          int64_t rows = std::min<int64_t>(Kernel::MR, mc - ir);
          for (int64_t jr = jc; jr < jc + nc; jr += Kernel::NR) {
            int64_t cols = std::min<int64_t>(Kernel::NR, jc + nc - jr);
            const float *bp = packed ? b + (jr / kPanel) * k * kPanel + pc * kPanel + jr % kPanel
                                     : b + pc * ldb + jr;
            float *cp = c + (ic + ir) * ldc + jr;
            if (packA)
              forRows<Kernel, true>(rows, apack + ir * kc, int64_t(0), bp, bstride, bgap, packed, cp, ldc, kc, cols, add);
            else
              forRows<Kernel, false>(rows, a + (ic + ir) * lda + pc, lda, bp, bstride, bgap, packed, cp, ldc, kc, cols, add);
          }
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// AVX-512: 6 x 64
//===----------------------------------------------------------------------===//

#define AJIT_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define AJIT_AVX512_LAMBDA __attribute__((target("avx512f,avx512vl,avx2,fma"), always_inline))

struct Avx512 {
  static constexpr int MR = 6, NR = 64;

  /// Columns 32..63 of the group are `bgap` floats past columns 0..31: the next packed
  /// panel, or the same row in place. A narrower last group runs with fewer vectors (V),
  /// so that no FMA works on padding and no load touches a panel past the last.
  template <int R, bool PackedA>
  AJIT_AVX512 static void run(const float *a, int64_t lda, const float *b, int64_t bstride,
                              int64_t bgap, bool packed, float *c, int64_t ldc, int64_t kc,
                              int64_t cols, bool add) {
    if (cols > 32) return columns<R, 4, PackedA>(a, lda, b, bstride, bgap, packed, c, ldc, kc, cols, add);
    if (cols > 16) return columns<R, 2, PackedA>(a, lda, b, bstride, bgap, packed, c, ldc, kc, cols, add);
    columns<R, 1, PackedA>(a, lda, b, bstride, bgap, packed, c, ldc, kc, cols, add);
  }

  /// Vector v of a k step: columns 16v..16v+15 of the group.
  AJIT_AVX512 static const float *vectorAt(const float *b, int64_t bgap, int v) {
    return b + (v >= 2 ? bgap : 0) + 16 * (v % 2);
  }

  template <int R, int V, bool PackedA>
  AJIT_AVX512 static void columns(const float *a, int64_t lda, const float *b, int64_t bstride,
                                  int64_t bgap, bool packed, float *c, int64_t ldc, int64_t kc,
                                  int64_t cols, bool add) {
    __mmask16 mask[V];
    for (int v = 0; v < V; ++v) {
      int64_t valid = std::clamp<int64_t>(cols - 16 * v, 0, 16);
      mask[v] = valid == 16 ? 0xffff : (__mmask16)((1u << valid) - 1);
    }
    __m512 acc[R][V];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        acc[r][v] = add ? _mm512_maskz_loadu_ps(mask[v], c + r * ldc + 16 * v) : _mm512_setzero_ps();
    auto step = [&](const __m512 (&bv)[V], int64_t p) AJIT_AVX512_LAMBDA {
      for (int r = 0; r < R; ++r) {
        __m512 av = _mm512_set1_ps(*aAt<MR, PackedA>(a, lda, r, p));
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
    };
    // Full loads wherever every lane is a column (packed or in place): the masked loop
    // below ran B in place at half the speed (64^3 in place: 64 -> 144 GFLOP/s).
    if (cols == 16 * V) {
      for (int64_t p = 0; p < kc; ++p, b += bstride) {
        __m512 bv[V];
        for (int v = 0; v < V; ++v) bv[v] = _mm512_loadu_ps(vectorAt(b, bgap, v));
        // The B sliver streams from L2 (64 x KC floats, more than L1 holds): fetch the
        // lines kPrefetchSteps steps ahead into L1. Past the sliver's end the address is
        // the next k block or panel, or outside the buffer, which a prefetch may name (it
        // never faults); it is formed as an integer, not as an out-of-bounds pointer.
        for (int v = 0; v < V; ++v)
          _mm_prefetch(reinterpret_cast<const char *>(reinterpret_cast<uintptr_t>(vectorAt(b, bgap, v)) +
                                                      kPrefetchSteps * bstride * sizeof(float)),
                       _MM_HINT_T0);
        step(bv, p);
      }
    } else {
      for (int64_t p = 0; p < kc; ++p, b += bstride) {
        __m512 bv[V];
        for (int v = 0; v < V; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], vectorAt(b, bgap, v));
        step(bv, p);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask[v], acc[r][v]);
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
                            int64_t /*bgap: NR < panel*/, bool packed, float *c, int64_t ldc, int64_t kc, int64_t cols,
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
  static void run(const float *a, int64_t lda, const float *b, int64_t bstride,
                  int64_t /*bgap: NR < panel*/, bool packed,
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
