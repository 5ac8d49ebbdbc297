;; Reference types: externref values passed in and out (`ref.extern N`),
;; null references, ref.is_null, ref.func, tables of both kinds, several
;; tables, table.grow/size/fill, typed select and reference globals.

(module
  (type $r (func (result i32)))
  (table $ext 3 10 externref)
  (table $fun 2 funcref)
  (global $g (export "g") (mut externref) (ref.null extern))
  (global $f (export "f") funcref (ref.func $seven))
  (elem declare func $seven)
  (func $seven (export "seven") (result i32) (i32.const 7))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "is-null-ext") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func (export "is-null-fun") (param funcref) (result i32) (ref.is_null (local.get 0)))
  (func (export "null-ext") (result externref) (ref.null extern))
  (func (export "null-fun") (result funcref) (ref.null func))
  (func (export "ref-func") (result funcref) (ref.func $seven))
  (func (export "set") (param i32 externref) (table.set $ext (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result externref) (table.get $ext (local.get 0)))
  (func (export "grow") (param externref i32) (result i32) (table.grow $ext (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (table.size $ext))
  (func (export "fill") (param i32 externref i32) (table.fill $ext (local.get 0) (local.get 1) (local.get 2)))
  (func (export "set-global") (param externref) (global.set $g (local.get 0)))
  (func (export "get-global") (result externref) (global.get $g))
  (func (export "put-func") (param i32) (table.set $fun (local.get 0) (ref.func $seven)))
  (func (export "call") (param i32) (result i32) (call_indirect $fun (type $r) (local.get 0)))
  (func (export "pick") (param externref externref i32) (result externref)
    (select (result externref) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "two") (param externref externref) (result externref externref)
    (local.get 1) (local.get 0)))

;; Host references pass through wasm unchanged and keep their identity.
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 1))
(assert_return (invoke "id" (ref.extern 0)) (ref.extern 0))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "id" (ref.extern 5)) (ref.extern))
(assert_return (invoke "two" (ref.extern 1) (ref.extern 2)) (ref.extern 2) (ref.extern 1))
(assert_return (invoke "is-null-ext" (ref.extern 3)) (i32.const 0))
(assert_return (invoke "is-null-ext" (ref.null extern)) (i32.const 1))
(assert_return (invoke "is-null-fun" (ref.null func)) (i32.const 1))
(assert_return (invoke "null-ext") (ref.null extern))
(assert_return (invoke "null-fun") (ref.null func))
(assert_return (invoke "null-fun") (ref.null))
(assert_return (invoke "ref-func") (ref.func))
(assert_return (invoke "pick" (ref.extern 1) (ref.extern 2) (i32.const 1)) (ref.extern 1))
(assert_return (invoke "pick" (ref.extern 1) (ref.extern 2) (i32.const 0)) (ref.extern 2))

;; Tables of externref.
(assert_return (invoke "get" (i32.const 0)) (ref.null extern))
(invoke "set" (i32.const 1) (ref.extern 11))
(assert_return (invoke "get" (i32.const 1)) (ref.extern 11))
(assert_trap (invoke "set" (i32.const 3) (ref.extern 1)) "out of bounds table access")
(assert_return (invoke "size") (i32.const 3))
(assert_return (invoke "grow" (ref.extern 22) (i32.const 2)) (i32.const 3))
(assert_return (invoke "size") (i32.const 5))
(assert_return (invoke "get" (i32.const 4)) (ref.extern 22))
(assert_return (invoke "grow" (ref.null extern) (i32.const 6)) (i32.const -1))
(assert_return (invoke "grow" (ref.null extern) (i32.const 5)) (i32.const 5))
(invoke "fill" (i32.const 2) (ref.extern 33) (i32.const 3))
(assert_return (invoke "get" (i32.const 1)) (ref.extern 11))
(assert_return (invoke "get" (i32.const 4)) (ref.extern 33))
(assert_return (invoke "get" (i32.const 5)) (ref.null extern))
(assert_trap (invoke "fill" (i32.const 8) (ref.extern 1) (i32.const 3)) "out of bounds table access")

;; Reference globals.
(assert_return (get "g") (ref.null extern))
(invoke "set-global" (ref.extern 99))
(assert_return (get "g") (ref.extern 99))
(assert_return (invoke "get-global") (ref.extern 99))
(assert_return (get "f") (ref.func))

;; A second table of funcref, addressed by index.
(assert_trap (invoke "call" (i32.const 0)) "uninitialized element")
(invoke "put-func" (i32.const 0))
(assert_return (invoke "call" (i32.const 0)) (i32.const 7))
(assert_trap (invoke "call" (i32.const 2)) "undefined element")

;; Funcrefs returned from one module are callable through another's table.
(module $Maker
  (func $nine (result i32) (i32.const 9))
  (elem declare func $nine)
  (func (export "make") (result funcref) (ref.func $nine)))
(register "maker" $Maker)
(module
  (type $r (func (result i32)))
  (import "maker" "make" (func $make (result funcref)))
  (table $t 1 funcref)
  (func (export "run") (result i32)
    (table.set $t (i32.const 0) (call $make))
    (call_indirect $t (type $r) (i32.const 0))))
(assert_return (invoke "run") (i32.const 9))

;; Validation: reference types do not mix.
(assert_invalid (module (func (result externref) (ref.null func))) "type mismatch")
(assert_invalid (module (table 1 funcref) (func (param externref) (table.set 0 (i32.const 0) (local.get 0)))) "type mismatch")
(assert_invalid (module (func (result funcref) (ref.func 0))) "undeclared function reference")
(assert_invalid (module (func (param externref) (result i32) (select (local.get 0) (local.get 0) (i32.const 1)) (drop) (i32.const 0))) "type mismatch")
