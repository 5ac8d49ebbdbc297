;; Every trap kind WebAssembly has, at run time and during instantiation.

(module
  (type $i2i (func (param i32) (result i32)))
  (type $v2v (func))
  (memory 1 1)
  (table $t 4 funcref)
  (table $small 2 funcref)
  (elem (table $t) (i32.const 0) func $id $nop)
  (data $passive "abcd")
  (elem $passive_elem func $id)
  (func $id (param i32) (result i32) (local.get 0))
  (func $nop)
  (func (export "unreachable") (unreachable))
  (func (export "unreachable-in-block") (result i32)
    (block (result i32) (i32.const 1) (br_if 0 (i32.const 0)) (drop) (unreachable)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load-offset") (param i32) (result i64) (i64.load offset=65520 (local.get 0)))
  (func (export "store") (param i32) (i32.store16 (local.get 0) (i32.const 1)))
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0) (local.get 1)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $passive))
  (func (export "table-get") (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (export "table-set") (param i32) (table.set $t (local.get 0) (ref.null func)))
  (func (export "table-init") (param i32 i32 i32) (table.init $small $passive_elem (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect $t (type $i2i) (local.get 1) (local.get 0)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "trunc_f32") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "trunc_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
  (func (export "trunc_sat") (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0)))
  (func $down (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $forever (export "forever") (call $forever))
  (func $ping (export "ping") (call $pong))
  (func $pong (call $ping)))

(assert_trap (invoke "unreachable") "unreachable")
(assert_trap (invoke "unreachable-in-block") "unreachable")

;; Memory bounds: the effective address is base + offset, unsigned.
(assert_return (invoke "load" (i32.const 65532)) (i32.const 0))
(assert_trap (invoke "load" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke "load" (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load-offset" (i32.const 8)) (i64.const 0))
(assert_trap (invoke "load-offset" (i32.const 9)) "out of bounds memory access")
(assert_trap (invoke "load-offset" (i32.const -16)) "out of bounds memory access")
(assert_trap (invoke "load-offset" (i32.const 0x7fffffff)) "out of bounds memory access")
(assert_trap (invoke "store" (i32.const 65535)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 65000) (i32.const 537)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65535) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 65535) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 2) (i32.const 3)) "out of bounds memory access")
(invoke "init" (i32.const 0) (i32.const 2) (i32.const 2))
(invoke "drop")
;; After data.drop the segment has length 0: only empty inits succeed.
(invoke "init" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")

;; Table bounds and contents.
(assert_trap (invoke "table-get" (i32.const 4)) "out of bounds table access")
(assert_trap (invoke "table-set" (i32.const 4)) "out of bounds table access")
(assert_trap (invoke "table-init" (i32.const 2) (i32.const 0) (i32.const 1)) "out of bounds table access")
(assert_trap (invoke "table-init" (i32.const 0) (i32.const 1) (i32.const 1)) "out of bounds table access")
(assert_return (invoke "call" (i32.const 0) (i32.const 5)) (i32.const 5))
(assert_trap (invoke "call" (i32.const 1) (i32.const 5)) "indirect call type mismatch")
(assert_trap (invoke "call" (i32.const 2) (i32.const 5)) "uninitialized element")
(assert_trap (invoke "call" (i32.const 4) (i32.const 5)) "undefined element")
(assert_trap (invoke "call" (i32.const -1) (i32.const 5)) "undefined element")

;; Integer arithmetic.
(assert_trap (invoke "div_s" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div_u" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "rem_s" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "rem_u64" (i64.const 1) (i64.const 0)) "integer divide by zero")
(assert_trap (invoke "div_s" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
(assert_trap (invoke "div_s64" (i64.const 0x8000000000000000) (i64.const -1)) "integer overflow")
(assert_return (invoke "rem_s" (i32.const 0x80000000) (i32.const -1)) (i32.const 0))
(assert_return (invoke "div_u" (i32.const 0x80000000) (i32.const -1)) (i32.const 0))

;; Float to integer conversion.
(assert_trap (invoke "trunc_f32" (f32.const nan)) "invalid conversion to integer")
(assert_trap (invoke "trunc_f32" (f32.const 2147483648)) "integer overflow")
(assert_trap (invoke "trunc_f32" (f32.const -inf)) "integer overflow")
(assert_return (invoke "trunc_f32" (f32.const -2147483648)) (i32.const 0x80000000))
(assert_trap (invoke "trunc_f64_u" (f64.const -1)) "integer overflow")
(assert_return (invoke "trunc_f64_u" (f64.const -0.9)) (i64.const 0))
(assert_return (invoke "trunc_sat" (f32.const nan)) (i32.const 0))
(assert_return (invoke "trunc_sat" (f32.const 1e10)) (i32.const 0x7fffffff))

;; The call stack.
(assert_return (invoke "recurse" (i32.const 1000)) (i32.const 1000))
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_exhaustion (invoke "ping") "call stack exhausted")
;; The instance still works after exhaustion.
(assert_return (invoke "recurse" (i32.const 10)) (i32.const 10))

;; Traps during instantiation: out-of-bounds segments and a trapping start.
(assert_trap
  (module (memory 1) (data (i32.const 65535) "ab"))
  "out of bounds memory access")
(assert_trap
  (module (table 1 funcref) (func $f) (elem (i32.const 1) $f))
  "out of bounds table access")
(assert_trap
  (module (func $start (unreachable)) (start $start))
  "unreachable")
(assert_trap
  (module (func $start (drop (i32.div_u (i32.const 1) (i32.const 0)))) (start $start))
  "integer divide by zero")

;; Segments are written in order up to the failing one (WebAssembly 2.0):
;; the first data segment lands in the shared memory although the module fails.
(module $Mem (memory (export "mem") 1) (func (export "peek") (result i32) (i32.load8_u (i32.const 7))))
(register "M" $Mem)
(assert_trap
  (module (import "M" "mem" (memory 1))
    (data (i32.const 7) "\2a")
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $Mem "peek") (i32.const 42))
