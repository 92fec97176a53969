//! Just enough of Rust's lexical grammar to tell code from comments and string literals, and to
//! find the items under `#[cfg(test)]`. No parser: the rules look for paths and names in the code
//! that is left once comments and literals are blanked out, and for SQL in the literals alone.

use std::ops::Range;

/// A Rust file split into its code and its string literals.
#[derive(Debug)]
pub struct Lexed {
    /// The file with every comment and the inside of every string and char literal replaced by
    /// spaces (newlines kept), so byte offsets and line numbers are those of the file.
    pub code: String,
    /// Every string literal (plain, raw, byte, C), its text as written between the quotes.
    pub strings: Vec<StrLit>,
    /// Byte ranges of items under `#[cfg(test)]` (a test module, a test-only `use` or function).
    pub test_ranges: Vec<Range<usize>>,
    line_starts: Vec<usize>,
}

/// One string literal.
#[derive(Debug)]
pub struct StrLit {
    /// Byte offset of the opening quote.
    pub start: usize,
    /// The text between the quotes, escapes as written.
    pub text: String,
}

impl Lexed {
    /// Lexes `source`.
    pub fn new(source: &str) -> Self {
        let (code, strings) = blank(source);
        let test_ranges = cfg_test_ranges(&code);
        let line_starts = std::iter::once(0)
            .chain(source.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1))
            .collect();
        Lexed { code, strings, test_ranges, line_starts }
    }

    /// The 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.line_starts.partition_point(|start| *start <= at)
    }

    /// Whether byte offset `at` lies inside an item under `#[cfg(test)]`.
    pub fn in_test(&self, at: usize) -> bool {
        self.test_ranges.iter().any(|range| range.contains(&at))
    }

    /// The string literal that is the first argument of a call whose `(` is at byte offset `open`
    /// (`var("NAME")`), if it is one.
    pub fn literal_argument(&self, open: usize) -> Option<&str> {
        let rest = &self.code[open + 1..];
        let quote = open + 1 + (rest.len() - rest.trim_start().len());
        self.strings.iter().find(|s| s.start == quote).map(|s| s.text.as_str())
    }

    /// Byte offsets where the path `root::…` (or `use root`, `extern crate root`) begins: `root`
    /// as a whole identifier followed by `::`, or named by `use`.
    pub fn path_uses(&self, root: &str) -> Vec<usize> {
        word_positions(&self.code, root)
            .filter(|&at| {
                let after = self.code[at + root.len()..].trim_start();
                let before = self.code[..at].trim_end();
                let previous_word = before.rsplit(|c: char| !is_ident(c)).next().unwrap_or("");
                after.starts_with("::") && !before.ends_with("::")
                    || previous_word == "use"
                    || before.ends_with("extern crate")
            })
            .collect()
    }
}

/// Offsets of `word` as a whole identifier in `code`.
pub fn word_positions<'a>(code: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    code.match_indices(word).map(|(at, _)| at).filter(move |&at| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Blanks comments and literals, collecting the string literals.
fn blank(source: &str) -> (String, Vec<StrLit>) {
    let bytes = source.as_bytes();
    let mut code = bytes.to_vec();
    let mut strings = Vec::new();
    let mut i = 0;
    let mask = |code: &mut Vec<u8>, range: Range<usize>| {
        for b in &mut code[range] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    while i < bytes.len() {
        let prev_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                mask(&mut code, i..end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                let mut j = i;
                while j < bytes.len() {
                    if bytes[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if bytes[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                mask(&mut code, i..j);
                i = j;
            }
            b'b' | b'c' | b'r' if !prev_ident && raw_or_prefixed(&bytes[i..]).is_some() => {
                let (prefix, hashes) = raw_or_prefixed(&bytes[i..]).unwrap_or((0, None));
                let quote = i + prefix;
                let end = match hashes {
                    Some(n) => {
                        let closing = format!("\"{}", "#".repeat(n));
                        source[quote + 1..].find(&closing).map_or(bytes.len(), |k| quote + 1 + k)
                    }
                    None => escaped_end(bytes, quote),
                };
                strings.push(StrLit { start: quote, text: source[quote + 1..end].to_string() });
                mask(&mut code, quote + 1..end);
                i = (end + 1 + hashes.unwrap_or(0)).min(bytes.len());
            }
            b'"' => {
                let end = escaped_end(bytes, i);
                strings.push(StrLit { start: i, text: source[i + 1..end].to_string() });
                mask(&mut code, i + 1..end);
                i = (end + 1).min(bytes.len());
            }
            b'\'' => {
                // A char literal ('a', '\n', '\u{1F600}', 'é') or a lifetime ('a, 'static).
                let end = if bytes.get(i + 1) == Some(&b'\\') {
                    source.get(i + 3..).and_then(|rest| rest.find('\'')).map(|k| i + 3 + k)
                } else {
                    source[i + 1..].chars().next().and_then(|c| {
                        let after = i + 1 + c.len_utf8();
                        (bytes.get(after) == Some(&b'\'')).then_some(after)
                    })
                };
                match end {
                    Some(end) => {
                        mask(&mut code, i + 1..end);
                        i = end + 1;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes were replaced (by spaces) and only whole literals, so this is UTF-8.
    (String::from_utf8_lossy(&code).into_owned(), strings)
}

/// For `b"`, `c"`, `r"`, `r#"`, `br#"`, `cr"`…: the length of the prefix up to the quote, and the
/// number of `#` for a raw string (`None` for one with escapes).
fn raw_or_prefixed(bytes: &[u8]) -> Option<(usize, Option<usize>)> {
    let mut i = 0;
    if matches!(bytes.first(), Some(b'b' | b'c')) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'r') {
        i += 1;
        let hashes = bytes[i..].iter().take_while(|b| **b == b'#').count();
        return (bytes.get(i + hashes) == Some(&b'"')).then_some((i + hashes, Some(hashes)));
    }
    (i == 1 && bytes.get(1) == Some(&b'"')).then_some((1, None))
}

/// The offset of the `"` closing a string with escapes that opens at `quote`.
fn escaped_end(bytes: &[u8], quote: usize) -> usize {
    let mut j = quote + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// The items that follow `#[cfg(test)]`: from the attribute to the end of the item's `{…}` or `;`.
fn cfg_test_ranges(code: &str) -> Vec<Range<usize>> {
    let bytes = code.as_bytes();
    let mut ranges = Vec::new();
    for (start, _) in code.match_indices("#[cfg(test)]") {
        let mut depth = 0usize;
        let mut j = start + "#[cfg(test)]".len();
        while j < bytes.len() {
            match bytes[j] {
                b'[' | b'(' => depth += 1,
                b']' | b')' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => break,
                b'{' => {
                    let mut braces = 0usize;
                    while j < bytes.len() {
                        match bytes[j] {
                            b'{' => braces += 1,
                            b'}' => {
                                braces -= 1;
                                if braces == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        ranges.push(start..(j + 1).min(bytes.len()));
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_literals_are_blanked_and_strings_kept() {
        let src = "let a = \"sqlx::x\"; // sqlx::y\n/* outer /* sqlx::z */ */ let b = r#\"say \"hi\"\"#;\nlet c = 'x'; fn f<'a>() {}\nuse sqlx::Pool;";
        let lexed = Lexed::new(src);
        assert_eq!(lexed.code.len(), src.len());
        assert_eq!(lexed.path_uses("sqlx").len(), 1, "{}", lexed.code);
        assert_eq!(lexed.line(lexed.path_uses("sqlx")[0]), 4);
        let texts: Vec<&str> = lexed.strings.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["sqlx::x", "say \"hi\""]);
        assert!(lexed.code.contains("fn f<'a>()"));
    }

    #[test]
    fn escaped_quotes_and_byte_strings() {
        let lexed = Lexed::new(r#"let a = "a \" b"; let b = b"x"; let c = '\''; let d = br"y";"#);
        let texts: Vec<&str> = lexed.strings.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, [r#"a \" b"#, "x", "y"]);
    }

    #[test]
    fn cfg_test_items_are_found() {
        let src = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn b() { if x { y } }\n}\nfn c() {}\n#[cfg(test)]\nuse z::W;\nfn d() {}";
        let lexed = Lexed::new(src);
        assert!(!lexed.in_test(src.find("fn a").unwrap()));
        assert!(lexed.in_test(src.find("fn b").unwrap()));
        assert!(lexed.in_test(src.find("y }").unwrap()));
        assert!(!lexed.in_test(src.find("fn c").unwrap()));
        assert!(lexed.in_test(src.find("z::W").unwrap()));
        assert!(!lexed.in_test(src.find("fn d").unwrap()));
    }

    #[test]
    fn literal_argument_of_a_call() {
        let src = "std::env::var( \"AGORA_TEST_X\")";
        let lexed = Lexed::new(src);
        assert_eq!(lexed.literal_argument(src.find('(').unwrap()), Some("AGORA_TEST_X"));
    }
}
