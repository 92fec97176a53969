//! Turning a stream of byte pieces into text pieces. A token's bytes may end in the middle of a
//! UTF-8 character (emoji and CJK characters often span tokens), so bytes are held until the
//! character is complete; bytes that can never become valid UTF-8 come out as U+FFFD.

/// Accumulates bytes and hands out the longest complete UTF-8 text so far.
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    held: Vec<u8>,
}

impl Utf8Stream {
    /// Adds `bytes` and returns the text that is now complete (possibly empty).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.held.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.held) {
                Ok(text) => {
                    out.push_str(text);
                    self.held.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // The prefix was just checked; this cannot fail, but stay panic-free.
                    out.push_str(std::str::from_utf8(&self.held[..valid]).unwrap_or_default());
                    match e.error_len() {
                        // Incomplete character at the end: keep it for the next piece.
                        None => {
                            self.held.drain(..valid);
                            return out;
                        }
                        // An invalid sequence: it will never become a character.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.held.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is still held, at the end of the stream (an unfinished character becomes U+FFFD).
    pub(crate) fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.held).into_owned();
        self.held.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Stream;

    #[test]
    fn characters_split_across_pieces_come_out_whole() {
        let text = "héllo 世界 🦀!";
        let bytes = text.as_bytes();
        // Every split point, one byte at a time: no piece may hold half a character.
        let mut s = Utf8Stream::default();
        let mut out = String::new();
        for b in bytes {
            let piece = s.push(std::slice::from_ref(b));
            assert!(piece.chars().all(|c| c != char::REPLACEMENT_CHARACTER));
            out.push_str(&piece);
        }
        out.push_str(&s.finish());
        assert_eq!(out, text);
    }

    #[test]
    fn the_crab_is_held_until_its_last_byte() {
        let crab = "🦀".as_bytes();
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(&crab[..3]), "");
        assert_eq!(s.push(&crab[3..]), "🦀");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_and_do_not_block() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(s.push(b"\xf0\x9f"), "");
        assert_eq!(s.finish(), "\u{fffd}");
        assert_eq!(s.push(b"ok"), "ok");
    }
}
