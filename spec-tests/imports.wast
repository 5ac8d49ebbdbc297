;; Import-module resolution: the `spectest` host module, registered names,
;; shadowing, unknown modules and fields, module definitions and instances,
;; and named instances addressed by `invoke $M` / `get $M`.

;; Everything the spec's `spectest` module defines.
(module $Host
  (import "spectest" "print" (func $print))
  (import "spectest" "print_i32" (func $print_i32 (param i32)))
  (import "spectest" "print_i64" (func $print_i64 (param i64)))
  (import "spectest" "print_f32" (func $print_f32 (param f32)))
  (import "spectest" "print_f64" (func $print_f64 (param f64)))
  (import "spectest" "print_i32_f32" (func $print_i32_f32 (param i32 f32)))
  (import "spectest" "print_f64_f64" (func $print_f64_f64 (param f64 f64)))
  (import "spectest" "global_i32" (global $gi32 i32))
  (import "spectest" "global_i64" (global $gi64 i64))
  (import "spectest" "global_f32" (global $gf32 f32))
  (import "spectest" "global_f64" (global $gf64 f64))
  (import "spectest" "table" (table $tab 10 20 funcref))
  (import "spectest" "memory" (memory $mem 1 2))
  (func (export "print-all")
    (call $print)
    (call $print_i32 (i32.const 1))
    (call $print_i64 (i64.const 2))
    (call $print_f32 (f32.const 3.5))
    (call $print_f64 (f64.const 4.25))
    (call $print_i32_f32 (i32.const 5) (f32.const 6))
    (call $print_f64_f64 (f64.const 7) (f64.const 8)))
  (func (export "gi32") (result i32) (global.get $gi32))
  (func (export "gi64") (result i64) (global.get $gi64))
  (func (export "gf32") (result f32) (global.get $gf32))
  (func (export "gf64") (result f64) (global.get $gf64))
  (func (export "table-size") (result i32) (table.size $tab))
  (func (export "table-grow") (param i32) (result i32) (table.grow $tab (ref.null func) (local.get 0)))
  (func (export "memory-size") (result i32) (memory.size))
  (func (export "memory-grow") (param i32) (result i32) (memory.grow (local.get 0))))

(invoke "print-all")
(assert_return (invoke "gi32") (i32.const 666))
(assert_return (invoke "gi64") (i64.const 666))
(assert_return (invoke "gf32") (f32.const 666.6))
(assert_return (invoke "gf64") (f64.const 666.6))
(assert_return (invoke "table-size") (i32.const 10))
(assert_return (invoke "table-grow" (i32.const 10)) (i32.const 10))
(assert_return (invoke "table-grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "memory-size") (i32.const 1))
(assert_return (invoke "memory-grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "memory-grow" (i32.const 1)) (i32.const -1))

;; The spectest items have exactly the spec's types.
(assert_unlinkable (module (import "spectest" "print_i32" (func (param i64)))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "global_i32" (global (mut i32)))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "memory" (memory 3))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "table" (table 10 externref))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "table" (table 21 funcref))) "incompatible import type")

;; Unknown modules and fields do not link.
(assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import")
(assert_unlinkable (module (import "spectest" "print_u32" (func (param i32)))) "unknown import")
(assert_unlinkable (module (import "spectest" "global_i32 " (global i32))) "unknown import")

;; Names are resolved when a module is instantiated; registering the same
;; name again shadows the earlier instance for later imports.
(module $One (func (export "which") (result i32) (i32.const 1)))
(register "pick" $One)
(module $UsesOne (import "pick" "which" (func $w (result i32)))
  (func (export "get") (result i32) (call $w)))
(module $Two (func (export "which") (result i32) (i32.const 2)))
(register "pick" $Two)
(module $UsesTwo (import "pick" "which" (func $w (result i32)))
  (func (export "get") (result i32) (call $w)))
(assert_return (invoke $UsesOne "get") (i32.const 1))
(assert_return (invoke $UsesTwo "get") (i32.const 2))

;; One instance may be registered under several names; unnamed `register`
;; takes the current module.
(module (global (export "g") i32 (i32.const 9)))
(register "alias-a")
(register "alias-b")
(module $Both
  (import "alias-a" "g" (global $a i32))
  (import "alias-b" "g" (global $b i32))
  (func (export "sum") (result i32) (i32.add (global.get $a) (global.get $b))))
(assert_return (invoke "sum") (i32.const 18))

;; Module and field names are arbitrary strings.
(module (func (export "with space") (result i32) (i32.const 3))
        (func (export "") (result i32) (i32.const 4))
        (func (export "\u{1F980}") (result i32) (i32.const 5)))
(register "odd \u{e9} name")
(module
  (import "odd \u{e9} name" "with space" (func $a (result i32)))
  (import "odd \u{e9} name" "" (func $b (result i32)))
  (import "odd \u{e9} name" "\u{1F980}" (func $c (result i32)))
  (func (export "abc") (result i32) (i32.add (call $a) (i32.add (call $b) (call $c)))))
(assert_return (invoke "abc") (i32.const 12))

;; Module definitions are compiled once and instantiated many times; each
;; instance has its own state.
(module definition $Counter
  (global $n (export "n") (mut i32) (i32.const 0))
  (func (export "next") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n)))
(module instance $C1 $Counter)
(module instance $C2 $Counter)
(assert_return (invoke $C1 "next") (i32.const 1))
(assert_return (invoke $C1 "next") (i32.const 2))
(assert_return (invoke $C2 "next") (i32.const 1))
(assert_return (invoke "next") (i32.const 2))

;; Named instances stay reachable after later modules.
(assert_return (invoke $Host "gi32") (i32.const 666))
(assert_return (invoke $One "which") (i32.const 1))
(assert_return (get $C1 "n") (i32.const 2))
(assert_return (get $C2 "n") (i32.const 2))
(assert_return (get "n") (i32.const 2))
