// RUN: ajit-opt %s --split-input-file --ajit-promote-loop-accumulators | FileCheck %s

// A chunk of softmax's exp-and-sum: the partial sum (a fresh allocation) is carried in
// the loop, while the exp values go to another buffer: loaded once before, stored
// once after.
// CHECK-LABEL: func.func @sum_beside_values
// CHECK:       scf.for %[[I:.+]] = %c0 to %c4 step %c1 {
// CHECK:         %[[INIT:.+]] = memref.load %[[ACC:.+]][%[[I]]]
// CHECK:         %[[SUM:.+]] = scf.for %{{.+}} = %c0 to %c64 step %c1 iter_args(%[[S:.+]] = %[[INIT]]) -> (f32) {
// CHECK-NOT:       memref.load %[[ACC]]
// CHECK:           %[[T:.+]] = arith.addf %{{.+}}, %[[S]]
// CHECK-NOT:       memref.store %{{.+}}, %[[ACC]]
// CHECK:           memref.store %{{.+}}, %arg1
// CHECK:           scf.yield %[[T]]
// CHECK:         memref.store %[[SUM]], %[[ACC]][%[[I]]]
func.func @sum_beside_values(%x: memref<4x64xf32>, %e: memref<4x64xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %acc = memref.alloc() : memref<4xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %x[%i, %j] : memref<4x64xf32>
      %s = memref.load %acc[%i] : memref<4xf32>
      %x1 = math.exp %v : f32
      %t = arith.addf %x1, %s : f32
      memref.store %t, %acc[%i] : memref<4xf32>
      memref.store %x1, %e[%i, %j] : memref<4x64xf32>
    }
  }
  return %acc : memref<4xf32>
}

// -----

// no_promote: the accumulator and another stored buffer are both arguments (they may
// be one buffer); the index changes with the loop; a loop that may run zero times (the
// store after it would write where the loop never did); a call that may read the
// accumulator.
// CHECK-LABEL: func.func @no_promote
// CHECK-NOT:   iter_args
func.func private @opaque(memref<4xf32>)
func.func @no_promote(%x: memref<64xf32>, %acc: memref<4xf32>, %e: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %j = %c0 to %c64 step %c1 {
    %v = memref.load %x[%j] : memref<64xf32>
    %s = memref.load %acc[%c0] : memref<4xf32>
    %t = arith.addf %v, %s : f32
    memref.store %t, %acc[%c0] : memref<4xf32>
    memref.store %v, %e[%j] : memref<64xf32>
  }
  %own = memref.alloc() : memref<64xf32>
  scf.for %j = %c0 to %c64 step %c1 {
    %v = memref.load %x[%j] : memref<64xf32>
    %s = memref.load %own[%j] : memref<64xf32>
    %t = arith.addf %v, %s : f32
    memref.store %t, %own[%j] : memref<64xf32>
  }
  %part = memref.alloc() : memref<4xf32>
  scf.for %j = %c0 to %n step %c1 {
    %v = memref.load %x[%j] : memref<64xf32>
    %s = memref.load %part[%c0] : memref<4xf32>
    %t = arith.addf %v, %s : f32
    memref.store %t, %part[%c0] : memref<4xf32>
  }
  scf.for %j = %c0 to %c64 step %c1 {
    %v = memref.load %x[%j] : memref<64xf32>
    %s = memref.load %part[%c0] : memref<4xf32>
    %t = arith.addf %v, %s : f32
    memref.store %t, %part[%c0] : memref<4xf32>
    func.call @opaque(%part) : (memref<4xf32>) -> ()
  }
  return
}
