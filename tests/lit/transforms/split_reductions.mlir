// RUN: ajit-opt %s --split-input-file --ajit-split-reductions | FileCheck %s

// A dot product of 131072 elements: 64 chunks of 2048, the chunk loop parallel, each
// chunk summing into its own partial (0 to start), then one fold into the accumulator.
// CHECK-LABEL: func.func @dot
// CHECK-DAG:   %[[A:.+]] = tensor.expand_shape %arg0 {{\[\[}}0, 1]] output_shape [64, 2048]
// CHECK-DAG:   %[[B:.+]] = tensor.expand_shape %arg1 {{\[\[}}0, 1]] output_shape [64, 2048]
// CHECK-DAG:   %[[P:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<64xf32>)
// CHECK:       %[[PARTS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[A]], %[[B]] : {{.*}}) outs(%[[P]] : tensor<64xf32>)
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK:       linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PARTS]] : tensor<64xf32>) outs(%arg2 : tensor<f32>)
// CHECK:         arith.addf
func.func @dot(%a: tensor<131072xf32>, %b: tensor<131072xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%a, %b : tensor<131072xf32>, tensor<131072xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %s: f32):
    %p = arith.mulf %x, %y : f32
    %t = arith.addf %p, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// A max norm (abs, then max): the partials start at the max's neutral element, -inf.
// CHECK-LABEL: func.func @norm_linf
// CHECK:       arith.constant 0xFF800000 : f32
// CHECK:       iterator_types = ["parallel", "reduction"]
// CHECK:       arith.maximumf
func.func @norm_linf(%a: tensor<100000xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%a : tensor<100000xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %s: f32):
    %m = math.absf %x : f32
    %t = arith.maximumf %m, %s : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// softmax's exp values beside their sum: the per-element output is the destination
// viewed as 64 x 2048 (no temporary), each chunk writing its own rows; the result is
// that view collapsed back.
// CHECK-LABEL: func.func @sum_and_values
// CHECK-DAG:   %[[X:.+]] = tensor.expand_shape %arg0 {{\[\[}}0, 1]] output_shape [64, 2048]
// CHECK-DAG:   %[[O:.+]] = tensor.expand_shape %arg2 {{\[\[}}0, 1]] output_shape [64, 2048]
// CHECK:       %[[R:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : {{.*}}) outs(%{{.+}}, %[[O]] : tensor<64xf32>, tensor<64x2048xf32>)
// CHECK:         math.exp
// CHECK:       %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[R]]#0 : tensor<64xf32>) outs(%arg1 : tensor<f32>)
// CHECK:       %[[E:.+]] = tensor.collapse_shape %[[R]]#1 {{\[\[}}0, 1]] : tensor<64x2048xf32> into tensor<131072xf32>
// CHECK:       return %[[SUM]], %[[E]]
func.func @sum_and_values(%a: tensor<131072xf32>, %acc: tensor<f32>, %out: tensor<131072xf32>)
    -> (tensor<f32>, tensor<131072xf32>) {
  %both:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                            iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%acc, %out : tensor<f32>, tensor<131072xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %e = math.exp %x : f32
    %t = arith.addf %e, %s fastmath<reassoc> : f32
    linalg.yield %t, %e : f32, f32
  } -> (tensor<f32>, tensor<131072xf32>)
  return %both#0, %both#1 : tensor<f32>, tensor<131072xf32>
}

// -----

// no_split: a bare sum streams at memory speed on one core; too few elements; an output
// written per element that also reads its old value; a loop index read in the body.
// CHECK-LABEL: func.func @no_split
// CHECK-NOT:   tensor.expand_shape
// CHECK-NOT:   "parallel", "reduction"
func.func @no_split(%a: tensor<131072xf32>, %small: tensor<4096xf32>, %acc: tensor<f32>, %out: tensor<131072xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<131072xf32>, tensor<f32>) {
  %both:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                            iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%acc, %out : tensor<f32>, tensor<131072xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %e = math.exp %x : f32
    %t = arith.addf %e, %s fastmath<reassoc> : f32
    %w = arith.addf %e, %o : f32
    linalg.yield %t, %w : f32, f32
  } -> (tensor<f32>, tensor<131072xf32>)
  %bare = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %s: f32):
    %t = arith.addf %x, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  %short = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%small : tensor<4096xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %s: f32):
    %e = math.exp %x : f32
    %t = arith.addf %e, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  %indexed = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %s: f32):
    %i = linalg.index 0 : index
    %n = arith.index_cast %i : index to i32
    %f = arith.sitofp %n : i32 to f32
    %p = arith.mulf %x, %f : f32
    %t = arith.addf %p, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %bare, %short, %both#0, %both#1, %indexed : tensor<f32>, tensor<f32>, tensor<f32>, tensor<131072xf32>, tensor<f32>
}

// -----

// The PTX target's options: a bare sum is split too, into as many as 1024 chunks (a
// block of threads each): 131072 = 1024 x 128.
// RUN: ajit-opt %s --split-input-file --ajit-split-reductions="max-chunks=1024 split-bare=1" | FileCheck %s --check-prefix=GPU
// GPU-LABEL: func.func @bare_sum
// GPU:         %[[X:.+]] = tensor.expand_shape %arg0 {{\[\[}}0, 1]] output_shape [1024, 128]
// GPU:         %[[PARTS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : {{.*}}) outs(%{{.+}} : tensor<1024xf32>)
// GPU:         linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PARTS]] : tensor<1024xf32>) outs(%arg1 : tensor<f32>)
func.func @bare_sum(%a: tensor<131072xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %s: f32):
    %t = arith.addf %x, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// An argmax of 131072 elements (split-arg-reductions): 1024 chunks of 128, each a
// (value, index) pair whose index counts from the start of the axis (chunk * 128 +
// element), then an arg reduction over the 1024 pairs in chunk order taking the pair's
// index (the first chunk always wins, later ones when strictly better). Without the
// option the argmax stays whole.
// RUN: ajit-opt %s --split-input-file --ajit-split-reductions="max-chunks=1024 split-arg-reductions=1" | FileCheck %s --check-prefix=ARG
// RUN: ajit-opt %s --split-input-file --ajit-split-reductions="max-chunks=1024" | FileCheck %s --check-prefix=WHOLE
// ARG-LABEL: func.func @argmax_long
// ARG-DAG:     %[[X:.+]] = tensor.expand_shape %arg0 {{\[\[}}0, 1]] output_shape [1024, 128]
// ARG-DAG:     %[[V0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1024xf32>)
// ARG-DAG:     %[[I0:.+]] = linalg.fill ins(%{{.+}} : i64) outs(%{{.+}} : tensor<1024xi64>)
// ARG:         %[[P:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : {{.*}}) outs(%[[V0]], %[[I0]] : {{.*}}) attrs = {ajit.arg_reduce = "max"}
// ARG:           %[[C:.+]] = linalg.index 0
// ARG:           %[[E:.+]] = linalg.index 1
// ARG:           %[[BASE:.+]] = arith.muli %[[C]], %c128
// ARG:           %[[AT:.+]] = arith.addi %[[BASE]], %[[E]]
// ARG:           arith.index_cast %[[AT]] : index to i64
// ARG:         linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[P]]#0, %[[P]]#1 : tensor<1024xf32>, tensor<1024xi64>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<i64>) attrs = {ajit.arg_reduce = "max"}
// ARG-NEXT:    ^bb0(%[[V:.+]]: f32, %[[I:.+]]: i64, %[[BEST:.+]]: f32, %[[BESTI:.+]]: i64):
// ARG:           %[[K:.+]] = linalg.index 0
// ARG:           %[[KI:.+]] = arith.index_cast %[[K]]
// ARG:           %[[FIRST:.+]] = arith.cmpi eq, %[[KI]], %c0_i64
// ARG:           %[[TAKE:.+]] = arith.ori %{{.+}}, %[[FIRST]]
// ARG:           %[[NV:.+]] = arith.select %[[TAKE]], %[[V]], %[[BEST]]
// ARG:           %[[NI:.+]] = arith.select %[[TAKE]], %[[I]], %[[BESTI]]
// ARG:           linalg.yield %[[NV]], %[[NI]]
// WHOLE-LABEL: func.func @argmax_long
// WHOLE-NOT:     tensor.expand_shape
func.func @argmax_long(%a: tensor<131072xf32>) -> (tensor<f32>, tensor<i64>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i64
  %ev = tensor.empty() : tensor<f32>
  %v0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<f32>) -> tensor<f32>
  %ei = tensor.empty() : tensor<i64>
  %i0 = linalg.fill ins(%zero : i64) outs(%ei : tensor<i64>) -> tensor<i64>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%v0, %i0 : tensor<f32>, tensor<i64>) attrs = {ajit.arg_reduce = "max"} {
  ^bb0(%x: f32, %b: f32, %bi: i64):
    %j = linalg.index 0 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %x, %b : f32
    %first = arith.cmpi eq, %ji, %zero : i64
    %take = arith.ori %gt, %first : i1
    %v = arith.select %take, %x, %b : f32
    %k = arith.select %take, %ji, %bi : i64
    linalg.yield %v, %k : f32, i64
  } -> (tensor<f32>, tensor<i64>)
  return %r#0, %r#1 : tensor<f32>, tensor<i64>
}

// -----

// An argmax whose body compares a function of the element (a fused negation) is not
// split: the fold would apply the function again to the chunks' winners.
// ARG-LABEL: func.func @argmax_of_neg
// WHOLE-LABEL: func.func @argmax_of_neg
// ARG-NOT:     tensor.expand_shape
// ARG:         linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg0 : tensor<131072xf32>)
func.func @argmax_of_neg(%a: tensor<131072xf32>) -> (tensor<f32>, tensor<i64>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i64
  %ev = tensor.empty() : tensor<f32>
  %v0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<f32>) -> tensor<f32>
  %ei = tensor.empty() : tensor<i64>
  %i0 = linalg.fill ins(%zero : i64) outs(%ei : tensor<i64>) -> tensor<i64>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%a : tensor<131072xf32>) outs(%v0, %i0 : tensor<f32>, tensor<i64>) attrs = {ajit.arg_reduce = "max"} {
  ^bb0(%x: f32, %b: f32, %bi: i64):
    %y = arith.negf %x : f32
    %j = linalg.index 0 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %y, %b : f32
    %first = arith.cmpi eq, %ji, %zero : i64
    %take = arith.ori %gt, %first : i1
    %v = arith.select %take, %y, %b : f32
    %k = arith.select %take, %ji, %bi : i64
    linalg.yield %v, %k : f32, i64
  } -> (tensor<f32>, tensor<i64>)
  return %r#0, %r#1 : tensor<f32>, tensor<i64>
}

// -----

// A prime length, 100003: no divisor to split by. The CPU's 64 chunks take the first
// 64 x 1560 elements (1560 a multiple of 4), their partials fold into the accumulator,
// and the original generic reduces the 163-element tail last, starting from the fold.
// CHECK-LABEL: func.func @dot_prime
// CHECK-DAG:   %[[AH:.+]] = tensor.extract_slice %arg0[0] [99840] [1]
// CHECK-DAG:   %[[A:.+]] = tensor.expand_shape %[[AH]] {{\[\[}}0, 1]] output_shape [64, 1560]
// CHECK-DAG:   %[[BH:.+]] = tensor.extract_slice %arg1[0] [99840] [1]
// CHECK:       %[[PARTS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[A]], %{{.+}} : {{.*}}) outs(%{{.+}} : tensor<64xf32>)
// CHECK:       %[[FOLD:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PARTS]] : tensor<64xf32>) outs(%arg2 : tensor<f32>)
// CHECK-DAG:   %[[AT:.+]] = tensor.extract_slice %arg0[99840] [163] [1]
// CHECK-DAG:   %[[BT:.+]] = tensor.extract_slice %arg1[99840] [163] [1]
// CHECK:       %[[ALL:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[AT]], %[[BT]] : tensor<163xf32>, tensor<163xf32>) outs(%[[FOLD]] : tensor<f32>)
// CHECK:         arith.mulf
// CHECK:       return %[[ALL]]
// GPU-LABEL: func.func @dot_prime
// GPU:         tensor.expand_shape %{{.+}} {{\[\[}}0, 1]] output_shape [1024, 96]
// GPU:         tensor.extract_slice %arg0[98304] [1699] [1]
func.func @dot_prime(%a: tensor<100003xf32>, %b: tensor<100003xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%a, %b : tensor<100003xf32>, tensor<100003xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %s: f32):
    %p = arith.mulf %x, %y : f32
    %t = arith.addf %p, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// 8 x a prime: the divisor 8 would make 8 blocks on the GPU; a divisor below a
// quarter of max-chunks is passed over for max-chunks chunks and a tail. The exp
// values written beside the sum: the chunks write the head's part of the output
// (viewed as 1024 x 780), the tail its own part, each inserted into the output.
// GPU-LABEL: func.func @sum_and_values_8p
// GPU-DAG:     %[[OH:.+]] = tensor.extract_slice %arg2[0] [798720] [1]
// GPU-DAG:     %[[O:.+]] = tensor.expand_shape %[[OH]] {{\[\[}}0, 1]] output_shape [1024, 780]
// GPU:         %[[R:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.+}} : tensor<1024x780xf32>) outs(%{{.+}}, %[[O]] : tensor<1024xf32>, tensor<1024x780xf32>)
// GPU:         %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[R]]#0 : tensor<1024xf32>) outs(%arg1 : tensor<f32>)
// GPU:         %[[HEAD:.+]] = tensor.collapse_shape %[[R]]#1
// GPU:         %[[W:.+]] = tensor.insert_slice %[[HEAD]] into %arg2[0] [798720] [1]
// GPU:         %[[XT:.+]] = tensor.extract_slice %arg0[798720] [1304] [1]
// GPU:         %[[OT:.+]] = tensor.extract_slice %[[W]][798720] [1304] [1]
// GPU:         %[[T:.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[XT]] : tensor<1304xf32>) outs(%[[SUM]], %[[OT]] : tensor<f32>, tensor<1304xf32>)
// GPU:         %[[ALL:.+]] = tensor.insert_slice %[[T]]#1 into %[[W]][798720] [1304] [1]
// GPU:         return %[[T]]#0, %[[ALL]]
func.func @sum_and_values_8p(%a: tensor<800024xf32>, %acc: tensor<f32>, %out: tensor<800024xf32>)
    -> (tensor<f32>, tensor<800024xf32>) {
  %both:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                            iterator_types = ["reduction"]}
      ins(%a : tensor<800024xf32>) outs(%acc, %out : tensor<f32>, tensor<800024xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %e = math.exp %x : f32
    %t = arith.addf %e, %s fastmath<reassoc> : f32
    linalg.yield %t, %e : f32, f32
  } -> (tensor<f32>, tensor<800024xf32>)
  return %both#0, %both#1 : tensor<f32>, tensor<800024xf32>
}

// -----

// An argmax of a prime length: the chunks' pairs fold first, then the original body
// reduces the tail from the folded pair, its linalg.index counting from the tail's
// start in the whole axis (98304 on): a tail element wins only when strictly better.
// ARG-LABEL: func.func @argmax_prime
// ARG:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.+}} : tensor<1024x96xf32>)
// ARG:         %[[F:.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1024xf32>, tensor<1024xi64>)
// ARG:         %[[XT:.+]] = tensor.extract_slice %arg0[98304] [1699] [1]
// ARG:         %[[T:.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[XT]] : tensor<1699xf32>) outs(%[[F]]#0, %[[F]]#1 : tensor<f32>, tensor<i64>) attrs = {ajit.arg_reduce = "max"}
// ARG:           %[[J:.+]] = linalg.index 0
// ARG:           %[[AT:.+]] = arith.addi %[[J]], %c98304
// ARG:           arith.index_cast %[[AT]] : index to i64
// ARG:         return %[[T]]#0, %[[T]]#1
func.func @argmax_prime(%a: tensor<100003xf32>) -> (tensor<f32>, tensor<i64>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i64
  %ev = tensor.empty() : tensor<f32>
  %v0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<f32>) -> tensor<f32>
  %ei = tensor.empty() : tensor<i64>
  %i0 = linalg.fill ins(%zero : i64) outs(%ei : tensor<i64>) -> tensor<i64>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%a : tensor<100003xf32>) outs(%v0, %i0 : tensor<f32>, tensor<i64>) attrs = {ajit.arg_reduce = "max"} {
  ^bb0(%x: f32, %b: f32, %bi: i64):
    %j = linalg.index 0 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %x, %b : f32
    %first = arith.cmpi eq, %ji, %zero : i64
    %take = arith.ori %gt, %first : i1
    %v = arith.select %take, %x, %b : f32
    %k = arith.select %take, %ji, %bi : i64
    linalg.yield %v, %k : f32, i64
  } -> (tensor<f32>, tensor<i64>)
  return %r#0, %r#1 : tensor<f32>, tensor<i64>
}

// -----

// An operand of dynamic shape (the loop ranges static through the other input): not
// split (the slices are built with static sizes).
// CHECK-LABEL: func.func @dynamic_operand
// CHECK-NOT:   tensor.extract_slice
// CHECK-NOT:   tensor.expand_shape
func.func @dynamic_operand(%a: tensor<2x100003xf32>, %b: tensor<?x100003xf32>, %acc: tensor<2xf32>) -> tensor<2xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%a, %b : tensor<2x100003xf32>, tensor<?x100003xf32>) outs(%acc : tensor<2xf32>) {
  ^bb0(%x: f32, %y: f32, %s: f32):
    %p = arith.mulf %x, %y : f32
    %t = arith.addf %p, %s fastmath<reassoc> : f32
    linalg.yield %t : f32
  } -> tensor<2xf32>
  return %r : tensor<2xf32>
}
