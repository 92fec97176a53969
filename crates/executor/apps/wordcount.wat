;; Word count: reads all of stdin and prints `{"lines":L,"words":W,"bytes":B}` and a newline,
;; the figures `LC_ALL=C wc` gives: lines are newline bytes, words are maximal runs of bytes that
;; are not ASCII whitespace (space, \t, \n, \v, \f, \r).
;;
;; Memory: 0 iovec, 8 nread, 12 nwritten, 16..80 strings, 224..248 digit scratch,
;; 256..1024 output, 1024..66560 input buffer.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "{\"lines\":")
  (data (i32.const 32) ",\"words\":")
  (data (i32.const 48) ",\"bytes\":")
  (data (i32.const 64) "}\n")
  (global $out (mut i32) (i32.const 256))

  ;; Writes all of [ptr, ptr+len) to fd, exiting with code 1 on an error.
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

  ;; Appends [src, src+len) to the output buffer.
  (func $emit (param $src i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $src) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  ;; Appends the decimal digits of an unsigned 64-bit integer.
  (func $emit_u64 (param $v i64)
    (local $p i32)
    (local.set $p (i32.const 248))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (call $emit (local.get $p) (i32.sub (i32.const 248) (local.get $p))))

  (func (export "_start")
    (local $n i32) (local $i i32) (local $c i32) (local $in_word i32)
    (local $lines i64) (local $words i64) (local $bytes i64)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 65536))
        (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
          (then (call $proc_exit (i32.const 1))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $bytes (i64.add (local.get $bytes) (i64.extend_i32_u (local.get $n))))
        (local.set $i (i32.const 0))
        (loop $byte
          (local.set $c (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
          (if (i32.eq (local.get $c) (i32.const 10))
            (then (local.set $lines (i64.add (local.get $lines) (i64.const 1)))))
          ;; whitespace: 32, or 9..=13
          (if (i32.or (i32.eq (local.get $c) (i32.const 32))
                      (i32.le_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 4)))
            (then (local.set $in_word (i32.const 0)))
            (else
              (if (i32.eqz (local.get $in_word))
                (then
                  (local.set $words (i64.add (local.get $words) (i64.const 1)))
                  (local.set $in_word (i32.const 1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $byte (i32.lt_u (local.get $i) (local.get $n))))
        (br $read)))
    (call $emit (i32.const 16) (i32.const 9))
    (call $emit_u64 (local.get $lines))
    (call $emit (i32.const 32) (i32.const 9))
    (call $emit_u64 (local.get $words))
    (call $emit (i32.const 48) (i32.const 9))
    (call $emit_u64 (local.get $bytes))
    (call $emit (i32.const 64) (i32.const 2))
    (call $write_all (i32.const 1) (i32.const 256) (i32.sub (global.get $out) (i32.const 256)))))
