;; Linking across modules: `register` makes an instance's exports importable,
;; and functions, memories, tables and globals all link. Imports whose type
;; does not fit are `assert_unlinkable`.

(module $Lib
  (memory (export "mem") 1 4)
  (table (export "tab") 4 8 funcref)
  (global (export "counter") (mut i32) (i32.const 10))
  (global (export "base") i64 (i64.const 1000))
  (func $add (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func $forty-two (result i32) (i32.const 42))
  (func (export "bump") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1)))
    (global.get 0))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
  (elem (i32.const 1) $forty-two))
(register "lib" $Lib)

(module $User
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (import "lib" "mem" (memory 1))
  (import "lib" "tab" (table 4 funcref))
  (import "lib" "counter" (global $counter (mut i32)))
  (import "lib" "base" (global $base i64))
  (func $seven (result i32) (i32.const 7))
  (elem (i32.const 2) $seven)
  (func (export "sum") (param i32) (result i32) (call $add (local.get 0) (i32.const 100)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "counter") (result i32) (global.get $counter))
  (func (export "set-counter") (param i32) (global.set $counter (local.get 0)))
  (func (export "base") (result i64) (global.get $base))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))

;; Imported functions run in their own instance.
(assert_return (invoke $User "sum" (i32.const 1)) (i32.const 101))
(assert_return (invoke $User "sum" (i32.const -100)) (i32.const 0))

;; A memory is shared: a store through one instance is seen by the other.
(invoke $User "store" (i32.const 77) (i32.const 200))
(assert_return (invoke $Lib "load" (i32.const 77)) (i32.const 200))
(assert_return (invoke $User "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke $User "grow" (i32.const 3)) (i32.const -1))

;; A table is shared: the user's element segment wrote into the library's table.
(assert_return (invoke $Lib "call" (i32.const 2)) (i32.const 7))
(assert_return (invoke $User "call" (i32.const 1)) (i32.const 42))
(assert_trap (invoke $User "call" (i32.const 0)) "uninitialized element")
(assert_trap (invoke $User "call" (i32.const 4)) "undefined element")

;; A mutable global is shared; an immutable one is read.
(assert_return (invoke $User "counter") (i32.const 10))
(assert_return (invoke $Lib "bump") (i32.const 11))
(assert_return (invoke $User "counter") (i32.const 11))
(invoke $User "set-counter" (i32.const 500))
(assert_return (get $Lib "counter") (i32.const 500))
(assert_return (invoke $Lib "bump") (i32.const 501))
(assert_return (invoke $User "base") (i64.const 1000))
(assert_return (get $Lib "base") (i64.const 1000))

;; Function signatures must match exactly.
(assert_unlinkable
  (module (import "lib" "add" (func (param i32) (result i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "lib" "add" (func (param i64 i64) (result i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "lib" "add" (func (param i32 i32))))
  "incompatible import type")

;; Kinds must match.
(assert_unlinkable (module (import "lib" "add" (memory 1))) "incompatible import type")
(assert_unlinkable (module (import "lib" "mem" (func))) "incompatible import type")
(assert_unlinkable (module (import "lib" "tab" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "lib" "counter" (table 1 funcref))) "incompatible import type")

;; Limits must fit: the import's minimum at most the export's, maxima nested.
(assert_unlinkable (module (import "lib" "mem" (memory 3))) "incompatible import type")
(assert_unlinkable (module (import "lib" "mem" (memory 1 2))) "incompatible import type")
(assert_unlinkable (module (import "lib" "tab" (table 5 funcref))) "incompatible import type")
(assert_unlinkable (module (import "lib" "tab" (table 1 4 funcref))) "incompatible import type")
(assert_unlinkable (module (import "lib" "tab" (table 1 externref))) "incompatible import type")

;; Globals: the value type and the mutability must match.
(assert_unlinkable (module (import "lib" "counter" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "lib" "counter" (global (mut i64)))) "incompatible import type")
(assert_unlinkable (module (import "lib" "base" (global (mut i64)))) "incompatible import type")
(assert_unlinkable (module (import "lib" "base" (global f64))) "incompatible import type")

;; Looser limits do link.
(module (import "lib" "mem" (memory 1)) (import "lib" "tab" (table 0 funcref)))
(module (import "lib" "mem" (memory 0 8)) (import "lib" "tab" (table 2 16 funcref)))

;; A chain: a module re-exports an import, a third module imports it from there.
(module $Mid
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (export "plus" (func $add))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
(register "mid" $Mid)
(module $Top
  (import "mid" "plus" (func $plus (param i32 i32) (result i32)))
  (import "mid" "twice" (func $twice (param i32) (result i32)))
  (func (export "go") (param i32) (result i32)
    (call $plus (call $twice (local.get 0)) (i32.const 1))))
(assert_return (invoke $Top "go" (i32.const 20)) (i32.const 41))
(assert_return (invoke $Top "go" (i32.const -1)) (i32.const -1))
