//===- Passes.td - ajit passes ---------------------------------------------===//
#ifndef AJIT_PASSES_TD
#define AJIT_PASSES_TD

include "mlir/Pass/PassBase.td"

def AjitLowerToLinalg : Pass<"ajit-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the ajit graph dialect to linalg on tensors";
  let description = [{
    Every ajit op becomes linalg on tensors (plus tensor, arith and math):
    elementwise ops => `linalg.generic` with parallel iterators and a scalar body;
    `broadcast_in_dim`/`transpose` => `linalg.generic` with projected/permuted input maps;
    `reduce`/`argmax`/`argmin` => `linalg.generic` with reduction iterators over a
    `linalg.fill`ed init; `dot` => `linalg.generic` in (m, k, n) order so the innermost loop
    walks rows of the right operand and the output; `reshape` => `tensor.collapse_shape`
    + `tensor.expand_shape`; `constant` => `arith.constant`.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
  let options = [Option<"laneReductions", "lane-reductions", "bool", "true",
                        "innermost-axis reductions, argmax/argmin and softmax statistics with explicit "
                        "vector lanes (CPU); off, they stay linalg reductions (GPU)">];
}

def AjitApproximateMath : Pass<"ajit-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace f32 transcendentals with vectorizable polynomial approximations";
  let description = [{
    `math.exp/log/tanh/erf/erfc/...` on f32 => polynomial approximations built from
    arith ops and bit manipulation (MLIR's math approximation patterns), so the loop
    vectorizer turns them into 512-bit code instead of scalar libm calls. f64 keeps libm
    calls. (f32 sin, cos and pow never reach this pass: ajit-lower-to-linalg expands them.)
    f32 exp is first guarded against NaN (upstream's expansion converts NaN with fptosi,
    which is poison once LLVM sees it as a constant).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def AjitFlattenEmptySignature : Pass<"ajit-flatten-empty-signature", "mlir::ModuleOp"> {
  let summary = "Give zero-size arguments and results of public functions the type tensor<0xT>";
  let description = [{
    `func(%x: tensor<3x0xf32>) -> tensor<3x0xf32>` =>
    `func(%x: tensor<0xf32>) -> tensor<0xf32>`, with the uses of `%x` reading an empty
    `ajit.constant` of the original type and the result reshaped. The bare-pointer
    calling convention cannot lower a memref with a zero after its first dimension, and
    an empty array carries no data to pass anyway; callers keep the original shapes.
  }];
}

def AjitCopyRepeatedResults : Pass<"ajit-copy-repeated-results", "mlir::ModuleOp"> {
  let summary = "Give every result of a public function its own value";
  let description = [{
    `return %a, %a` => `return %a, %c` with `%c = linalg.copy ins(%a) outs(tensor.empty)`.
    Each result becomes its own out-parameter buffer; upstream
    buffer-results-to-out-params cannot hoist one allocation into two out-params. Runs
    after the last CSE, which would merge the copies back.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def AjitUntieSharedFills : Pass<"ajit-untie-shared-fills", "mlir::ModuleOp"> {
  let summary = "Give every op that writes into a shared linalg.fill a fill of its own";
  let description = [{
    Two ops writing into one (CSE-merged) fill make bufferization copy the fill's
    values for the second; a fill each costs a write instead, and on the GPU it folds
    into the reduction that follows it. Runs after the last CSE, before bufferization.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def AjitReuseDonatedInputs : Pass<"ajit-reuse-donated-inputs", "mlir::ModuleOp"> {
  let summary = "Let a result take the buffer of a donated argument when that is safe";
  let description = [{
    Runs on public functions after bufferization, before results become out-params.
    An argument marked `{ajit.donate}` (jit's `donateArgnums`) may give its buffer to a
    result of the same type, XLA's input/output aliasing. Results are paired in order
    with the first donated argument of their type for which the reuse is safe:
    - the result is a `memref.alloc` of the function, so it becomes an out-param;
    - every op that reads the argument runs before the first op that writes the result,
      or is the one op writing it, an all-parallel `linalg.generic` that reads the
      argument with the same permutation map as it writes the result (so each element
      is read before it is overwritten, and by the same iteration). A matmul epilogue
      counts as writing the result from its product's first write on, since
      ajit-tile-matmuls writes the product into the result's buffer tile by tile.
    A pair is rewritten so that the argument is no longer used: its reads read the
    result's buffer, which the caller fills with the argument (the runtime passes the
    donated buffer itself, or a copy when it may not be overwritten). The result gets
    `{ajit.reuses_input = i}`, which becomes an attribute of its out-param. Keeping one
    pointer for both lets every argument stay `noalias`, so loops still vectorize
    without run-time overlap checks.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def AjitMathToFuncs : Pass<"ajit-math-to-funcs", "mlir::ModuleOp"> {
  let summary = "convert-math-to-funcs with fresh state on every run";
  let description = [{
    Runs upstream `convert-math-to-funcs` (integer powers and ctlz as outlined
    functions) through a pass instance created for this run. The upstream pass keeps
    its (op, type) -> generated func.func map as a member that is never cleared, so a
    pass manager reused across modules (the JIT caches one per thread) calls functions
    of a module that no longer exists: found by the differential fuzzer as a crash in
    the second program with an integer pow compiled by the same thread.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::cf::ControlFlowDialect",
                           "mlir::func::FuncDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect", "mlir::LLVM::LLVMDialect"];
}

def AjitFuseProducerConsumer : Pass<"ajit-fuse-producer-consumer", "mlir::ModuleOp"> {
  let summary = "Group graph ops into ajit.fusion regions (producer-consumer, input and multi-output fusion)";
  let description = [{
    XLA-style instruction fusion on the graph IR. Elementwise chains, with the broadcasts,
    converts, reshapes and transposes between them, fuse into their consumer (`loop`
    fusions); the elementwise chain feeding a reduction fuses into the reduction's loop
    (`input` fusions: `sum(sin(x)**2 + cos(x)**2)` reads x once). A producer that is also
    used after the group's root is yielded by the group as well (multi-output), so one
    Adam step is one kernel. Cheap producers used elsewhere are recomputed in each group;
    expensive ones (transcendentals, division), reductions and matmuls are never
    recomputed, and neither is an expensive op that the loop would broadcast.
    With `report`, every decision that keeps an op out of a group, duplicates it or adds
    an output is a remark saying why.
  }];
  let options = [Option<"report", "report", "bool", "false",
                        "emit a remark for every refused, duplicated or multi-output producer">];
}

def AjitFuseSiblings : Pass<"ajit-fuse-siblings", "mlir::ModuleOp"> {
  let summary = "Merge loop fusions over the same shape that read a common input (sibling fusion)";
  let description = [{
    XLA's sibling multi-output fusion, after producer-consumer fusion: two `loop`
    fusions whose results all have one shape and that read a common value of that shape
    become one fusion yielding the results of both, so the value is read once. Lion's
    new parameter and new momentum both read m and g but share no op: two loops before,
    one after. The merged fusion takes the later one's place, so every user of the
    earlier one's results must follow the later one; that also rules out merging
    fusions that depend on each other.
    With `report`, each merge is a remark.
  }];
  let options = [Option<"report", "report", "bool", "false", "emit a remark for every merge">];
}

def AjitSplitReductions : Pass<"ajit-split-reductions", "mlir::ModuleOp"> {
  let summary = "Split a long reduction to a few values into parallel chunks and a combine";
  let description = [{
    After ajit-lower-fusions, on linalg generics on tensors: a kernel that reduces one
    axis of N >= 65536 elements to fewer than 8 values (a dot, a norm, a 1-D
    log_softmax's sum of exp) would otherwise run on one core. Its axis
    becomes (chunk, element) with K in [8, 64] chunks dividing N: the chunk loop is
    parallel, each chunk reduces into its own partial initialised with the combiner's
    neutral element, and a second small generic folds the partials into the original
    accumulator. Requires every output to be either reduced by one associative combiner
    (add, mul, max, min, and, or, xor) or written once per element without reading its
    old value (softmax's exp values beside their sum: the destination is viewed as
    K x N/K, so each chunk writes its own rows of it), work in the body besides the
    combiners (a bare sum already streams at memory speed on one core), and no
    linalg.index in the body. The PTX target splits into up to 1024 chunks (each becomes
    a block of threads), splits bare reductions too, and argmax / argmin
    (split-arg-reductions): per chunk a (value, index) pair with the index along the
    whole axis, then a second arg reduction over the K pairs in chunk order.
  }];
  let options = [Option<"maxChunks", "max-chunks", "int64_t", "64", "the most chunks a reduction is split into">,
                 Option<"splitBare", "split-bare", "bool", "false",
                        "also split reductions whose body is only the combiner">,
                 Option<"splitArgReductions", "split-arg-reductions", "bool", "false",
                        "also split argmax / argmin (ajit.arg_reduce): chunks of (value, index) pairs, then an arg reduction over them">];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def AjitLowerFusions : Pass<"ajit-lower-fusions", "mlir::ModuleOp"> {
  let summary = "Fuse the linalg ops of each ajit.fusion region into one loop nest, then dissolve the regions";
  let description = [{
    After `ajit-lower-to-linalg`, each fusion region holds linalg ops on tensors. Upstream
    elementwise fusion and reshape propagation run with a control function that accepts
    only a producer and a consumer of the same region, so the graph-level decisions (which
    ops share a loop, which are kept apart) are exactly what the loops implement. Each
    region then leaves one `linalg.generic` (a multi-output fusion yields several results
    from it) and the region is dissolved into its function.
    A generic fused from an argmax / argmin (ajit.arg_reduce) and its producers keeps the
    marker.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
}

def AjitPromoteLoopAccumulators : Pass<"ajit-promote-loop-accumulators"> {
  let summary = "Carry reduction accumulators through scf.for iter_args instead of memory";
  let description = [{
    After the loops are built: a load and a later store of the same memref element at
    loop-invariant indices, directly in an scf.for with a constant positive trip count,
    become an iter_arg loaded before the loop and stored after it, when every other
    memory access in the loop provably touches another buffer (LocalAliasAnalysis).
    LLVM does this itself where it can prove the buffers apart, but not inside the
    functions that convert-scf-to-openmp outlines, where a reduction that also stores
    per element (softmax's exp values beside their sum) would stay scalar.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::scf::SCFDialect"];
}

def AjitParallelizeOuterLoops : Pass<"ajit-parallelize-outer-loops", "mlir::ModuleOp"> {
  let summary = "Keep the outermost dimension of large loop nests parallel, make the rest sequential";
  let description = [{
    After `convert-linalg-to-parallel-loops`: a loop nest whose work (iterations of all of
    its dimensions, the sequential reduction loops included, times the ops of one
    iteration: 1 per arithmetic op or element loaded or stored, 4 per division or square
    root, 16 per transcendental) reaches `min-work` becomes
    `scf.parallel` over its outermost dimension only, with the other dimensions as
    `scf.for` inside, for convert-scf-to-openmp to split across threads. Smaller nests,
    and every nest when `min-work` is 0, become sequential loops.
  }];
  // 2^18, measured on 2 cores at one vs two threads: exp and tanh break even near 14-20K
  // elements (18 units each), an add near 45K (4 units); at 10K, exp, tanh and sigmoid ran
  // 25-30% slower split in two (2.3 -> 3.2, 3.0 -> 3.6, 3.3 -> 4.2 us).
  let options = [Option<"minWork", "min-work", "int64_t", "262144",
                        "work (iterations x op cost) from which a loop nest runs on several threads (0: never)">];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

def AjitTileMatmuls : Pass<"ajit-tile-matmuls", "mlir::ModuleOp"> {
  let summary = "f32 matmuls on buffers as a parallel loop of micro-kernel calls, epilogues applied per tile";
  let description = [{
    Each f32 `linalg.generic` marked `ajit.matmul` (identity-layout buffers) becomes an
    `scf.parallel` over output tiles (about 144 x 512; smaller when there are fewer than
    two per worker) whose body calls `ajit_uk_sgemm` (kernels/matmul/Sgemm.h) for the
    tile. With 8 rows or more, B is first packed into 32-column panels
    (`ajit_uk_sgemm_pack_b`, the panels split across the workers) in a buffer from the
    runtime's pool (`ajit_rt_buffer_acquire`/`_release`). An output fusion's epilogue
    (`ajit.matmul_epilogue`) is cloned onto the tile's subviews and reads the product
    from the tile of its own output, where the kernel wrote it: no temporary, no second
    pass over the product. The loops are marked `ajit.tile_loop` for
    ajit-parallelize-outer-loops to keep.
  }];
  let options = [Option<"threads", "threads", "int64_t", "0",
                        "workers the tiles are sized for (0: the host's hardware threads)">];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect", "mlir::memref::MemRefDialect"];
}

def AjitMapToGpu : Pass<"ajit-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Kernels on buffers (linalg, loops) as gpu.launch regions: block reductions, else a thread per output";
  let description = [{
    Runs on the bufferized public functions of the PTX target. Every other linalg op becomes a
    loop nest with its parallel dimensions first (an f64 `ajit.dot`'s (m, k, n) generic becomes
    (m, n, k): one thread per output element with the k loop inside). Then every
    top-level piece of work of the function (a loop nest, a store, a copy) is wrapped in
    its own `gpu.launch`:
    - a reduction whose innermost dimension is reduced, or with fewer than 4096 outputs,
      and at least 32 reduced elements per output, stays a generic until here and
      becomes one block per output element: the threads stride over the reduced
      elements, combine with `gpu.all_reduce`, and thread 0 folds the result into the
      output (outputs written once per element are stored in the loop); an argmax or
      argmin (`ajit.arg_reduce`) combines its per-thread (value, index) pairs as one
      packed 64-bit key through `gpu.all_reduce maxui`;
    - an f32 `ajit.matmul` generic (2-D or batched) becomes a tiled kernel: 128 x 128
      outputs per block of 256 threads, 8 x 8 per thread in registers, A and B tiles
      copied through double-buffered workgroup memory 8 k-steps at a time
      (GpuTiledMatmul.h); a constant fill of its output just before it is folded into
      the kernel (the accumulators start from the constant), and the kernel is
      recorded as needing two blocks per SM (`ajit.min_blocks_per_sm` on the module);
    - an `scf.parallel` nest is flattened to one linear index over all of its
      dimensions, the innermost fastest (neighbouring threads touch neighbouring
      elements: coalesced), in blocks of `block-size` threads, with a guard for the
      last block; its inner parallel loops run sequentially in the thread. Where the
      innermost count is a multiple of 4 and the body has no loops, each thread takes
      4 consecutive innermost elements: their loads and arithmetic first, then their
      stores, with the whole buffers marked 16-byte aligned (memref.assume_alignment),
      so that LLVM joins each group into one 16-byte access (ld/st.global.v4);
    - anything else (a 0-d store, a sequential loop) runs as a single thread.
    View ops, constants and index arithmetic the work uses are cloned into the launch,
    so gpu-kernel-outlining passes only whole buffers (function arguments and
    allocations) to the kernel. What is left in the function is allocations,
    deallocations and launches: the runtime's thunk sequence.
  }];
  let options = [Option<"blockSize", "block-size", "int64_t", "256",
                        "threads per block of a parallel loop nest">];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect", "mlir::linalg::LinalgDialect",
                           "mlir::affine::AffineDialect", "mlir::vector::VectorDialect"];
}

def AjitLowerGpuAllReduce : Pass<"ajit-lower-gpu-all-reduce", "mlir::ModuleOp"> {
  let summary = "Lower gpu.all_reduce in outlined kernels to warp shuffles and shared memory";
  let description = [{
    Upstream's all-reduce rewrite (populateGpuAllReducePatterns): each warp reduces with
    butterfly shuffles, warp leaders meet in a workgroup buffer of 32 values, and the
    first warp reduces those; then 64-bit shuffles are split into two 32-bit ones
    (populateGpuShufflePatterns), which is all NVVM's shfl.sync takes. Runs after
    gpu-kernel-outlining: the rewrite adds the buffer as a workgroup attribution of the
    gpu.func.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::cf::ControlFlowDialect"];
}

def AjitAlignWorkgroupBuffers : Pass<"ajit-align-workgroup-buffers", "mlir::ModuleOp"> {
  let summary = "Every workgroup attribution of a gpu.func 16-byte aligned (llvm.align)";
  let description = [{
    Sets `llvm.align = 16` on each workgroup attribution, which convert-gpu-to-nvvm
    gives the `.shared` global it makes; without it the global is aligned to its
    element only, and the 16-byte shared-memory loads of the tiled matmul stay four
    4-byte loads. Runs after gpu-kernel-outlining (gpu.launch carries no attribution
    attributes).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def AjitSetKernelOccupancy : Pass<"ajit-set-kernel-occupancy", "mlir::ModuleOp"> {
  let summary = "The blocks per SM ajit-map-to-gpu asked for, as nvvm.minctasm on the outlined kernels";
  let description = [{
    ajit-map-to-gpu records, in the module's `ajit.min_blocks_per_sm` dictionary, the
    kernels that must fit several blocks on one SM (the tiled matmul: two blocks of 256
    threads, so that one block's barrier wait overlaps the other's arithmetic). After
    gpu-kernel-outlining this pass sets `nvvm.minctasm` on each named gpu.func, which
    becomes PTX's `.minnctapersm`: with `.maxntid` it caps ptxas's registers per thread
    (65536 / (2 * 256) = 128), where unbounded it took 129 and one block per SM. The
    dictionary is then removed; a name with no kernel is an error.
  }];
  let dependentDialects = ["mlir::NVVM::NVVMDialect"];
}

def AjitNativeMathToLlvm : Pass<"ajit-native-math-to-llvm"> {
  let summary = "Math ops the GPU has instructions for as LLVM intrinsics, ahead of libdevice";
  let description = [{
    Rewrites f32 and f64 fma, absf, sqrt, copysign, floor, ceil, trunc and roundeven as
    `llvm.call_intrinsic` of the matching LLVM intrinsic (rsqrt as 1 / sqrt), leaving
    every other math op alone. Runs inside the gpu.module before convert-gpu-to-nvvm,
    whose libdevice patterns would otherwise turn them into calls to __nv_fmaf and the
    like (it also marks llvm.intr.fabs, llvm.intr.sqrt, ... illegal, hence the generic
    call op): calls that only resolve when nvvm/libdevice/libdevice.10.bc is found and linked
    (before this pass, PTX from a shell without CUDA_HOME failed ptxas with
    "Unresolved extern function '__nv_fmaf'"). NVPTX selects the intrinsics as
    fma.rn, abs, sqrt.rn (IEEE, as on the CPU), cvt.rmi and so on, so f32 kernels never
    need libdevice; only f64 transcendentals still call it.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::arith::ArithDialect"];
}

#endif
