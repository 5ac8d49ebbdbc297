;; SIMD basics: v128 constants and lane patterns in every shape, integer and
;; float lane arithmetic (with NaN patterns per lane), splat, extract and
;; replace lane, shuffle, swizzle, comparisons, loads and stores.

(module
  (memory 1)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f")
  (func (export "id") (param v128) (result v128) (local.get 0))
  (func (export "i32x4.add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "i8x16.add_sat_u") (param v128 v128) (result v128) (i8x16.add_sat_u (local.get 0) (local.get 1)))
  (func (export "i16x8.mul") (param v128 v128) (result v128) (i16x8.mul (local.get 0) (local.get 1)))
  (func (export "i64x2.sub") (param v128 v128) (result v128) (i64x2.sub (local.get 0) (local.get 1)))
  (func (export "f32x4.div") (param v128 v128) (result v128) (f32x4.div (local.get 0) (local.get 1)))
  (func (export "f32x4.min") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1)))
  (func (export "f64x2.sqrt") (param v128) (result v128) (f64x2.sqrt (local.get 0)))
  (func (export "i32x4.splat") (param i32) (result v128) (i32x4.splat (local.get 0)))
  (func (export "f64x2.splat") (param f64) (result v128) (f64x2.splat (local.get 0)))
  (func (export "i8x16.extract_lane_s") (param v128) (result i32) (i8x16.extract_lane_s 15 (local.get 0)))
  (func (export "i8x16.extract_lane_u") (param v128) (result i32) (i8x16.extract_lane_u 15 (local.get 0)))
  (func (export "f32x4.replace_lane") (param v128 f32) (result v128) (f32x4.replace_lane 2 (local.get 0) (local.get 1)))
  (func (export "reverse") (param v128) (result v128)
    (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get 0) (local.get 0)))
  (func (export "swizzle") (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1)))
  (func (export "i32x4.lt_s") (param v128 v128) (result v128) (i32x4.lt_s (local.get 0) (local.get 1)))
  (func (export "any_true") (param v128) (result i32) (v128.any_true (local.get 0)))
  (func (export "all_true") (param v128) (result i32) (i32x4.all_true (local.get 0)))
  (func (export "bitmask") (param v128) (result i32) (i8x16.bitmask (local.get 0)))
  (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
  (func (export "load8x8_s") (param i32) (result v128) (v128.load8x8_s (local.get 0)))
  (func (export "load32_splat") (param i32) (result v128) (v128.load32_splat (local.get 0)))
  (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
  (func (export "load-i32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "narrow") (param v128 v128) (result v128) (i8x16.narrow_i16x8_s (local.get 0) (local.get 1)))
  (func (export "trunc_sat") (param v128) (result v128) (i32x4.trunc_sat_f32x4_s (local.get 0)))
  (func (export "dot") (param v128 v128) (result v128) (i32x4.dot_i16x8_s (local.get 0) (local.get 1))))

;; The same bits in every shape.
(assert_return (invoke "id" (v128.const i32x4 1 2 3 4)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "id" (v128.const i32x4 1 2 3 4))
  (v128.const i8x16 1 0 0 0 2 0 0 0 3 0 0 0 4 0 0 0))
(assert_return (invoke "id" (v128.const i64x2 -1 0)) (v128.const i16x8 -1 -1 -1 -1 0 0 0 0))
(assert_return (invoke "id" (v128.const f32x4 1 -0 inf -inf))
  (v128.const i32x4 0x3f800000 0x80000000 0x7f800000 0xff800000))
(assert_return (invoke "id" (v128.const f64x2 -0 nan:0x1)) (v128.const f64x2 -0 nan:0x1))

;; Lane arithmetic wraps or saturates per lane.
(assert_return (invoke "i32x4.add" (v128.const i32x4 1 -1 0x7fffffff 5) (v128.const i32x4 2 1 1 -10))
  (v128.const i32x4 3 0 0x80000000 -5))
(assert_return (invoke "i8x16.add_sat_u"
  (v128.const i8x16 250 1 2 3 4 5 6 7 8 9 10 11 12 13 14 255)
  (v128.const i8x16 10 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
  (v128.const i8x16 255 2 3 4 5 6 7 8 9 10 11 12 13 14 15 255))
(assert_return (invoke "i16x8.mul" (v128.const i16x8 256 -1 3 0 0 0 0 0x7fff) (v128.const i16x8 256 -1 -3 0 0 0 0 2))
  (v128.const i16x8 0 1 -9 0 0 0 0 -2))
(assert_return (invoke "i64x2.sub" (v128.const i64x2 0 5) (v128.const i64x2 1 0x8000000000000000))
  (v128.const i64x2 -1 0x8000000000000005))

;; Float lanes: NaN patterns apply lane by lane.
(assert_return (invoke "f32x4.div" (v128.const f32x4 1 0 -1 6) (v128.const f32x4 0 0 0 -2))
  (v128.const f32x4 inf nan:canonical -inf -3))
(assert_return (invoke "f32x4.min" (v128.const f32x4 0 -0 nan 1) (v128.const f32x4 -0 0 1 nan:0x200000))
  (v128.const f32x4 -0 -0 nan:canonical nan:arithmetic))
(assert_return (invoke "f64x2.sqrt" (v128.const f64x2 4 -4)) (v128.const f64x2 2 nan:canonical))

;; Splat, lanes, shuffle, swizzle.
(assert_return (invoke "i32x4.splat" (i32.const -2)) (v128.const i32x4 -2 -2 -2 -2))
(assert_return (invoke "f64x2.splat" (f64.const -0)) (v128.const f64x2 -0 -0))
(assert_return (invoke "i8x16.extract_lane_s" (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0x80)) (i32.const -128))
(assert_return (invoke "i8x16.extract_lane_u" (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0x80)) (i32.const 128))
(assert_return (invoke "f32x4.replace_lane" (v128.const f32x4 1 2 3 4) (f32.const nan:0x1))
  (v128.const f32x4 1 2 nan:0x1 4))
(assert_return (invoke "reverse" (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
  (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0))
(assert_return (invoke "swizzle" (v128.const i8x16 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25)
  (v128.const i8x16 0 15 16 255 1 1 1 1 1 1 1 1 1 1 1 1))
  (v128.const i8x16 10 25 0 0 11 11 11 11 11 11 11 11 11 11 11 11))

;; Comparisons give all-ones lanes; tests reduce lanes.
(assert_return (invoke "i32x4.lt_s" (v128.const i32x4 -1 0 1 2) (v128.const i32x4 0 0 0 3))
  (v128.const i32x4 -1 0 0 -1))
(assert_return (invoke "any_true" (v128.const i64x2 0 1)) (i32.const 1))
(assert_return (invoke "any_true" (v128.const i64x2 0 0)) (i32.const 0))
(assert_return (invoke "all_true" (v128.const i32x4 1 2 3 0)) (i32.const 0))
(assert_return (invoke "all_true" (v128.const i32x4 1 2 3 -1)) (i32.const 1))
(assert_return (invoke "bitmask" (v128.const i8x16 -1 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 -128)) (i32.const 0x8005))

;; Memory: little-endian lanes, extending and splatting loads, bounds.
(assert_return (invoke "load" (i32.const 0))
  (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
(assert_return (invoke "load" (i32.const 0)) (v128.const i32x4 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c))
(assert_return (invoke "load8x8_s" (i32.const 8)) (v128.const i16x8 8 9 10 11 12 13 14 15))
(assert_return (invoke "load32_splat" (i32.const 4)) (v128.const i32x4 0x07060504 0x07060504 0x07060504 0x07060504))
(invoke "store" (i32.const 100) (v128.const i64x2 0x1122334455667788 -1))
(assert_return (invoke "load-i32" (i32.const 100)) (i32.const 0x55667788))
(assert_return (invoke "load-i32" (i32.const 112)) (i32.const -1))
(assert_trap (invoke "load" (i32.const 65521)) "out of bounds memory access")
(assert_trap (invoke "store" (i32.const -1) (v128.const i32x4 0 0 0 0)) "out of bounds memory access")

;; Conversions saturate.
(assert_return (invoke "narrow" (v128.const i16x8 300 -300 127 -128 0 1 -1 255) (v128.const i16x8 0 0 0 0 0 0 0 0))
  (v128.const i8x16 127 -128 127 -128 0 1 -1 127 0 0 0 0 0 0 0 0))
(assert_return (invoke "trunc_sat" (v128.const f32x4 nan 3e9 -3e9 -1.9)) (v128.const i32x4 0 0x7fffffff 0x80000000 -1))
(assert_return (invoke "dot" (v128.const i16x8 1 2 3 4 -32768 -32768 0 0) (v128.const i16x8 5 6 7 8 -32768 -32768 0 0))
  (v128.const i32x4 17 53 0x80000000 0))

;; Validation: lane indices are checked.
(assert_invalid (module (func (result i32) (i8x16.extract_lane_s 16 (v128.const i64x2 0 0)))) "invalid lane index")
(assert_malformed (module quote "(func (result v128) (v128.const i32x4 0 0 0))") "wrong number of lane literals")
