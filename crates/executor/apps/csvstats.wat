;; CSV statistics: reads CSV of signed 64-bit integers from stdin and prints, per column,
;; `count`, `min`, `max` and `sum` as JSON:
;;   {"rows":R,"columns":[{"count":C,"min":m,"max":M,"sum":S},...]}
;; Fields are separated by `,`, rows by `\n` (`\r`, spaces and tabs around a number are ignored).
;; Lines holding only whitespace are skipped. An empty field is a missing value: it counts for
;; nothing, and a column with no values has `"min":null,"max":null`. Rows may have different
;; lengths. Anything else exits with code 1 and one line on stderr:
;;   bad input: line N: not an integer | integer out of range | more than 256 columns |
;;   sum overflows 64 bits
;;
;; Memory: 0 iovec, 8 nread, 12 nwritten, 16..320 strings, 512..536 digit scratch,
;; 1024..9216 columns (256 x {count, min, max, sum} as i64), 16384..81920 input buffer,
;; 81920..147456 output buffer.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 3)
  (data (i32.const 16) "{\"rows\":")                   ;; 8
  (data (i32.const 32) ",\"columns\":[")               ;; 12
  (data (i32.const 48) "{\"count\":")                  ;; 9
  (data (i32.const 64) ",\"min\":")                    ;; 7
  (data (i32.const 80) ",\"max\":")                    ;; 7
  (data (i32.const 96) ",\"sum\":")                    ;; 7
  (data (i32.const 112) "}")                           ;; 1
  (data (i32.const 116) ",")                           ;; 1
  (data (i32.const 120) "]}\n")                        ;; 3
  (data (i32.const 128) "null")                        ;; 4
  (data (i32.const 144) "bad input: line ")            ;; 16
  (data (i32.const 176) ": not an integer\n")          ;; 17
  (data (i32.const 208) ": integer out of range\n")    ;; 23
  (data (i32.const 240) ": more than 256 columns\n")   ;; 24
  (data (i32.const 272) ": sum overflows 64 bits\n")   ;; 24
  (data (i32.const 304) "-")                           ;; 1

  (global $out (mut i32) (i32.const 81920))
  ;; parser state
  (global $line (mut i64) (i64.const 1))
  (global $col (mut i32) (i32.const 0))
  (global $ncols (mut i32) (i32.const 0))
  (global $rows (mut i64) (i64.const 0))
  (global $content (mut i32) (i32.const 0))   ;; the line has a byte other than whitespace
  (global $digits (mut i32) (i32.const 0))    ;; digits in the current field
  (global $signed (mut i32) (i32.const 0))    ;; the field has a sign
  (global $neg (mut i32) (i32.const 0))       ;; ... and it is `-`
  (global $trailing (mut i32) (i32.const 0))  ;; whitespace after the number began
  (global $val (mut i64) (i64.const 0))       ;; magnitude so far

  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0) (local.get $ptr))
        (i32.store (i32.const 4) (local.get $len))
        (if (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 12))
          (then (call $proc_exit (i32.const 1))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 12))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 12))))
        (br $again))))

  (func $flush
    (call $write_all (i32.const 1) (i32.const 81920) (i32.sub (global.get $out) (i32.const 81920)))
    (global.set $out (i32.const 81920)))

  ;; Appends [src, src+len) (len <= 64) to the output buffer, flushing it when nearly full.
  (func $emit (param $src i32) (param $len i32)
    (if (i32.gt_u (i32.add (global.get $out) (local.get $len)) (i32.const 147456))
      (then (call $flush)))
    (memory.copy (global.get $out) (local.get $src) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  (func $emit_u64 (param $v i64)
    (local $p i32)
    (local.set $p (i32.const 536))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (call $emit (local.get $p) (i32.sub (i32.const 536) (local.get $p))))

  ;; Signed; i64::MIN prints right because its negation, read unsigned, is its magnitude.
  (func $emit_i64 (param $v i64)
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then
        (call $emit (i32.const 304) (i32.const 1))
        (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (call $emit_u64 (local.get $v)))

  ;; Prints `bad input: line N<msg>` on stderr and exits with code 1. Nothing was written to
  ;; stdout yet, so the output buffer is free.
  (func $fail (param $msg i32) (param $len i32)
    (global.set $out (i32.const 81920))
    (call $emit (i32.const 144) (i32.const 16))
    (call $emit_u64 (global.get $line))
    (call $emit (local.get $msg) (local.get $len))
    (call $write_all (i32.const 2) (i32.const 81920) (i32.sub (global.get $out) (i32.const 81920)))
    (call $proc_exit (i32.const 1)))

  (func $not_an_integer (call $fail (i32.const 176) (i32.const 17)))

  (func $end_field
    (local $e i32) (local $v i64) (local $s i64) (local $sum i64)
    (if (global.get $content)
      (then
        (if (i32.ge_u (global.get $col) (i32.const 256))
          (then (call $fail (i32.const 240) (i32.const 24))))
        (if (i32.ge_u (global.get $col) (global.get $ncols))
          (then (global.set $ncols (i32.add (global.get $col) (i32.const 1)))))))
    (if (i32.and (global.get $signed) (i32.eqz (global.get $digits)))
      (then (call $not_an_integer)))
    (if (global.get $digits)
      (then
        (local.set $e (i32.add (i32.const 1024) (i32.shl (global.get $col) (i32.const 5))))
        (local.set $v (global.get $val))
        (if (global.get $neg) (then (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
        (if (i64.eqz (i64.load (local.get $e)))
          (then
            (i64.store offset=8 (local.get $e) (local.get $v))
            (i64.store offset=16 (local.get $e) (local.get $v)))
          (else
            (if (i64.lt_s (local.get $v) (i64.load offset=8 (local.get $e)))
              (then (i64.store offset=8 (local.get $e) (local.get $v))))
            (if (i64.gt_s (local.get $v) (i64.load offset=16 (local.get $e)))
              (then (i64.store offset=16 (local.get $e) (local.get $v))))))
        (local.set $sum (i64.load offset=24 (local.get $e)))
        (local.set $s (i64.add (local.get $sum) (local.get $v)))
        ;; signed overflow: both operands' signs differ from the result's
        (if (i64.lt_s (i64.and (i64.xor (local.get $sum) (local.get $s))
                               (i64.xor (local.get $v) (local.get $s)))
                      (i64.const 0))
          (then (call $fail (i32.const 272) (i32.const 24))))
        (i64.store offset=24 (local.get $e) (local.get $s))
        (i64.store (local.get $e) (i64.add (i64.load (local.get $e)) (i64.const 1)))))
    (global.set $digits (i32.const 0))
    (global.set $signed (i32.const 0))
    (global.set $neg (i32.const 0))
    (global.set $trailing (i32.const 0))
    (global.set $val (i64.const 0)))

  (func $end_line
    (if (global.get $content)
      (then
        (call $end_field)
        (global.set $rows (i64.add (global.get $rows) (i64.const 1)))))
    (global.set $col (i32.const 0))
    (global.set $content (i32.const 0))
    (global.set $line (i64.add (global.get $line) (i64.const 1))))

  (func $byte (param $c i32)
    (local $d i64)
    (if (i32.eq (local.get $c) (i32.const 10)) (then (call $end_line) (return)))
    (if (i32.eq (local.get $c) (i32.const 44))
      (then
        (global.set $content (i32.const 1))
        (call $end_field)
        (global.set $col (i32.add (global.get $col) (i32.const 1)))
        (return)))
    (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
                (i32.eq (local.get $c) (i32.const 13)))
      (then
        (if (i32.or (global.get $digits) (global.get $signed))
          (then (global.set $trailing (i32.const 1))))
        (return)))
    (global.set $content (i32.const 1))
    (if (global.get $trailing) (then (call $not_an_integer)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43)))
      (then
        (if (i32.or (global.get $digits) (global.get $signed)) (then (call $not_an_integer)))
        (global.set $signed (i32.const 1))
        (global.set $neg (i32.eq (local.get $c) (i32.const 45)))
        (return)))
    (if (i32.gt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)) (then (call $not_an_integer)))
    (local.set $d (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48))))
    (if (i64.gt_s (global.get $val)
                  (i64.div_s (i64.sub (i64.const 9223372036854775807) (local.get $d)) (i64.const 10)))
      (then (call $fail (i32.const 208) (i32.const 23))))
    (global.set $val (i64.add (i64.mul (global.get $val) (i64.const 10)) (local.get $d)))
    (global.set $digits (i32.add (global.get $digits) (i32.const 1))))

  (func (export "_start")
    (local $n i32) (local $i i32) (local $e i32)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 16384))
        (i32.store (i32.const 4) (i32.const 65536))
        (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
          (then (call $proc_exit (i32.const 1))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $i (i32.const 0))
        (loop $next
          (call $byte (i32.load8_u (i32.add (i32.const 16384) (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
        (br $read)))
    (call $end_line)
    (call $emit (i32.const 16) (i32.const 8))
    (call $emit_u64 (global.get $rows))
    (call $emit (i32.const 32) (i32.const 12))
    (local.set $i (i32.const 0))
    (block $done
      (loop $column
        (br_if $done (i32.ge_u (local.get $i) (global.get $ncols)))
        (if (local.get $i) (then (call $emit (i32.const 116) (i32.const 1))))
        (local.set $e (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 5))))
        (call $emit (i32.const 48) (i32.const 9))
        (call $emit_u64 (i64.load (local.get $e)))
        (call $emit (i32.const 64) (i32.const 7))
        (if (i64.eqz (i64.load (local.get $e)))
          (then (call $emit (i32.const 128) (i32.const 4)))
          (else (call $emit_i64 (i64.load offset=8 (local.get $e)))))
        (call $emit (i32.const 80) (i32.const 7))
        (if (i64.eqz (i64.load (local.get $e)))
          (then (call $emit (i32.const 128) (i32.const 4)))
          (else (call $emit_i64 (i64.load offset=16 (local.get $e)))))
        (call $emit (i32.const 96) (i32.const 7))
        (call $emit_i64 (i64.load offset=24 (local.get $e)))
        (call $emit (i32.const 112) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $column)))
    (call $emit (i32.const 120) (i32.const 3))
    (call $flush))
)
