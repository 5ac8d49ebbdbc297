;; Bulk memory: memory.fill, memory.copy (overlapping both ways),
;; memory.init and data.drop on passive segments, table.init, elem.drop
;; and table.copy, with their bounds checks.

(module
  (memory (export "mem") 1)
  (data $hello "hello")
  (data $digits "0123456789")
  (data (i32.const 100) "\01\02\03\04\05\06\07\08")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-hello") (param i32 i32 i32) (memory.init $hello (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-digits") (param i32 i32 i32) (memory.init $digits (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop-hello") (data.drop $hello)))

;; fill: the value is truncated to a byte; length 0 at the very end is fine.
(invoke "fill" (i32.const 10) (i32.const 0x1ff) (i32.const 4))
(assert_return (invoke "load32" (i32.const 10)) (i32.const -1))
(assert_return (invoke "load8" (i32.const 14)) (i32.const 0))
(invoke "fill" (i32.const 65536) (i32.const 1) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 1) (i32.const 0)) "out of bounds memory access")
;; A fill that does not fit writes nothing.
(assert_trap (invoke "fill" (i32.const 65530) (i32.const 7) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65530)) (i32.const 0))

;; copy: overlapping ranges behave like memmove in both directions.
(invoke "copy" (i32.const 102) (i32.const 100) (i32.const 6))
(assert_return (invoke "load8" (i32.const 101)) (i32.const 2))
(assert_return (invoke "load8" (i32.const 102)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 107)) (i32.const 6))
(invoke "copy" (i32.const 100) (i32.const 102) (i32.const 6))
(assert_return (invoke "load8" (i32.const 100)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 105)) (i32.const 6))
(assert_return (invoke "load8" (i32.const 107)) (i32.const 6))
(invoke "copy" (i32.const 65536) (i32.const 0) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65537) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 65000) (i32.const 0) (i32.const 1000)) "out of bounds memory access")

;; init: copies part of a passive segment; bounds on both sides.
(invoke "init-hello" (i32.const 200) (i32.const 1) (i32.const 4))
(assert_return (invoke "load32" (i32.const 200)) (i32.const 0x6f6c6c65))
(invoke "init-digits" (i32.const 300) (i32.const 9) (i32.const 1))
(assert_return (invoke "load8" (i32.const 300)) (i32.const 0x39))
(invoke "init-digits" (i32.const 300) (i32.const 10) (i32.const 0))
(assert_trap (invoke "init-digits" (i32.const 300) (i32.const 11) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init-digits" (i32.const 65535) (i32.const 0) (i32.const 2)) "out of bounds memory access")
;; Dropping a segment empties it; dropping twice is fine; the other segment stays.
(invoke "drop-hello")
(invoke "drop-hello")
(invoke "init-hello" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init-hello" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(invoke "init-digits" (i32.const 400) (i32.const 0) (i32.const 4))
(assert_return (invoke "load32" (i32.const 400)) (i32.const 0x33323130))

;; Tables: passive element segments, table.init, elem.drop, table.copy.
(module
  (type $r (func (result i32)))
  (table $t 6 funcref)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 3))
  (elem $seg func $one $two $three)
  (elem $declared declare func $one)
  (elem (table $t) (i32.const 5) func $three)
  (func (export "init") (param i32 i32 i32) (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $seg))
  (func (export "copy") (param i32 i32 i32) (table.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call") (param i32) (result i32) (call_indirect $t (type $r) (local.get 0)))
  (func (export "is-null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0)))))

(assert_return (invoke "call" (i32.const 5)) (i32.const 3))
(assert_return (invoke "is-null" (i32.const 0)) (i32.const 1))
(invoke "init" (i32.const 0) (i32.const 0) (i32.const 3))
(assert_return (invoke "call" (i32.const 0)) (i32.const 1))
(assert_return (invoke "call" (i32.const 2)) (i32.const 3))
(invoke "init" (i32.const 3) (i32.const 1) (i32.const 1))
(assert_return (invoke "call" (i32.const 3)) (i32.const 2))
(assert_trap (invoke "init" (i32.const 4) (i32.const 0) (i32.const 3)) "out of bounds table access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 2) (i32.const 2)) "out of bounds table access")
(assert_return (invoke "is-null" (i32.const 4)) (i32.const 1))
;; Overlapping table.copy, both directions.
(invoke "copy" (i32.const 1) (i32.const 0) (i32.const 3))
(assert_return (invoke "call" (i32.const 1)) (i32.const 1))
(assert_return (invoke "call" (i32.const 3)) (i32.const 3))
(invoke "copy" (i32.const 0) (i32.const 2) (i32.const 4))
(assert_return (invoke "call" (i32.const 0)) (i32.const 2))
(assert_return (invoke "call" (i32.const 1)) (i32.const 3))
(assert_return (invoke "call" (i32.const 3)) (i32.const 3))
(assert_trap (invoke "copy" (i32.const 5) (i32.const 0) (i32.const 2)) "out of bounds table access")
(invoke "copy" (i32.const 6) (i32.const 0) (i32.const 0))
;; After elem.drop only empty inits succeed.
(invoke "drop")
(invoke "init" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds table access")
(assert_return (invoke "call" (i32.const 0)) (i32.const 2))

;; Active segments are dropped after instantiation: memory.init on one traps
;; unless empty, and data.drop on one is allowed.
(module
  (memory 1)
  (data $active (i32.const 0) "xyz")
  (func (export "init") (param i32) (memory.init $active (i32.const 0) (i32.const 0) (local.get 0)))
  (func (export "drop") (data.drop $active)))
(invoke "init" (i32.const 0))
(assert_trap (invoke "init" (i32.const 1)) "out of bounds memory access")
(invoke "drop")

;; data.drop needs a data count section; validation rejects bad indices.
(assert_invalid (module (func (data.drop 0))) "unknown data segment")
(assert_invalid (module (memory 1) (func (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 0))) (data "a")) "unknown data segment")
(assert_invalid (module (func (elem.drop 0))) "unknown elem segment")
(assert_invalid (module (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown memory")
