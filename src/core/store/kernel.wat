;; SIMD kernels of the store's index scans (WebAssembly 128-bit SIMD), assembled at build time.
;;
;; `hash`: a 64-bit hash of bytes (an XXH3-like construction: 64-byte stripes, eight 64-bit
;; accumulators fed 32x32->64-bit products of the data xor a secret, scrambled every 1 KiB, folded
;; with a 64-bit finaliser; a second fold of the lanes gives `keyDigest` 128 bits). `sum`: the
;; block checksum, the same lanes and fold fed an NH-like stripe (products of data-plus-secret
;; words, fewer shuffles than `hash`'s, about 1.3x as fast in the cache). Neither is cryptographic:
;; they tell accidental changes apart.
;;
;; `scan`: the inside of one JSON array element, 64 bytes at a time, as simdjson's first stage
;; does: masks of quotes, backslashes, newlines and brackets; escaped characters from the backslash
;; runs; the in-string mask by a prefix xor of the unescaped quotes; then only the brackets outside
;; strings are looked at one by one (a bit stack of their kinds), until the element's depth comes
;; back to 0. Newlines are counted (all of them: physical lines).
;;
;; Memory layout (the memory is the caller's): [0, 192) the secret, [192, 256) a zero-padded copy
;; of a hash's last stripe, [256, 272) the last hash's two 64-bit folds (a 128-bit digest),
;; [512, 512 + 65536) the bracket stack, [66560, 66560 + 32768) the kinds `scanRel` records for
;; levels opened before its start; buffers from 131072 on.
(module
  (import "env" "memory" (memory 2))

  (global $depth (mut i32) (i32.const 0))
  (global $instr (mut i64) (i64.const 0)) ;; all ones inside a string at the end of the last block
  (global $nie (mut i64) (i64.const 0)) ;; 1 when the next byte is escaped
  (global $lines (mut i32) (i32.const 0)) ;; newlines seen by the last call
  (global $lastnl (mut i32) (i32.const -1)) ;; address after the last newline seen by the last call
  (global $stop (mut i32) (i32.const 0)) ;; where the last call stopped
  (global $errat (mut i32) (i32.const 0))
  (global $erropen (mut i32) (i32.const 0))

  (func (export "depth") (result i32) (global.get $depth))
  (func (export "inString") (result i32) (i32.wrap_i64 (i64.and (global.get $instr) (i64.const 1))))
  (func (export "lines") (result i32) (global.get $lines))
  (func (export "lastNewline") (result i32) (global.get $lastnl))
  (func (export "stop") (result i32) (global.get $stop))
  (func (export "errorAt") (result i32) (global.get $errat))
  (func (export "errorOpen") (result i32) (global.get $erropen))

  ;; Kind (1: "{", 2: "[") of the bracket at stack level `d`.
  (func $kindAt (param $d i32) (result i32)
    (i32.add
      (i32.const 1)
      (i32.and
        (i32.shr_u
          (i32.load8_u offset=512 (i32.shr_u (local.get $d) (i32.const 3)))
          (i32.and (local.get $d) (i32.const 7)))
        (i32.const 1))))
  (func (export "top") (result i32)
    (if (result i32) (i32.eqz (global.get $depth))
      (then (i32.const 0))
      (else (call $kindAt (i32.sub (global.get $depth) (i32.const 1))))))

  ;; Sets bracket stack level `d` to `kind`.
  (func $setKind (param $d i32) (param $kind i32)
    (local $a i32) (local $bit i32)
    (local.set $a (i32.shr_u (local.get $d) (i32.const 3)))
    (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $d) (i32.const 7))))
    (i32.store8 offset=512 (local.get $a)
      (if (result i32) (i32.eq (local.get $kind) (i32.const 2))
        (then (i32.or (i32.load8_u offset=512 (local.get $a)) (local.get $bit)))
        (else (i32.and (i32.load8_u offset=512 (local.get $a)) (i32.xor (local.get $bit) (i32.const -1)))))))

  ;; Starts an element that opens with a bracket of `kind`: depth 1, outside strings.
  (func (export "begin") (param $kind i32)
    (call $setKind (i32.const 0) (local.get $kind))
    (global.set $depth (i32.const 1))
    (global.set $instr (i64.const 0))
    (global.set $nie (i64.const 0)))

  ;; Scans the 64-byte blocks of [p, end) inside an element. Returns the address after the bracket
  ;; that closes the element; -1 when every whole block was scanned without the element ending
  ;; (`stop` says where the unscanned rest starts); -2 when a bracket does not close the one before
  ;; it (`errorAt`, `errorOpen`); -3 when the element nests deeper than the stack holds; -4 at a
  ;; backslash outside a string (`errorAt`).
  (func (export "scan") (param $p i32) (param $end i32) (result i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $o0 v128) (local $o1 v128) (local $o2 v128) (local $o3 v128)
    (local $quote i64) (local $bs i64) (local $nl i64) (local $brk i64)
    (local $pe i64) (local $etc i64) (local $escaped i64) (local $inside i64) (local $s i64) (local $x i64)
    (local $t i32) (local $at i32) (local $b i32) (local $kind i32) (local $d i32) (local $lines i32)
    (local $cq v128) (local $cb v128) (local $cn v128) (local $co v128) (local $cc v128) (local $c20 v128)
    (local.set $cq (i8x16.splat (i32.const 0x22)))
    (local.set $cb (i8x16.splat (i32.const 0x5c)))
    (local.set $cn (i8x16.splat (i32.const 0x0a)))
    (local.set $co (i8x16.splat (i32.const 0x7b)))
    (local.set $cc (i8x16.splat (i32.const 0x7d)))
    (local.set $c20 (i8x16.splat (i32.const 0x20)))
    (global.set $lines (i32.const 0))
    (global.set $lastnl (i32.const -1))
    (local.set $d (global.get $depth))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
        (local.set $v0 (v128.load (local.get $p)))
        (local.set $v1 (v128.load offset=16 (local.get $p)))
        (local.set $v2 (v128.load offset=32 (local.get $p)))
        (local.set $v3 (v128.load offset=48 (local.get $p)))
        ;; A block inside a string without a quote, backslash or newline changes nothing but the
        ;; escape of its first byte: skipped.
        (if (i64.ne (global.get $instr) (i64.const 0))
          (then
            (if (i32.eqz
                  (v128.any_true
                    (v128.or
                      (v128.or
                        (v128.or (v128.or (i8x16.eq (local.get $v0) (local.get $cq)) (i8x16.eq (local.get $v0) (local.get $cb))) (i8x16.eq (local.get $v0) (local.get $cn)))
                        (v128.or (v128.or (i8x16.eq (local.get $v1) (local.get $cq)) (i8x16.eq (local.get $v1) (local.get $cb))) (i8x16.eq (local.get $v1) (local.get $cn))))
                      (v128.or
                        (v128.or (v128.or (i8x16.eq (local.get $v2) (local.get $cq)) (i8x16.eq (local.get $v2) (local.get $cb))) (i8x16.eq (local.get $v2) (local.get $cn)))
                        (v128.or (v128.or (i8x16.eq (local.get $v3) (local.get $cq)) (i8x16.eq (local.get $v3) (local.get $cb))) (i8x16.eq (local.get $v3) (local.get $cn)))))))
              (then
                (global.set $nie (i64.const 0))
                (local.set $p (i32.add (local.get $p) (i32.const 64)))
                (br $blocks)))))
        (local.set $quote (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cq)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cq)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cq)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cq)))) (i64.const 48)))))
        (local.set $bs (i64.const 0))
        (if (v128.any_true (v128.or (v128.or (i8x16.eq (local.get $v0) (local.get $cb)) (i8x16.eq (local.get $v1) (local.get $cb))) (v128.or (i8x16.eq (local.get $v2) (local.get $cb)) (i8x16.eq (local.get $v3) (local.get $cb)))))
          (then (local.set $bs (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cb)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cb)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cb)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cb)))) (i64.const 48)))))))
        (local.set $nl (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cn)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cn)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cn)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cn)))) (i64.const 48)))))
        (local.set $o0 (v128.or (local.get $v0) (local.get $c20)))
        (local.set $o1 (v128.or (local.get $v1) (local.get $c20)))
        (local.set $o2 (v128.or (local.get $v2) (local.get $c20)))
        (local.set $o3 (v128.or (local.get $v3) (local.get $c20)))
        ;; Brackets and backslashes in one mask ("[" | 0x20 is "{", "]" | 0x20 is "}"; no other byte becomes either).
        (local.set $brk (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o0) (local.get $co)) (i8x16.eq (local.get $o0) (local.get $cc))) (i8x16.eq (local.get $v0) (local.get $cb))))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o1) (local.get $co)) (i8x16.eq (local.get $o1) (local.get $cc))) (i8x16.eq (local.get $v1) (local.get $cb))))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o2) (local.get $co)) (i8x16.eq (local.get $o2) (local.get $cc))) (i8x16.eq (local.get $v2) (local.get $cb))))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o3) (local.get $co)) (i8x16.eq (local.get $o3) (local.get $cc))) (i8x16.eq (local.get $v3) (local.get $cb))))) (i64.const 48)))))
        ;; Escaped bytes (simdjson's escape scanner): odd and even backslash runs told apart with a
        ;; subtraction against the odd bits.
        (if (i64.eqz (i64.or (local.get $bs) (global.get $nie)))
          (then (local.set $escaped (i64.const 0)))
          (else
            (local.set $pe (i64.and (local.get $bs) (i64.xor (global.get $nie) (i64.const -1))))
            (local.set $etc
              (i64.xor
                (i64.sub
                  (i64.or (i64.shl (local.get $pe) (i64.const 1)) (i64.const 0xAAAAAAAAAAAAAAAA))
                  (local.get $pe))
                (i64.const 0xAAAAAAAAAAAAAAAA)))
            (local.set $escaped (i64.xor (local.get $etc) (i64.or (local.get $bs) (global.get $nie))))
            (global.set $nie (i64.shr_u (i64.and (local.get $etc) (local.get $bs)) (i64.const 63)))))
        ;; Inside strings: the prefix xor of the unescaped quotes, continued from the last block.
        (local.set $x (i64.and (local.get $quote) (i64.xor (local.get $escaped) (i64.const -1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $inside (i64.xor (local.get $x) (global.get $instr)))
        (global.set $instr (i64.shr_s (local.get $inside) (i64.const 63)))
        ;; Brackets and backslashes outside strings (a backslash there is an error).
        (local.set $s (i64.and (local.get $brk) (i64.xor (local.get $inside) (i64.const -1))))
        ;; The brackets outside strings, in order.
        (block $nobr
          (loop $brackets
            (br_if $nobr (i64.eqz (local.get $s)))
            (local.set $t (i32.wrap_i64 (i64.ctz (local.get $s))))
            (local.set $at (i32.add (local.get $p) (local.get $t)))
            (local.set $b (i32.load8_u (local.get $at)))
            (if (i32.eq (local.get $b) (i32.const 0x5c))
              (then
                (global.set $depth (local.get $d))
                (global.set $errat (local.get $at))
                (local.set $x (i64.and (local.get $nl) (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t))) (i64.const 1))))
                (call $countLines (local.get $lines) (local.get $x) (local.get $p))
                (return (i32.const -4))))
            (local.set $kind (select (i32.const 2) (i32.const 1) (i32.lt_u (local.get $b) (i32.const 0x60))))
            (if (i32.eq (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x7b))
              (then
                (if (i32.ge_u (local.get $d) (i32.const 524288))
                  (then
                    (global.set $depth (local.get $d))
                    (global.set $errat (local.get $at))
                    (return (i32.const -3))))
                (call $setKind (local.get $d) (local.get $kind))
                (local.set $d (i32.add (local.get $d) (i32.const 1))))
              (else
                (local.set $d (i32.sub (local.get $d) (i32.const 1)))
                (if (i32.ne (call $kindAt (local.get $d)) (local.get $kind))
                  (then
                    (global.set $erropen (call $kindAt (local.get $d)))
                    (global.set $depth (i32.add (local.get $d) (i32.const 1)))
                    (global.set $errat (local.get $at))
                    (local.set $x (i64.and (local.get $nl) (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t))) (i64.const 1))))
                    (call $countLines (local.get $lines) (local.get $x) (local.get $p))
                    (return (i32.const -2))))
                (if (i32.eqz (local.get $d))
                  (then
                    (global.set $depth (i32.const 0))
                    (local.set $x (i64.and (local.get $nl) (i64.sub (i64.shl (i64.const 2) (i64.extend_i32_u (local.get $t))) (i64.const 1))))
                    (call $countLines (local.get $lines) (local.get $x) (local.get $p))
                    (return (i32.add (local.get $at) (i32.const 1)))))))
            (local.set $s (i64.and (local.get $s) (i64.sub (local.get $s) (i64.const 1))))
            (br $brackets)))
        (if (i64.ne (local.get $nl) (i64.const 0))
          (then
            (local.set $lines (i32.add (local.get $lines) (i32.wrap_i64 (i64.popcnt (local.get $nl)))))
            (global.set $lastnl (i32.add (local.get $p) (i32.sub (i32.const 64) (i32.wrap_i64 (i64.clz (local.get $nl))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $blocks)))
    (global.set $depth (local.get $d))
    (global.set $lines (local.get $lines))
    (global.set $stop (local.get $p))
    (i32.const -1))

;; `scanRel`: the same masks from a point outside strings at an unknown depth (just after a
  ;; newline, which is never inside a valid JSON string): depths are relative to the start (BIAS).
  ;; Brackets that close levels opened before the start are not checked; their kinds are recorded
  ;; (bit i: the kind the opener of relative level -1-i must have, at 66560), the lowest level
  ;; reached is kept, and every bracket that crosses between the lowest level and the one above is
  ;; written out as an event (8 bytes at `out`: its address, then relative line << 2 | type, type 0
  ;; opens from the lowest level, 1 closes to it, 2 closes to a new lowest level). Returns -1 when
  ;; every whole block of [p, end) was scanned (`stop`), -5 when fewer than 64 events fit before
  ;; `outEnd` (`stop`: the block to go on with), -2, -3, -4 as `scan` does; `outAt` says where the
  ;; events written end.
  (global $rmin (mut i32) (i32.const 0))
  (global $outat (mut i32) (i32.const 0))
  (func (export "outAt") (result i32) (global.get $outat))
  (func (export "relDepth") (result i32) (i32.sub (global.get $depth) (i32.const 262144)))
  (func (export "relMin") (result i32) (i32.sub (global.get $rmin) (i32.const 262144)))
  (func (export "beginRel")
    (global.set $depth (i32.const 262144))
    (global.set $rmin (i32.const 262144))
    (global.set $instr (i64.const 0))
    (global.set $nie (i64.const 0)))
  (func (export "scanRel") (param $p i32) (param $end i32) (param $out i32) (param $outEnd i32) (result i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $o0 v128) (local $o1 v128) (local $o2 v128) (local $o3 v128)
    (local $quote i64) (local $bs i64) (local $nl i64) (local $brk i64)
    (local $pe i64) (local $etc i64) (local $escaped i64) (local $inside i64) (local $s i64) (local $x i64)
    (local $t i32) (local $at i32) (local $b i32) (local $kind i32) (local $d i32) (local $lines i32) (local $lat i32) (local $r i32)
    (local $cq v128) (local $cb v128) (local $cn v128) (local $co v128) (local $cc v128) (local $c20 v128)
    (local.set $cq (i8x16.splat (i32.const 0x22)))
    (local.set $cb (i8x16.splat (i32.const 0x5c)))
    (local.set $cn (i8x16.splat (i32.const 0x0a)))
    (local.set $co (i8x16.splat (i32.const 0x7b)))
    (local.set $cc (i8x16.splat (i32.const 0x7d)))
    (local.set $c20 (i8x16.splat (i32.const 0x20)))
    (local.set $d (global.get $depth))
    (local.set $r (i32.const -1))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
        (if (i32.gt_u (i32.add (local.get $out) (i32.const 512)) (local.get $outEnd))
          (then (local.set $r (i32.const -5)) (br $done)))
        (local.set $v0 (v128.load (local.get $p)))
        (local.set $v1 (v128.load offset=16 (local.get $p)))
        (local.set $v2 (v128.load offset=32 (local.get $p)))
        (local.set $v3 (v128.load offset=48 (local.get $p)))
        ;; A block inside a string without a quote, backslash or newline changes nothing but the
        ;; escape of its first byte: skipped.
        (if (i64.ne (global.get $instr) (i64.const 0))
          (then
            (if (i32.eqz
                  (v128.any_true
                    (v128.or
                      (v128.or
                        (v128.or (v128.or (i8x16.eq (local.get $v0) (local.get $cq)) (i8x16.eq (local.get $v0) (local.get $cb))) (i8x16.eq (local.get $v0) (local.get $cn)))
                        (v128.or (v128.or (i8x16.eq (local.get $v1) (local.get $cq)) (i8x16.eq (local.get $v1) (local.get $cb))) (i8x16.eq (local.get $v1) (local.get $cn))))
                      (v128.or
                        (v128.or (v128.or (i8x16.eq (local.get $v2) (local.get $cq)) (i8x16.eq (local.get $v2) (local.get $cb))) (i8x16.eq (local.get $v2) (local.get $cn)))
                        (v128.or (v128.or (i8x16.eq (local.get $v3) (local.get $cq)) (i8x16.eq (local.get $v3) (local.get $cb))) (i8x16.eq (local.get $v3) (local.get $cn)))))))
              (then
                (global.set $nie (i64.const 0))
                (local.set $p (i32.add (local.get $p) (i32.const 64)))
                (br $blocks)))))
        (local.set $quote (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cq)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cq)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cq)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cq)))) (i64.const 48)))))
        (local.set $bs (i64.const 0))
        (if (v128.any_true (v128.or (v128.or (i8x16.eq (local.get $v0) (local.get $cb)) (i8x16.eq (local.get $v1) (local.get $cb))) (v128.or (i8x16.eq (local.get $v2) (local.get $cb)) (i8x16.eq (local.get $v3) (local.get $cb)))))
          (then (local.set $bs (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cb)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cb)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cb)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cb)))) (i64.const 48)))))))
        (local.set $nl (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $cn)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $cn)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $cn)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $cn)))) (i64.const 48)))))
        (local.set $o0 (v128.or (local.get $v0) (local.get $c20)))
        (local.set $o1 (v128.or (local.get $v1) (local.get $c20)))
        (local.set $o2 (v128.or (local.get $v2) (local.get $c20)))
        (local.set $o3 (v128.or (local.get $v3) (local.get $c20)))
        ;; Brackets and backslashes in one mask ("[" | 0x20 is "{", "]" | 0x20 is "}"; no other byte becomes either).
        (local.set $brk (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o0) (local.get $co)) (i8x16.eq (local.get $o0) (local.get $cc))) (i8x16.eq (local.get $v0) (local.get $cb))))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o1) (local.get $co)) (i8x16.eq (local.get $o1) (local.get $cc))) (i8x16.eq (local.get $v1) (local.get $cb))))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o2) (local.get $co)) (i8x16.eq (local.get $o2) (local.get $cc))) (i8x16.eq (local.get $v2) (local.get $cb))))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or (i8x16.eq (local.get $o3) (local.get $co)) (i8x16.eq (local.get $o3) (local.get $cc))) (i8x16.eq (local.get $v3) (local.get $cb))))) (i64.const 48)))))
        ;; Escaped bytes (simdjson's escape scanner): odd and even backslash runs told apart with a
        ;; subtraction against the odd bits.
        (if (i64.eqz (i64.or (local.get $bs) (global.get $nie)))
          (then (local.set $escaped (i64.const 0)))
          (else
            (local.set $pe (i64.and (local.get $bs) (i64.xor (global.get $nie) (i64.const -1))))
            (local.set $etc
              (i64.xor
                (i64.sub
                  (i64.or (i64.shl (local.get $pe) (i64.const 1)) (i64.const 0xAAAAAAAAAAAAAAAA))
                  (local.get $pe))
                (i64.const 0xAAAAAAAAAAAAAAAA)))
            (local.set $escaped (i64.xor (local.get $etc) (i64.or (local.get $bs) (global.get $nie))))
            (global.set $nie (i64.shr_u (i64.and (local.get $etc) (local.get $bs)) (i64.const 63)))))
        ;; Inside strings: the prefix xor of the unescaped quotes, continued from the last block.
        (local.set $x (i64.and (local.get $quote) (i64.xor (local.get $escaped) (i64.const -1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $inside (i64.xor (local.get $x) (global.get $instr)))
        (global.set $instr (i64.shr_s (local.get $inside) (i64.const 63)))
        ;; Brackets and backslashes outside strings (a backslash there is an error).
        (local.set $s (i64.and (local.get $brk) (i64.xor (local.get $inside) (i64.const -1))))
        (block $nobr
          (loop $brackets
            (br_if $nobr (i64.eqz (local.get $s)))
            (local.set $t (i32.wrap_i64 (i64.ctz (local.get $s))))
            (local.set $at (i32.add (local.get $p) (local.get $t)))
            (local.set $b (i32.load8_u (local.get $at)))
            (global.set $errat (local.get $at))
            (if (i32.eq (local.get $b) (i32.const 0x5c))
              (then (global.set $depth (local.get $d)) (return (i32.const -4))))
            (local.set $kind (select (i32.const 2) (i32.const 1) (i32.lt_u (local.get $b) (i32.const 0x60))))
            ;; The relative line of this bracket, shifted for the event.
            (local.set $lat
              (i32.shl
                (i32.add (local.get $lines)
                  (i32.wrap_i64 (i64.popcnt (i64.and (local.get $nl) (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t))) (i64.const 1))))))
                (i32.const 2)))
            (if (i32.eq (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x7b))
              (then
                (if (i32.ge_u (local.get $d) (i32.const 524288))
                  (then (global.set $depth (local.get $d)) (return (i32.const -3))))
                (if (i32.eq (local.get $d) (global.get $rmin))
                  (then
                    (i32.store (local.get $out) (local.get $at))
                    (i32.store offset=4 (local.get $out) (local.get $lat))
                    (local.set $out (i32.add (local.get $out) (i32.const 8)))))
                (call $setKind (local.get $d) (local.get $kind))
                (local.set $d (i32.add (local.get $d) (i32.const 1))))
              (else
                (local.set $d (i32.sub (local.get $d) (i32.const 1)))
                (if (i32.lt_s (local.get $d) (global.get $rmin))
                  (then
                    ;; A level opened before the start: its kind is recorded, not checked.
                    (if (i32.lt_s (local.get $d) (i32.const 1))
                      (then (global.set $depth (i32.add (local.get $d) (i32.const 1))) (return (i32.const -3))))
                    (call $setReq (i32.sub (i32.const 262143) (local.get $d)) (local.get $kind))
                    (global.set $rmin (local.get $d))
                    (i32.store (local.get $out) (local.get $at))
                    (i32.store offset=4 (local.get $out) (i32.or (local.get $lat) (i32.const 2)))
                    (local.set $out (i32.add (local.get $out) (i32.const 8))))
                  (else
                    (if (i32.ne (call $kindAt (local.get $d)) (local.get $kind))
                      (then
                        (global.set $erropen (call $kindAt (local.get $d)))
                        (global.set $depth (i32.add (local.get $d) (i32.const 1)))
                        (return (i32.const -2))))
                    (if (i32.eq (local.get $d) (global.get $rmin))
                      (then
                        (i32.store (local.get $out) (local.get $at))
                        (i32.store offset=4 (local.get $out) (i32.or (local.get $lat) (i32.const 1)))
                        (local.set $out (i32.add (local.get $out) (i32.const 8)))))))))
            (local.set $s (i64.and (local.get $s) (i64.sub (local.get $s) (i64.const 1))))
            (br $brackets)))
        (local.set $lines (i32.add (local.get $lines) (i32.wrap_i64 (i64.popcnt (local.get $nl)))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $blocks)))
    (global.set $depth (local.get $d))
    (global.set $lines (local.get $lines))
    (global.set $stop (local.get $p))
    (global.set $outat (local.get $out))
    (local.get $r))

  ;; Records that the opener of relative level -1-i must be of `kind` (bit i at 66560).
  (func $setReq (param $i i32) (param $kind i32)
    (local $a i32) (local $bit i32)
    (local.set $a (i32.add (i32.const 66560) (i32.shr_u (local.get $i) (i32.const 3))))
    (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))
    (i32.store8 (local.get $a)
      (if (result i32) (i32.eq (local.get $kind) (i32.const 2))
        (then (i32.or (i32.load8_u (local.get $a)) (local.get $bit)))
        (else (i32.and (i32.load8_u (local.get $a)) (i32.xor (local.get $bit) (i32.const -1)))))))

  ;; Adds the newlines of `nl` (a mask of the block at `p`) to `lines` into the globals.
  (func $countLines (param $lines i32) (param $nl i64) (param $p i32)
    (global.set $lines (i32.add (local.get $lines) (i32.wrap_i64 (i64.popcnt (local.get $nl)))))
    (if (i64.ne (local.get $nl) (i64.const 0))
      (then (global.set $lastnl (i32.add (local.get $p) (i32.sub (i32.const 64) (i32.wrap_i64 (i64.clz (local.get $nl)))))))))

  (func $scramble (param $a v128) (param $k i32) (result v128)
    (local.set $a (v128.xor (local.get $a) (i64x2.shr_u (local.get $a) (i32.const 47))))
    (local.set $a (v128.xor (local.get $a) (v128.load offset=128 (local.get $k))))
    (i64x2.mul (local.get $a) (i64x2.splat (i64.const 0x9E3779B1))))

  (func $fmix (param $h i64) (result i64)
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (i64.const 0xff51afd7ed558ccd)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (i64.const 0xc4ceb9fe1a85ec53)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))))

  ;; The checksum of [p, p + len); its two 64-bit folds are left at [256, 272) (the digest).
  (func (export "hash") (param $p i32) (param $len i32) (result i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $k i32) (local $n i32) (local $rest i32) (local $d v128) (local $dk v128)
    (local.set $a0 (i64x2.splat (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $a1 (i64x2.splat (i64.const 0x165667B19E3779F9)))
    (local.set $a2 (i64x2.splat (i64.const 0x85EBCA77C2B2AE63)))
    (local.set $a3 (i64x2.splat (i64.const 0x27D4EB2F165667C5)))
    (local.set $rest (local.get $len))
    (block $done
      (loop $stripes
        (if (i32.lt_u (local.get $rest) (i32.const 64))
          (then
            (br_if $done (i32.eqz (local.get $rest)))
            ;; The last, partial stripe: zero-padded (the length is mixed in at the end).
            (memory.fill (i32.const 192) (i32.const 0) (i32.const 64))
            (memory.copy (i32.const 192) (local.get $p) (local.get $rest))
            (local.set $p (i32.const 192))
            (local.set $rest (i32.const 64))))
        (local.set $k (i32.shl (local.get $n) (i32.const 3)))
        (local.set $d (v128.load offset=0 (local.get $p)))
        (local.set $dk (v128.xor (local.get $d) (v128.load offset=0 (local.get $k))))
        (local.set $a0
          (i64x2.add
            (i64x2.add
              (local.get $a0)
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $dk) (local.get $dk))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $dk) (local.get $dk))))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (local.set $d (v128.load offset=16 (local.get $p)))
        (local.set $dk (v128.xor (local.get $d) (v128.load offset=16 (local.get $k))))
        (local.set $a1
          (i64x2.add
            (i64x2.add
              (local.get $a1)
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $dk) (local.get $dk))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $dk) (local.get $dk))))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (local.set $d (v128.load offset=32 (local.get $p)))
        (local.set $dk (v128.xor (local.get $d) (v128.load offset=32 (local.get $k))))
        (local.set $a2
          (i64x2.add
            (i64x2.add
              (local.get $a2)
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $dk) (local.get $dk))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $dk) (local.get $dk))))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (local.set $d (v128.load offset=48 (local.get $p)))
        (local.set $dk (v128.xor (local.get $d) (v128.load offset=48 (local.get $k))))
        (local.set $a3
          (i64x2.add
            (i64x2.add
              (local.get $a3)
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $dk) (local.get $dk))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $dk) (local.get $dk))))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $rest (i32.sub (local.get $rest) (i32.const 64)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (if (i32.eq (local.get $n) (i32.const 16))
          (then
            (local.set $n (i32.const 0))
            (local.set $a0 (call $scramble (local.get $a0) (i32.const 0)))
            (local.set $a1 (call $scramble (local.get $a1) (i32.const 16)))
            (local.set $a2 (call $scramble (local.get $a2) (i32.const 32)))
            (local.set $a3 (call $scramble (local.get $a3) (i32.const 48)))))
        (br $stripes)))
    (call $fold (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $len)))

  ;; The checksum of the lanes of a hash or sum of `len` bytes (32 bits); both 64-bit folds are
  ;; left at [256, 272).
  (func $fold (param $a0 v128) (param $a1 v128) (param $a2 v128) (param $a3 v128) (param $len i32) (result i32)
    (local $h i64) (local $h2 i64)
    (local $f0 i64) (local $f1 i64) (local $f2 i64) (local $f3 i64) (local $f4 i64) (local $f5 i64) (local $f6 i64) (local $f7 i64)
    (local.set $f0 (call $fmix (i64x2.extract_lane 0 (local.get $a0))))
    (local.set $f1 (call $fmix (i64x2.extract_lane 1 (local.get $a0))))
    (local.set $f2 (call $fmix (i64x2.extract_lane 0 (local.get $a1))))
    (local.set $f3 (call $fmix (i64x2.extract_lane 1 (local.get $a1))))
    (local.set $f4 (call $fmix (i64x2.extract_lane 0 (local.get $a2))))
    (local.set $f5 (call $fmix (i64x2.extract_lane 1 (local.get $a2))))
    (local.set $f6 (call $fmix (i64x2.extract_lane 0 (local.get $a3))))
    (local.set $f7 (call $fmix (i64x2.extract_lane 1 (local.get $a3))))
    (local.set $h (i64.mul (i64.extend_i32_u (local.get $len)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f0)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f1)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f2)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f3)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f4)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f5)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f6)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (local.get $f7)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (call $fmix (local.get $h)))
    ;; A second 64-bit fold of the same lanes (other order and constants), for `digest`.
    (local.set $h2 (i64.mul (i64.extend_i32_u (local.get $len)) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f7)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f6)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f5)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f4)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f3)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f2)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f1)) (i64.const 0x9E3779B185EBCA87)))
    (local.set $h2 (i64.mul (i64.xor (local.get $h2) (local.get $f0)) (i64.const 0x9E3779B185EBCA87)))
    (i64.store offset=256 (i32.const 0) (local.get $h))
    (i64.store offset=264 (i32.const 0) (call $fmix (local.get $h2)))
    (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32)))))

  ;; The block checksum of [p, p + len): the lanes of `hash` fed an NH-like stripe instead (per
  ;; 32 bytes: the data plus the secret as 32-bit words, the products of words i and i + 4 added to
  ;; 64-bit lanes, and the data's own 64-bit words added), about twice as fast, the same fold.
  (func (export "sum") (param $p i32) (param $len i32) (result i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $k i32) (local $n i32) (local $rest i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $x v128) (local $y v128)
    (local.set $a0 (i64x2.splat (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $a1 (i64x2.splat (i64.const 0x165667B19E3779F9)))
    (local.set $a2 (i64x2.splat (i64.const 0x85EBCA77C2B2AE63)))
    (local.set $a3 (i64x2.splat (i64.const 0x27D4EB2F165667C5)))
    (local.set $rest (local.get $len))
    (block $done
      (loop $stripes
        (if (i32.lt_u (local.get $rest) (i32.const 64))
          (then
            (br_if $done (i32.eqz (local.get $rest)))
            (memory.fill (i32.const 192) (i32.const 0) (i32.const 64))
            (memory.copy (i32.const 192) (local.get $p) (local.get $rest))
            (local.set $p (i32.const 192))
            (local.set $rest (i32.const 64))))
        (local.set $k (i32.shl (local.get $n) (i32.const 3)))
        (local.set $v0 (v128.load offset=0 (local.get $p)))
        (local.set $v1 (v128.load offset=16 (local.get $p)))
        (local.set $v2 (v128.load offset=32 (local.get $p)))
        (local.set $v3 (v128.load offset=48 (local.get $p)))
        (local.set $x (i32x4.add (local.get $v0) (v128.load offset=0 (local.get $k))))
        (local.set $y (i32x4.add (local.get $v1) (v128.load offset=16 (local.get $k))))
        (local.set $a0 (i64x2.add (i64x2.add (local.get $a0) (i64x2.extmul_low_i32x4_u (local.get $x) (local.get $y))) (local.get $v0)))
        (local.set $a1 (i64x2.add (i64x2.add (local.get $a1) (i64x2.extmul_high_i32x4_u (local.get $x) (local.get $y))) (local.get $v1)))
        (local.set $x (i32x4.add (local.get $v2) (v128.load offset=32 (local.get $k))))
        (local.set $y (i32x4.add (local.get $v3) (v128.load offset=48 (local.get $k))))
        (local.set $a2 (i64x2.add (i64x2.add (local.get $a2) (i64x2.extmul_low_i32x4_u (local.get $x) (local.get $y))) (local.get $v2)))
        (local.set $a3 (i64x2.add (i64x2.add (local.get $a3) (i64x2.extmul_high_i32x4_u (local.get $x) (local.get $y))) (local.get $v3)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $rest (i32.sub (local.get $rest) (i32.const 64)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (if (i32.eq (local.get $n) (i32.const 16))
          (then
            (local.set $n (i32.const 0))
            (local.set $a0 (call $scramble (local.get $a0) (i32.const 0)))
            (local.set $a1 (call $scramble (local.get $a1) (i32.const 16)))
            (local.set $a2 (call $scramble (local.get $a2) (i32.const 32)))
            (local.set $a3 (call $scramble (local.get $a3) (i32.const 48)))))
        (br $stripes)))
    (call $fold (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $len)))
)
