;; brine: max-memory 1MiB
;;
;; Resource limits. The comment line above gives this script a 1 MiB memory
;; limit (16 pages of 64 KiB): memory.grow past it returns -1, and a module
;; whose minimum is already larger cannot be instantiated. Deep recursion
;; traps with "call stack exhausted" instead of crashing the host.

(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "last-byte") (result i32)
    (i32.load8_u (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)))))

(assert_return (invoke "size") (i32.const 1))
(assert_return (invoke "grow" (i32.const 0)) (i32.const 1))
(assert_return (invoke "grow" (i32.const 14)) (i32.const 1))
(assert_return (invoke "size") (i32.const 15))
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "size") (i32.const 15))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 15))
(assert_return (invoke "size") (i32.const 16))
(assert_return (invoke "last-byte") (i32.const 0))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0x10000)) (i32.const -1))
(assert_return (invoke "grow" (i32.const -1)) (i32.const -1))
(assert_return (invoke "size") (i32.const 16))

;; A declared maximum below the limit is the tighter one.
(module
  (memory 1 3)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
(assert_return (invoke "grow" (i32.const 2)) (i32.const 1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))

;; Exactly the limit instantiates; one page more does not.
(module (memory 16))
(assert_trap (module (memory 17)) "resource limiter denied")
(assert_trap (module (memory 17 17)) "resource limiter denied")
(assert_trap (module (memory 65536)) "resource limiter denied")

;; The limit is per memory: several memories each get it.
(module
  (memory $a 16)
  (memory $b 16)
  (func (export "sizes") (result i32 i32) (memory.size $a) (memory.size $b))
  (func (export "grow-b") (result i32) (memory.grow $b (i32.const 1))))
(assert_return (invoke "sizes") (i32.const 16) (i32.const 16))
(assert_return (invoke "grow-b") (i32.const -1))

;; Tables: table.grow past the declared maximum returns -1.
(module
  (table $t 1 5 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t)))
(assert_return (invoke "grow" (i32.const 4)) (i32.const 1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "size") (i32.const 5))

;; Recursion: deep but finite recursion completes; unbounded recursion is
;; exhausted cleanly, and the instance stays usable.
(module
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
  (func $many-locals (export "many-locals") (param i32) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 1 (i64.extend_i32_u (local.get 0)))
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (local.get 1)
        (call $many-locals (i32.sub (local.get 0) (i32.const 1)))))))
  (func $loop (export "runaway") (param i64) (result i64)
    (call $loop (i64.add (local.get 0) (i64.const 1)))))
(assert_return (invoke "depth" (i32.const 50000)) (i32.const 50000))
(assert_return (invoke "many-locals" (i32.const 20000)) (i64.const 200010000))
(assert_exhaustion (invoke "depth" (i32.const 10000000)) "call stack exhausted")
(assert_exhaustion (invoke "many-locals" (i32.const -1)) "call stack exhausted")
(assert_exhaustion (invoke "runaway" (i64.const 0)) "call stack exhausted")
(assert_return (invoke "depth" (i32.const 3)) (i32.const 3))
