;; The byte-level fast path of validation over a whole block of lines (WebAssembly, 128-bit SIMD),
;; assembled at build time. It does for every line what fast.ts's fastLine does for one: recognise a
;; ShareGPT record that the full check finds nothing wrong with, and compute its facts (the id's hash,
;; the dialogue's signature, where the record's braces are), or answer "not sure". The rules are
;; fast.ts's, byte for byte (its comments say why each one is there); test/unit/validate/kernel.test.ts
;; compares the two on fixtures and random records. Strings are skipped 16 bytes at a time: a mask of
;; quotes, backslashes and control characters, then the first of them looked at.
;;
;; The line's bytes must be valid UTF-8 (the caller checks the block) and the byte at the block's end
;; a '\n' (a sentinel the caller writes; 16 more bytes after it must be readable): every scan stops
;; at a newline, so no scan needs the line's end beforehand.
;;
;; Memory layout (the memory is the caller's): [0, 256) the short escapes (`\x` -> the byte it
;; stands for, 0 for every other x), [256, 272) the id hash prefixes, [288, 407) what `convert`
;; writes around the texts; the facts table, the blocks, the turns table and the output area from
;; 1024 on (see kernel.ts).
;;
;; For the lines `run` accepts, `turns` reads where each turn's text is (stats counts from it) and
;; `convert` writes the OpenAI chat record from that (convert's fast path).
(module
  (import "env" "memory" (memory 1))

  (data (i32.const 34) "\22")
  (data (i32.const 47) "\2f")
  (data (i32.const 92) "\5c")
  (data (i32.const 98) "\08")
  (data (i32.const 102) "\0c")
  (data (i32.const 110) "\0a")
  (data (i32.const 114) "\0d")
  (data (i32.const 116) "\09")
  (data (i32.const 256) "string:\00number:\00")
  ;; What `convert` writes (OpenAI chat records, as JSON.stringify writes them).
  (data (i32.const 288) "{\22messages\22:[")
  (data (i32.const 304) "{\22role\22:\22user\22,\22content\22:\22")
  (data (i32.const 336) "{\22role\22:\22assistant\22,\22content\22:\22")
  (data (i32.const 368) "{\22role\22:\22system\22,\22content\22:\22")
  (data (i32.const 400) ",\22id\22:\22")

  (global $h0 (mut i32) (i32.const 0))
  (global $h1 (mut i32) (i32.const 0))
  (global $esc (mut i32) (i32.const 0)) ;; whether the last string read had an escape
  (global $slash (mut i32) (i32.const 0)) ;; set by a `\/` escape (JSON.stringify writes a bare '/')
  (global $nesc (mut i32) (i32.const 0)) ;; the escapes of the last string read
  (global $at (mut i32) (i32.const 0)) ;; the newline after the last accepted record
  (global $stop (mut i32) (i32.const 0)) ;; where the last `run` stopped

  (func (export "stop") (result i32) (global.get $stop))

  (func $hashStart
    (global.set $h0 (i32.const 0x811c9dc5))
    (global.set $h1 (i32.const 0x2545f491)))

  (func $hc (param $c i32)
    (global.set $h0 (i32.mul (i32.xor (global.get $h0) (local.get $c)) (i32.const 0x01000193)))
    (global.set $h1 (i32.mul (i32.xor (global.get $h1) (local.get $c)) (i32.const 0x5bd1e995))))

  ;; hash.ts's hashValue: 32 bits of one lane and 21 of the other, a 53-bit integer as a double.
  (func $hashValue (result f64)
    (f64.convert_i64_u
      (i64.or
        (i64.shl (i64.extend_i32_u (global.get $h0)) (i64.const 21))
        (i64.extend_i32_u
          (i32.and
            (i32.xor (global.get $h1) (i32.shr_u (global.get $h1) (i32.const 15)))
            (i32.const 0x1fffff))))))

  (func $ws (param $i i32) (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x20)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (local.get $i))

  ;; The first '\n' at or after `p` (there is one: the sentinel).
  (func $newline (param $p i32) (result i32)
    (local $m i32) (local $nl v128)
    (local.set $nl (i8x16.splat (i32.const 0x0a)))
    (loop $more
      (local.set $m (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (local.get $nl))))
      (if (i32.eqz (local.get $m))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $more))))
    (i32.add (local.get $p) (i32.ctz (local.get $m))))

  ;; The string whose opening quote is at `i`: the address of its closing quote, or -1 at a control
  ;; character (the line's end included) or an escape other than the short ones. Sets $esc.
  (func $str (param $i i32) (result i32)
    (local $m i32) (local $c i32) (local $v v128)
    (local $cq v128) (local $cb v128) (local $cc v128)
    (local.set $cq (i8x16.splat (i32.const 0x22)))
    (local.set $cb (i8x16.splat (i32.const 0x5c)))
    (local.set $cc (i8x16.splat (i32.const 0x20)))
    (global.set $esc (i32.const 0))
    (global.set $nesc (i32.const 0))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (loop $more
      (local.set $v (v128.load (local.get $i)))
      (local.set $m
        (i8x16.bitmask
          (v128.or
            (v128.or (i8x16.eq (local.get $v) (local.get $cq)) (i8x16.eq (local.get $v) (local.get $cb)))
            (i8x16.lt_u (local.get $v) (local.get $cc)))))
      (if (i32.eqz (local.get $m))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $more)))
      (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x22)) (then (return (local.get $i))))
      (if (i32.eq (local.get $c) (i32.const 0x5c))
        (then
          (if (i32.eqz (i32.load8_u (i32.load8_u (i32.add (local.get $i) (i32.const 1)))))
            (then (return (i32.const -1))))
          (global.set $esc (i32.const 1))
          (global.set $nesc (i32.add (global.get $nesc) (i32.const 1)))
          (if (i32.eq (i32.load8_u offset=1 (local.get $i)) (i32.const 0x2f)) (then (global.set $slash (i32.const 1))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $more))))
    (i32.const -1))

  ;; The code point of the UTF-8 sequence whose lead byte `c` (>= 0xc0) is at `i`.
  (func $cp (param $i i32) (param $c i32) (result i32)
    (if (i32.lt_u (local.get $c) (i32.const 0xe0))
      (then
        (return
          (i32.or
            (i32.shl (i32.and (local.get $c) (i32.const 0x1f)) (i32.const 6))
            (i32.and (i32.load8_u offset=1 (local.get $i)) (i32.const 0x3f))))))
    (if (i32.lt_u (local.get $c) (i32.const 0xf0))
      (then
        (return
          (i32.or
            (i32.or
              (i32.shl (i32.and (local.get $c) (i32.const 0x0f)) (i32.const 12))
              (i32.shl (i32.and (i32.load8_u offset=1 (local.get $i)) (i32.const 0x3f)) (i32.const 6)))
            (i32.and (i32.load8_u offset=2 (local.get $i)) (i32.const 0x3f))))))
    (i32.or
      (i32.or
        (i32.shl (i32.and (local.get $c) (i32.const 0x07)) (i32.const 18))
        (i32.shl (i32.and (i32.load8_u offset=1 (local.get $i)) (i32.const 0x3f)) (i32.const 12)))
      (i32.or
        (i32.shl (i32.and (i32.load8_u offset=2 (local.get $i)) (i32.const 0x3f)) (i32.const 6))
        (i32.and (i32.load8_u offset=3 (local.get $i)) (i32.const 0x3f)))))

  ;; hash.ts's hashNormRawForward of [lo, hi) with a limit of 16: the number of characters hashed.
  (func $hashFwd (param $lo i32) (param $hi i32) (result i32)
    (local $a i32) (local $b i32) (local $pend i32) (local $started i32) (local $n i32)
    (local $i i32) (local $c i32)
    (local.set $a (global.get $h0))
    (local.set $b (global.get $h1))
    (local.set $i (local.get $lo))
    (block $done
      (loop $more
        (br_if $done (i32.ge_s (local.get $i) (local.get $hi)))
        (br_if $done (i32.ge_s (local.get $n) (i32.const 16)))
        (block $next
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.eq (local.get $c) (i32.const 0x5c))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $c (i32.load8_u (i32.load8_u (local.get $i)))))
            (else
              (if (i32.ge_u (local.get $c) (i32.const 0x80))
                (then
                  (br_if $next (i32.lt_u (local.get $c) (i32.const 0xc0)))
                  (local.set $c (call $cp (local.get $i) (local.get $c)))))))
          (if (i32.or (i32.le_u (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 0xa0)))
            (then
              (if (local.get $started) (then (local.set $pend (i32.const 1))))
              (br $next)))
          (if (local.get $pend)
            (then
              (local.set $a (i32.mul (i32.xor (local.get $a) (i32.const 32)) (i32.const 0x01000193)))
              (local.set $b (i32.mul (i32.xor (local.get $b) (i32.const 32)) (i32.const 0x5bd1e995)))
              (local.set $pend (i32.const 0))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))))
          (local.set $started (i32.const 1))
          (local.set $a (i32.mul (i32.xor (local.get $a) (local.get $c)) (i32.const 0x01000193)))
          (local.set $b (i32.mul (i32.xor (local.get $b) (local.get $c)) (i32.const 0x5bd1e995)))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (global.set $h0 (local.get $a))
    (global.set $h1 (local.get $b))
    (local.get $n))

  ;; hash.ts's hashNormRawBackward of [lo, hi) with a limit of 16.
  (func $hashBwd (param $lo i32) (param $hi i32) (result i32)
    (local $a i32) (local $b i32) (local $pend i32) (local $started i32) (local $n i32)
    (local $i i32) (local $c i32) (local $k i32)
    (local.set $a (global.get $h0))
    (local.set $b (global.get $h1))
    (local.set $i (i32.sub (local.get $hi) (i32.const 1)))
    (block $done
      (loop $more
        (br_if $done (i32.lt_s (local.get $i) (local.get $lo)))
        (br_if $done (i32.ge_s (local.get $n) (i32.const 16)))
        (block $next
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.lt_u (local.get $c) (i32.const 0x80))
            (then
              (if (i32.and
                    (i32.ge_s (i32.sub (local.get $i) (i32.const 1)) (local.get $lo))
                    (i32.eq (i32.load8_u (i32.sub (local.get $i) (i32.const 1))) (i32.const 0x5c)))
                (then
                  ;; Escaped when an odd number of backslashes precedes it.
                  (local.set $k (i32.const 1))
                  (block $counted
                    (loop $count
                      (br_if $counted
                        (i32.lt_s (i32.sub (i32.sub (local.get $i) (i32.const 1)) (local.get $k)) (local.get $lo)))
                      (br_if $counted
                        (i32.ne
                          (i32.load8_u (i32.sub (i32.sub (local.get $i) (i32.const 1)) (local.get $k)))
                          (i32.const 0x5c)))
                      (local.set $k (i32.add (local.get $k) (i32.const 1)))
                      (br $count)))
                  (if (i32.and (local.get $k) (i32.const 1))
                    (then
                      (local.set $c (i32.load8_u (local.get $c)))
                      (local.set $i (i32.sub (local.get $i) (i32.const 1))))))))
            (else
              (br_if $next (i32.lt_u (local.get $c) (i32.const 0xc0)))
              (local.set $c (call $cp (local.get $i) (local.get $c)))))
          (if (i32.or (i32.le_u (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 0xa0)))
            (then
              (if (local.get $started) (then (local.set $pend (i32.const 1))))
              (br $next)))
          (if (local.get $pend)
            (then
              (local.set $a (i32.mul (i32.xor (local.get $a) (i32.const 32)) (i32.const 0x01000193)))
              (local.set $b (i32.mul (i32.xor (local.get $b) (i32.const 32)) (i32.const 0x5bd1e995)))
              (local.set $pend (i32.const 0))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))))
          (local.set $started (i32.const 1))
          (local.set $a (i32.mul (i32.xor (local.get $a) (local.get $c)) (i32.const 0x01000193)))
          (local.set $b (i32.mul (i32.xor (local.get $b) (local.get $c)) (i32.const 0x5bd1e995)))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $more)))
    (global.set $h0 (local.get $a))
    (global.set $h1 (local.get $b))
    (local.get $n))

  ;; fast.ts's hasText: whether the raw string content [a, b) holds something other than whitespace.
  (func $hasText (param $a i32) (param $b i32) (result i32)
    (local $i i32) (local $c i32) (local $d i32) (local $e i32)
    (local.set $i (local.get $a))
    (block $done
      (loop $more
        (br_if $done (i32.ge_s (local.get $i) (local.get $b)))
        (block $next
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.eq (local.get $c) (i32.const 0x5c))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $c (i32.load8_u (i32.load8_u (local.get $i))))))
          (br_if $next (i32.le_u (local.get $c) (i32.const 32)))
          (local.set $d (i32.load8_u offset=1 (local.get $i)))
          (local.set $e (i32.load8_u offset=2 (local.get $i)))
          (if (i32.and (i32.eq (local.get $c) (i32.const 0xc2)) (i32.eq (local.get $d) (i32.const 0xa0)))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $next)))
          (if (i32.and
                (i32.and (i32.eq (local.get $c) (i32.const 0xe2)) (i32.eq (local.get $d) (i32.const 0x80)))
                (i32.and (i32.ge_u (local.get $e) (i32.const 0x80)) (i32.le_u (local.get $e) (i32.const 0x8b))))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 2)))
              (br $next)))
          (if (i32.and
                (i32.and (i32.eq (local.get $c) (i32.const 0xe3)) (i32.eq (local.get $d) (i32.const 0x80)))
                (i32.eq (local.get $e) (i32.const 0x80)))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 2)))
              (br $next)))
          (return (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (i32.const 0))

  ;; fast.ts's roleCode of the string content [a, b): 0x55 user, 0x41 assistant, 0x53 system, 0 other.
  (func $role (param $a i32) (param $b i32) (result i32)
    (local $n i32)
    (local.set $n (i32.sub (local.get $b) (local.get $a)))
    (if (i32.eq (local.get $n) (i32.const 3))
      (then
        (return
          (select (i32.const 0x41) (i32.const 0)
            (i32.and
              (i32.eq (i32.load16_u (local.get $a)) (i32.const 0x7067))
              (i32.eq (i32.load8_u offset=2 (local.get $a)) (i32.const 0x74)))))))
    (if (i32.eq (local.get $n) (i32.const 4))
      (then
        (return (select (i32.const 0x55) (i32.const 0) (i32.eq (i32.load (local.get $a)) (i32.const 0x72657375))))))
    (if (i32.eq (local.get $n) (i32.const 5))
      (then
        (return
          (select (i32.const 0x55) (i32.const 0)
            (i32.and
              (i32.eq (i32.load (local.get $a)) (i32.const 0x616d7568))
              (i32.eq (i32.load8_u offset=4 (local.get $a)) (i32.const 0x6e)))))))
    (if (i32.eq (local.get $n) (i32.const 6))
      (then
        (return
          (select (i32.const 0x53) (i32.const 0)
            (i32.and
              (i32.eq (i32.load (local.get $a)) (i32.const 0x74737973))
              (i32.eq (i32.load16_u offset=4 (local.get $a)) (i32.const 0x6d65)))))))
    (if (i32.eq (local.get $n) (i32.const 9))
      (then
        (return
          (select (i32.const 0x41) (i32.const 0)
            (i32.and
              (i64.eq (i64.load (local.get $a)) (i64.const 0x6e61747369737361))
              (i32.eq (i32.load8_u offset=8 (local.get $a)) (i32.const 0x74)))))))
    (i32.const 0))

  ;; fast.ts's turns: the conversations array at `i` ('['), each turn hashed into the signature;
  ;; the address after its ']', or -1.
  (func $turns (param $i i32) (result i32)
    (local $n i32) (local $prev i32) (local $role i32) (local $va i32) (local $vb i32)
    (local $k i32) (local $q i32) (local $klen i32) (local $c i32)
    (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
    (loop $turn
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x7b)) (then (return (i32.const -1))))
      (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
      (local.set $role (i32.const 0))
      (local.set $va (i32.const -1))
      (loop $member
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
        (local.set $k (call $str (local.get $i)))
        (if (i32.or (i32.lt_s (local.get $k) (i32.const 0)) (global.get $esc)) (then (return (i32.const -1))))
        (local.set $klen (i32.sub (i32.sub (local.get $k) (local.get $i)) (i32.const 1)))
        (local.set $i (call $ws (i32.add (local.get $k) (i32.const 1))))
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a)) (then (return (i32.const -1))))
        (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
        (local.set $q (call $str (local.get $i)))
        (if (i32.lt_s (local.get $q) (i32.const 0)) (then (return (i32.const -1))))
        (block $known
          (if (i32.and
                (i32.eq (local.get $klen) (i32.const 4))
                (i32.eq (i32.load (i32.sub (local.get $k) (i32.const 4))) (i32.const 0x6d6f7266)))
            (then
              (if (i32.or (local.get $role) (global.get $esc)) (then (return (i32.const -1))))
              (local.set $role (call $role (i32.add (local.get $i) (i32.const 1)) (local.get $q)))
              (if (i32.eqz (local.get $role)) (then (return (i32.const -1))))
              (br $known)))
          (if (i32.and
                (i32.eq (local.get $klen) (i32.const 5))
                (i32.and
                  (i32.eq (i32.load (i32.sub (local.get $k) (i32.const 5))) (i32.const 0x756c6176))
                  (i32.eq (i32.load8_u (i32.sub (local.get $k) (i32.const 1))) (i32.const 0x65))))
            (then
              (if (i32.ge_s (local.get $va) (i32.const 0)) (then (return (i32.const -1))))
              (local.set $va (i32.add (local.get $i) (i32.const 1)))
              (local.set $vb (local.get $q))
              (br $known)))
          (return (i32.const -1)))
        (local.set $i (call $ws (i32.add (local.get $q) (i32.const 1))))
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 0x2c))
          (then
            (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
            (br $member)))
        (if (i32.ne (local.get $c) (i32.const 0x7d)) (then (return (i32.const -1)))))
      (if (i32.or (i32.eqz (local.get $role)) (i32.lt_s (local.get $va) (i32.const 0)))
        (then (return (i32.const -1))))
      (if (i32.eqz (call $hasText (local.get $va) (local.get $vb))) (then (return (i32.const -1))))
      (if (i32.eq (local.get $role) (i32.const 0x53))
        (then (if (local.get $n) (then (return (i32.const -1)))))
        (else
          (if (i32.ne (local.get $role)
                (select (i32.const 0x41) (i32.const 0x55) (i32.eq (local.get $prev) (i32.const 0x55))))
            (then (return (i32.const -1))))
          (local.set $prev (local.get $role))))
      (call $hc (local.get $role))
      (call $hc (i32.const 0x1e))
      (if (call $hashFwd (local.get $va) (local.get $vb))
        (then
          (call $hc (i32.const 0x19))
          (drop (call $hashBwd (local.get $va) (local.get $vb)))))
      (call $hc (i32.const 0x1d))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x2c))
        (then
          (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
          (br $turn))))
    (if (i32.ne (local.get $c) (i32.const 0x5d)) (then (return (i32.const -1))))
    (if (i32.ne (local.get $role) (i32.const 0x41)) (then (return (i32.const -1))))
    (i32.add (local.get $i) (i32.const 1)))

  ;; fast.ts's fastShareGpt for the line at `p`: 1 with the facts at `o` (idHash f64, signature f64,
  ;; recStart, recEnd relative to `p`) and $at at the line's newline; 0 when it cannot tell.
  (func $record (param $p i32) (param $o i32) (result i32)
    (local $i i32) (local $k i32) (local $q i32) (local $klen i32) (local $c i32) (local $j i32)
    (local $d i32) (local $digits i32) (local $recStart i32) (local $close i32)
    (local $idStart i32) (local $idEnd i32) (local $idNumber i32) (local $seenConv i32)
    (local.set $idStart (i32.const -1))
    (local.set $i (call $ws (local.get $p)))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x7b)) (then (return (i32.const 0))))
    (local.set $recStart (i32.sub (local.get $i) (local.get $p)))
    (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
    (call $hashStart)
    (call $hc (i32.const 0x1a))
    (loop $member
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const 0))))
      (local.set $k (call $str (local.get $i)))
      (if (i32.or (i32.lt_s (local.get $k) (i32.const 0)) (global.get $esc)) (then (return (i32.const 0))))
      (local.set $klen (i32.sub (i32.sub (local.get $k) (local.get $i)) (i32.const 1)))
      (local.set $i (call $ws (i32.add (local.get $k) (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a)) (then (return (i32.const 0))))
      (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
      (block $known
        (if (i32.and
              (i32.eq (local.get $klen) (i32.const 2))
              (i32.eq (i32.load16_u (i32.sub (local.get $k) (i32.const 2))) (i32.const 0x6469)))
          (then
            (if (i32.ge_s (local.get $idStart) (i32.const 0)) (then (return (i32.const 0))))
            (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x22))
              (then
                (local.set $q (call $str (local.get $i)))
                (if (i32.or (i32.lt_s (local.get $q) (i32.const 0)) (global.get $esc)) (then (return (i32.const 0))))
                (local.set $idStart (i32.add (local.get $i) (i32.const 1)))
                (local.set $idEnd (local.get $q))
                (local.set $j (local.get $idStart))
                (block $ascii
                  (loop $each
                    (br_if $ascii (i32.ge_s (local.get $j) (local.get $idEnd)))
                    (if (i32.ge_u (i32.load8_u (local.get $j)) (i32.const 0x80)) (then (return (i32.const 0))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $each)))
                (local.set $idNumber (i32.const 0))
                (local.set $i (i32.add (local.get $q) (i32.const 1))))
              (else
                ;; An integer that String() writes back the same: no sign on 0, no leading 0, 15 digits at most.
                (local.set $idStart (local.get $i))
                (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2d))
                  (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
                (local.set $d (local.get $i))
                (block $end
                  (loop $digit
                    (br_if $end (i32.gt_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 0x30)) (i32.const 9)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $digit)))
                (local.set $digits (i32.sub (local.get $i) (local.get $d)))
                (if (i32.or
                      (i32.or (i32.eqz (local.get $digits)) (i32.gt_s (local.get $digits) (i32.const 15)))
                      (i32.and (i32.gt_s (local.get $digits) (i32.const 1))
                        (i32.eq (i32.load8_u (local.get $d)) (i32.const 0x30))))
                  (then (return (i32.const 0))))
                (if (i32.and
                      (i32.and (i32.eq (local.get $digits) (i32.const 1))
                        (i32.eq (i32.load8_u (local.get $d)) (i32.const 0x30)))
                      (i32.gt_s (local.get $d) (local.get $idStart)))
                  (then (return (i32.const 0))))
                (local.set $c (i32.load8_u (local.get $i)))
                (if (i32.eqz
                      (i32.or
                        (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x2c)))
                        (i32.eq (local.get $c) (i32.const 0x7d))))
                  (then (return (i32.const 0))))
                (local.set $idEnd (local.get $i))
                (local.set $idNumber (i32.const 1))))
            (br $known)))
        (if (i32.and
              (i32.eq (local.get $klen) (i32.const 13))
              (i32.and
                (i64.eq (i64.load (i32.sub (local.get $k) (i32.const 13))) (i64.const 0x61737265766e6f63))
                (i32.and
                  (i32.eq (i32.load (i32.sub (local.get $k) (i32.const 5))) (i32.const 0x6e6f6974))
                  (i32.eq (i32.load8_u (i32.sub (local.get $k) (i32.const 1))) (i32.const 0x73)))))
          (then
            (if (i32.or (local.get $seenConv) (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x5b)))
              (then (return (i32.const 0))))
            (local.set $seenConv (i32.const 1))
            (local.set $i (call $turns (local.get $i)))
            (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 0))))
            (br $known)))
        (return (i32.const 0)))
      (local.set $i (call $ws (local.get $i)))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x2c))
        (then
          (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
          (br $member)))
      (if (i32.ne (local.get $c) (i32.const 0x7d)) (then (return (i32.const 0)))))
    (if (i32.eqz (local.get $seenConv)) (then (return (i32.const 0))))
    (local.set $close (local.get $i))
    ;; Only spaces, then perhaps one '\r', up to the newline.
    (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x0d))
      (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x0a)) (then (return (i32.const 0))))
    (global.set $at (local.get $i))
    (f64.store offset=8 (local.get $o) (call $hashValue))
    (if (i32.lt_s (local.get $idStart) (i32.const 0))
      (then (f64.store (local.get $o) (f64.const nan)))
      (else
        ;; hashString(typeof id + ':' + String(id)), from the bytes.
        (call $hashStart)
        (local.set $j (select (i32.const 264) (i32.const 256) (local.get $idNumber)))
        (block $prefixed
          (loop $each
            (local.set $c (i32.load8_u (local.get $j)))
            (br_if $prefixed (i32.eqz (local.get $c)))
            (call $hc (local.get $c))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $each)))
        (local.set $j (local.get $idStart))
        (block $hashed
          (loop $each
            (br_if $hashed (i32.ge_s (local.get $j) (local.get $idEnd)))
            (call $hc (i32.load8_u (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $each)))
        (f64.store (local.get $o) (call $hashValue))))
    (i32.store offset=16 (local.get $o) (local.get $recStart))
    (i32.store offset=20 (local.get $o) (i32.add (i32.sub (local.get $close) (local.get $p)) (i32.const 1)))
    (i32.const 1))

  ;; A line `run` accepted, at `p`, as an OpenAI chat record, written at `dst` the way the full
  ;; conversion writes it (convertRecord: JSON.stringify of {messages: [{role, content}], id}), its
  ;; turns read by `turns` into `table` (room for `cap` turns): the number of bytes written, or -1
  ;; when the full conversion must do it (what `turns` declines; a numeric id, which OpenAI chat
  ;; drops and reports). Texts are copied as their source bytes: with short escapes other than `\/`
  ;; and valid UTF-8, those are what JSON.stringify writes for them.
  (func (export "convert") (param $p i32) (param $dst i32) (param $table i32) (param $cap i32) (result i32)
    (local $n i32) (local $o i32) (local $t i32) (local $end i32) (local $role i32) (local $va i32) (local $len i32)
    (local.set $n (call $readTurns (local.get $p) (local.get $table) (local.get $cap)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eq (i32.load offset=12 (local.get $table)) (i32.const 2)) (then (return (i32.const -1))))
    (memory.copy (local.get $dst) (i32.const 288) (i32.const 13))
    (local.set $o (i32.add (local.get $dst) (i32.const 13)))
    (local.set $t (i32.add (local.get $table) (i32.const 16)))
    (local.set $end (i32.add (local.get $t) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $turn
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (if (i32.ne (local.get $t) (i32.add (local.get $table) (i32.const 16)))
          (then
            (i32.store8 (local.get $o) (i32.const 0x2c))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))))
        (local.set $role (i32.load (local.get $t)))
        (if (i32.eq (local.get $role) (i32.const 0x55))
          (then
            (memory.copy (local.get $o) (i32.const 304) (i32.const 26))
            (local.set $o (i32.add (local.get $o) (i32.const 26)))))
        (if (i32.eq (local.get $role) (i32.const 0x41))
          (then
            (memory.copy (local.get $o) (i32.const 336) (i32.const 31))
            (local.set $o (i32.add (local.get $o) (i32.const 31)))))
        (if (i32.eq (local.get $role) (i32.const 0x53))
          (then
            (memory.copy (local.get $o) (i32.const 368) (i32.const 28))
            (local.set $o (i32.add (local.get $o) (i32.const 28)))))
        ;; The text between its quotes (the prefix ends with the opening one).
        (local.set $va (i32.add (i32.load offset=4 (local.get $t)) (i32.const 1)))
        (local.set $len (i32.sub (i32.load offset=8 (local.get $t)) (local.get $va)))
        (memory.copy (local.get $o) (local.get $va) (local.get $len))
        (local.set $o (i32.add (local.get $o) (local.get $len)))
        (i32.store16 (local.get $o) (i32.const 0x7d22)) ;; "}
        (local.set $o (i32.add (local.get $o) (i32.const 2)))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (br $turn)))
    (i32.store8 (local.get $o) (i32.const 0x5d)) ;; ]
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (if (i32.eq (i32.load offset=12 (local.get $table)) (i32.const 1))
      (then
        (memory.copy (local.get $o) (i32.const 400) (i32.const 7))
        (local.set $o (i32.add (local.get $o) (i32.const 7)))
        (local.set $va (i32.load offset=4 (local.get $table)))
        (local.set $len (i32.sub (i32.load offset=8 (local.get $table)) (local.get $va)))
        (memory.copy (local.get $o) (local.get $va) (local.get $len))
        (local.set $o (i32.add (local.get $o) (local.get $len)))
        (i32.store8 (local.get $o) (i32.const 0x22))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))))
    (i32.store8 (local.get $o) (i32.const 0x7d)) ;; }
    (i32.sub (i32.add (local.get $o) (i32.const 1)) (local.get $dst)))

  ;; The code points of the UTF-8 bytes [a, b): the bytes that do not continue a sequence.
  (func $leads (param $a i32) (param $b i32) (result i32)
    (local $n i32) (local $c0 v128) (local $c8 v128)
    (local.set $c0 (i8x16.splat (i32.const 0xc0)))
    (local.set $c8 (i8x16.splat (i32.const 0x80)))
    (block $done
      (loop $more
        (br_if $done (i32.gt_s (i32.add (local.get $a) (i32.const 16)) (local.get $b)))
        (local.set $n
          (i32.add (local.get $n)
            (i32.popcnt
              (i8x16.bitmask (i8x16.ne (v128.and (v128.load (local.get $a)) (local.get $c0)) (local.get $c8))))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $more)))
    (block $end
      (loop $byte
        (br_if $end (i32.ge_s (local.get $a) (local.get $b)))
        (if (i32.ne (i32.and (i32.load8_u (local.get $a)) (i32.const 0xc0)) (i32.const 0x80))
          (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $byte)))
    (local.get $n))

  ;; A line `run` accepted, at `p`, read for stats: at `dst` (i32s) the number of turns, the id's
  ;; start and end (its content: a string's between the quotes, a number's digits) and its kind
  ;; (0 none, 1 string, 2 number), then per turn its role code (fast.ts's roleCode), the address of
  ;; its text's opening quote and of the closing one, and the text's code points. Returns the number
  ;; of turns, or -1 when the full path must read the line (a `\/` escape: JSON.stringify writes a
  ;; bare '/'; more than `cap` turns).
  (func $readTurns (export "turns") (param $p i32) (param $dst i32) (param $cap i32) (result i32)
    (local $i i32) (local $k i32) (local $q i32) (local $o i32) (local $n i32)
    (local $role i32) (local $va i32) (local $vb i32) (local $esc i32)
    (global.set $slash (i32.const 0))
    (i64.store (local.get $dst) (i64.const 0))
    (i64.store offset=8 (local.get $dst) (i64.const 0))
    (local.set $o (i32.add (local.get $dst) (i32.const 16)))
    (local.set $i (call $ws (i32.add (call $ws (local.get $p)) (i32.const 1))))
    (loop $member
      (local.set $k (call $str (local.get $i)))
      (local.set $i (call $ws (i32.add (call $ws (i32.add (local.get $k) (i32.const 1))) (i32.const 1))))
      (if (i32.eq (i32.load8_u (i32.sub (local.get $k) (i32.const 1))) (i32.const 0x64)) ;; "id"
        (then
          (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x22))
            (then
              (local.set $q (call $str (local.get $i)))
              (i32.store offset=4 (local.get $dst) (i32.add (local.get $i) (i32.const 1)))
              (i32.store offset=8 (local.get $dst) (local.get $q))
              (i32.store offset=12 (local.get $dst) (i32.const 1))
              (local.set $i (i32.add (local.get $q) (i32.const 1))))
            (else
              (i32.store offset=4 (local.get $dst) (local.get $i))
              (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2d))
                (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
              (block $end
                (loop $digit
                  (br_if $end (i32.gt_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 0x30)) (i32.const 9)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $digit)))
              (i32.store offset=8 (local.get $dst) (local.get $i))
              (i32.store offset=12 (local.get $dst) (i32.const 2)))))
        (else
          (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
          (loop $turn
            (if (i32.ge_u (local.get $n) (local.get $cap)) (then (return (i32.const -1))))
            (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
            (loop $field
              (local.set $k (call $str (local.get $i)))
              (local.set $i (call $ws (i32.add (call $ws (i32.add (local.get $k) (i32.const 1))) (i32.const 1))))
              (local.set $q (call $str (local.get $i)))
              (if (i32.eq (i32.load8_u (i32.sub (local.get $k) (i32.const 1))) (i32.const 0x6d)) ;; "from"
                (then (local.set $role (call $role (i32.add (local.get $i) (i32.const 1)) (local.get $q))))
                (else
                  (local.set $va (local.get $i))
                  (local.set $vb (local.get $q))
                  (local.set $esc (global.get $nesc))))
              (local.set $i (call $ws (i32.add (local.get $q) (i32.const 1))))
              (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2c))
                (then
                  (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
                  (br $field))))
            (i32.store (local.get $o) (local.get $role))
            (i32.store offset=4 (local.get $o) (local.get $va))
            (i32.store offset=8 (local.get $o) (local.get $vb))
            (i32.store offset=12 (local.get $o)
              (i32.sub (call $leads (i32.add (local.get $va) (i32.const 1)) (local.get $vb)) (local.get $esc)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
            (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2c))
              (then
                (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
                (br $turn))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (call $ws (local.get $i)))
      (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2c))
        (then
          (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
          (br $member))))
    (if (global.get $slash) (then (return (i32.const -1))))
    (i32.store (local.get $dst) (local.get $n))
    (local.get $n))

  ;; The lines of [p, end) (p at a line start, a '\n' sentinel at `end`), at most `cap` of them: for
  ;; line n, 32 bytes at out + 32n: idHash (f64), signature (f64), recStart, recEnd (relative to the
  ;; line), the address of the line's end (its '\n', or `end`), and 1 when the fast path accepted it
  ;; (the facts are only written then). Returns how many lines; `stop` is where the next one starts.
  (func (export "run") (param $p i32) (param $end i32) (param $out i32) (param $cap i32) (result i32)
    (local $n i32) (local $o i32) (local $ok i32) (local $nl i32)
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.ge_u (local.get $n) (local.get $cap)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 5))))
        (local.set $ok (call $record (local.get $p) (local.get $o)))
        (local.set $nl (if (result i32) (local.get $ok) (then (global.get $at)) (else (call $newline (local.get $p)))))
        (i32.store offset=24 (local.get $o) (local.get $nl))
        (i32.store offset=28 (local.get $o) (local.get $ok))
        (local.set $p (i32.add (local.get $nl) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $line)))
    (global.set $stop (local.get $p))
    (local.get $n))
)
