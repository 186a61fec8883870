// --ajit-set-kernel-occupancy: the module's ajit.min_blocks_per_sm entries become
// nvvm.minctasm on the outlined kernels they name (PTX .minnctapersm); other kernels are
// left alone and the dictionary goes. A name with no kernel is an error.
// RUN: ajit-opt %s --split-input-file --verify-diagnostics --ajit-set-kernel-occupancy | FileCheck %s

// CHECK:       module attributes {gpu.container_module} {
// CHECK:       gpu.func @f_k0() kernel attributes {known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32}
// CHECK:       gpu.func @f_k1() kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
module attributes {gpu.container_module, ajit.min_blocks_per_sm = {f_k0 = 2 : i32}} {
  gpu.module @f_kernels {
    gpu.func @f_k0() kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
      gpu.return
    }
    gpu.func @f_k1() kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{ajit-set-kernel-occupancy: no kernel 'g_k3', or not an integer count of blocks}}
module attributes {gpu.container_module, ajit.min_blocks_per_sm = {g_k3 = 2 : i32}} {
  gpu.module @g_kernels {
    gpu.func @g_k0() kernel {
      gpu.return
    }
  }
}
