/* A plain C program calling ajitc's output: no LLVM, no MLIR, no ajit library. */
#include "layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *load(const char *dir, const char *name, size_t count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  float *data = malloc(count * sizeof(float));
  if (!f || !data || fread(data, sizeof(float), count, f) != count) {
    fprintf(stderr, "aot_main: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  return data;
}

/* `tolerance`: relative difference allowed against the JIT's result. */
static int compare(const float *got, const float *want, size_t n, const char *what, double tolerance) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    double err = fabs((double)got[i] - want[i]) / (fabs(want[i]) + 1e-6);
    if (err > worst) worst = err;
  }
  printf("aot_main: %s: %zu values, max relative difference to the JIT %.3g\n", what, n, worst);
  return worst <= tolerance;
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: aot_main DIR\n"), 2;
  float *x = load(argv[1], "in0.bin", layer_in0_elements);
  float *w = load(argv[1], "in1.bin", layer_in1_elements);
  float *b = load(argv[1], "in2.bin", layer_in2_elements);
  float *y = malloc(layer_out0_elements * sizeof(float)), *m = malloc(layer_out1_elements * sizeof(float));
  layer(x, w, b, y, m);
  /* The JIT runs f32 matmuls through the micro-kernel (kernels/matmul), which sums k in
     another order; the AOT object keeps plain loops (it links no runtime). The layer's
     k = 16: a reordered sum of 16 terms differs by a few ulps of the largest term, which
     GELU then divides by values near zero: 1e-4. The softmax statistic of y averages
     those differences out (measured 7e-7): 1e-5. */
  int ok = compare(y, load(argv[1], "expected0.bin", layer_out0_elements), layer_out0_elements, "gelu(x @ w + b)", 1e-4);
  ok &= compare(m, load(argv[1], "expected1.bin", layer_out1_elements), layer_out1_elements, "mean(softmax(y) * y)", 1e-5);
  return ok ? 0 : 1;
}
