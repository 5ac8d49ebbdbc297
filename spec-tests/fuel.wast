;; brine: fuel 1000000
;;
;; Fuel. The comment line above runs this script metered: every action (an
;; invoke, a get, an instantiation with its start function) gets one million
;; units of fuel, about one per instruction; running out traps with
;; "all fuel consumed", and the next action starts with a full tank.

(module
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "spin") (loop $l (br $l)))
  (func (export "count") (param i32) (result i32)
    (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br $l)))
    (local.get 1))
  (func (export "tick") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (global.get $g)))

(assert_trap (invoke "spin") "all fuel consumed")
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
(assert_return (invoke "count" (i32.const 10000)) (i32.const 10000))
(assert_trap (invoke "count" (i32.const 100000000)) "all fuel consumed")
;; The tank is refilled for every action, and state survives running out.
(assert_return (invoke "tick") (i32.const 1))
(assert_trap (invoke "spin") "all fuel consumed")
(assert_return (invoke "tick") (i32.const 2))
(assert_return (get "g") (i32.const 2))
(assert_return (invoke "count" (i32.const 50000)) (i32.const 50000))

;; A start function that never ends cannot instantiate.
(assert_trap
  (module (func $start (loop $l (br $l))) (start $start))
  "all fuel consumed")

;; Unbounded recursion still exhausts the stack before the fuel.
(module (func $r (export "r") (call $r)))
(assert_exhaustion (invoke "r") "call stack exhausted")
