;; The post-2.0 proposals wasmi implements and brine enables: tail calls,
;; extended constant expressions, multi-memory, memory64, custom page sizes,
;; wide arithmetic and relaxed SIMD.

;; Tail calls: a million-deep tail recursion runs in constant stack, and
;; mutual recursion goes through return_call and return_call_indirect.
(module
  (type $p (func (param i64) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $even)
  (func $sum (export "sum") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $sum (i64.sub (local.get 0) (i64.const 1))
                              (i64.add (local.get 1) (local.get 0))))))
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect (type $p) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0))))))
(assert_return (invoke "sum" (i64.const 1000000) (i64.const 0)) (i64.const 500000500000))
(assert_return (invoke "even" (i64.const 1001)) (i32.const 0))
(assert_return (invoke "even" (i64.const 200000)) (i32.const 1))

;; Extended constant expressions.
(module
  (global $base (import "spectest" "global_i32") i32)
  (global (export "g") i32 (i32.add (global.get $base) (i32.mul (i32.const 2) (i32.const 3))))
  (global (export "h") i64 (i64.sub (i64.const 0) (i64.const 1)))
  (memory 1)
  (data (i32.sub (i32.const 100) (i32.const 1)) "\05")
  (func (export "byte") (result i32) (i32.load8_u (i32.const 99))))
(assert_return (get "g") (i32.const 672))
(assert_return (get "h") (i64.const -1))
(assert_return (invoke "byte") (i32.const 5))

;; Multi-memory: independent memories, copies between them.
(module
  (memory $a 1)
  (memory $b 2)
  (data (memory $b) (i32.const 0) "\2a")
  (func (export "sizes") (result i32 i32) (memory.size $a) (memory.size $b))
  (func (export "copy-b-to-a") (memory.copy $a $b (i32.const 10) (i32.const 0) (i32.const 1)))
  (func (export "a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
  (func (export "b") (param i32) (result i32) (i32.load8_u $b (local.get 0))))
(assert_return (invoke "sizes") (i32.const 1) (i32.const 2))
(assert_return (invoke "a" (i32.const 10)) (i32.const 0))
(invoke "copy-b-to-a")
(assert_return (invoke "a" (i32.const 10)) (i32.const 42))
(assert_return (invoke "b" (i32.const 70000)) (i32.const 0))
(assert_trap (invoke "a" (i32.const 70000)) "out of bounds memory access")

;; memory64: 64-bit addresses and sizes.
(module
  (memory i64 1)
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0))))
(assert_return (invoke "size") (i64.const 1))
(invoke "store" (i64.const 65532) (i32.const 7))
(assert_return (invoke "load" (i64.const 65532)) (i32.const 7))
(assert_trap (invoke "load" (i64.const 0x1_0000_0000)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const -1)) "out of bounds memory access")
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0000_0000)) (i64.const -1))

;; Custom page sizes: a memory of 1-byte pages.
(module
  (memory 3 (pagesize 1))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_return (invoke "size") (i32.const 3))
(assert_return (invoke "load" (i32.const 2)) (i32.const 0))
(assert_trap (invoke "load" (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 5)) (i32.const 3))
(assert_return (invoke "load" (i32.const 7)) (i32.const 0))

;; Wide arithmetic: 128-bit add/sub and widening multiplies.
(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "mul_wide_u") (param i64 i64) (result i64 i64)
    (i64.mul_wide_u (local.get 0) (local.get 1)))
  (func (export "mul_wide_s") (param i64 i64) (result i64 i64)
    (i64.mul_wide_s (local.get 0) (local.get 1))))
(assert_return (invoke "add128" (i64.const -1) (i64.const 0) (i64.const 1) (i64.const 0)) (i64.const 0) (i64.const 1))
(assert_return (invoke "mul_wide_u" (i64.const -1) (i64.const -1)) (i64.const 1) (i64.const -2))
(assert_return (invoke "mul_wide_s" (i64.const -1) (i64.const -1)) (i64.const 1) (i64.const 0))

;; Relaxed SIMD: results may be any of the allowed answers.
(module
  (func (export "madd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "min") (param v128 v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 1))))
(assert_return (invoke "madd" (v128.const f32x4 2 3 4 5) (v128.const f32x4 10 10 10 10) (v128.const f32x4 1 1 1 1))
  (v128.const f32x4 21 31 41 51))
(assert_return (invoke "min" (v128.const f32x4 -0 1 2 3) (v128.const f32x4 0 0 0 0))
  (either (v128.const f32x4 -0 0 0 0) (v128.const f32x4 0 0 0 0)))
