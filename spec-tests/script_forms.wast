;; The forms a script may give a module in: text, `binary`, `quote`, named
;; or not; `assert_malformed` (bad bytes or bad text) and `assert_invalid`
;; (well-formed but ill-typed), start functions, multiple results.

;; A binary module: (func (export "f") (result i32) (i32.const 42)).
(module $Bin binary
  "\00asm" "\01\00\00\00"
  "\01\05\01\60\00\01\7f"       ;; type section: () -> i32
  "\03\02\01\00"                ;; function section
  "\07\05\01\01f\00\00"         ;; export "f" = func 0
  "\0a\06\01\04\00\41\2a\0b")   ;; code: i32.const 42
(assert_return (invoke $Bin "f") (i32.const 42))

;; A quoted module is parsed from its strings.
(module quote "(func (export \"g\") (result i64)" " (i64.const -7))")
(assert_return (invoke "g") (i64.const -7))
(assert_return (invoke $Bin "f") (i32.const 42))
(module quote "(module $Named (func (export \"h\") (result f32) (f32.const 0.5)))")
(assert_return (invoke "h") (f32.const 0.5))

;; Malformed binaries.
(assert_malformed (module binary "") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module binary "asm\00\01\00\00\00") "magic header not detected")
(assert_malformed (module binary "(module)") "magic header not detected")
(assert_malformed (module binary "\00asm\01\00\00\00\0d\01\00") "malformed section id")
(assert_malformed (module binary "\00asm\01\00\00\00\01\05\01\60\00\01") "unexpected end")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\41\0b")
  "unexpected end")

;; Malformed text.
(assert_malformed (module quote "(func (i32.const 1) (i32.add)") "unexpected end")
(assert_malformed (module quote "(func (result i32) (i32.const 0x1_0000_0000))") "constant out of range")
(assert_malformed (module quote "(func (local $x i32) (local $x i32))") "duplicate local")
(assert_malformed (module quote "(func (nop) (unknown.instr))") "unknown operator")
(assert_malformed (module quote "(memory 1) (func (i32.load align=3 (i32.const 0)) drop)") "alignment")
(assert_malformed (module quote "(global $g i32 (i32.const 0)) (global $g i32 (i32.const 0))") "duplicate global")

;; Invalid modules.
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func (i32.const 1))) "type mismatch")
(assert_invalid (module (func (local.get 0))) "unknown local")
(assert_invalid (module (func (call 1))) "unknown function")
(assert_invalid (module (func (br 1))) "unknown label")
(assert_invalid (module (memory 1) (func (drop (i32.load align=8 (i32.const 0))))) "alignment must not be larger than natural")
(assert_invalid (module (func (drop (i32.load (i32.const 0))))) "unknown memory")
(assert_invalid (module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1)))) "immutable global")
(assert_invalid (module (memory 65537)) "memory size must be at most 65536 pages")
(assert_invalid (module (start 0) (func (param i32))) "start function")
(assert_invalid (module (func $f) (export "a" (func $f)) (export "a" (func $f))) "duplicate export name")
(assert_invalid (module (table 1 funcref) (elem (i32.const 0) funcref (item (i32.const 0)))) "type mismatch")

;; Start functions run during instantiation, before any invoke.
(module
  (global $ran (export "ran") (mut i32) (i32.const 0))
  (func $start (global.set $ran (i32.const 1)))
  (start $start))
(assert_return (get "ran") (i32.const 1))

;; Several results and block parameters (multi-value).
(module
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "block-params") (param i32) (result i32)
    (local.get 0) (i32.const 10)
    (block (param i32 i32) (result i32) (i32.add)))
  (func (export "none")))
(assert_return (invoke "swap" (i32.const 1) (i64.const 2)) (i64.const 2) (i32.const 1))
(assert_return (invoke "block-params" (i32.const 5)) (i32.const 15))
(assert_return (invoke "none"))

;; Either: any one of the listed results is accepted.
(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (either (i32.const 0) (i32.const 1)))

;; Comments, nested block comments and odd whitespace are fine.
(;  a (; nested ;) block comment  ;)
(module	(func	(export	"tab")	(result	i32)	(i32.const	9)))
(assert_return (invoke "tab") (i32.const 9))
