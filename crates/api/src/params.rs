//! What a client sends, read at the edge: ids, addresses, hex, amounts and list limits. Each reader
//! accepts exactly what `openapi.json` documents for it and answers anything else with a 400 whose
//! message names the field, the value and the rule, so nothing out of range reaches the store or
//! the chain (where it would otherwise surface as a 500).

use alloy::primitives::{Address, B256, Bytes, U256};

use crate::ApiError;

/// The largest id the API accepts: ids are stored as signed 64-bit integers.
pub(crate) const MAX_ID: u64 = i64::MAX as u64;
/// The most decimal digits a request's amount may have. Every such number fits in a `uint256`
/// (10^77 − 1 < 2^256), so a well-formed amount is never refused for its size.
pub(crate) const MAX_AMOUNT_DIGITS: usize = 77;

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

/// An id in a path (`/api/tasks/{id}`): decimal digits, 0 to [`MAX_ID`].
pub(crate) fn id(what: &str, raw: &str) -> Result<u64, ApiError> {
    raw.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| raw.parse::<u64>().ok())
        .flatten()
        .filter(|id| !raw.is_empty() && *id <= MAX_ID)
        .ok_or_else(|| bad(format!("{what} {raw:?} is not an integer from 0 to {MAX_ID}")))
}

/// `0x` followed by hex digits, as bytes; `None` when `raw` is not that.
fn hex(raw: &str) -> Option<Vec<u8>> {
    let digits = raw.strip_prefix("0x")?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    alloy::hex::decode(digits).ok()
}

/// A 20-byte address, `0x`-prefixed, either case; answered in the lower case the store keys by.
pub(crate) fn address(what: &str, raw: &str) -> Result<Address, ApiError> {
    hex(raw)
        .filter(|b| b.len() == 20)
        .map(|b| Address::from_slice(&b))
        .ok_or_else(|| bad(format!("{what} {raw:?} is not a 0x-prefixed 20-byte address")))
}

/// [`address`] as the store keys it (lower-case hex).
pub(crate) fn address_key(what: &str, raw: &str) -> Result<String, ApiError> {
    address(what, raw).map(|a| a.to_string().to_ascii_lowercase())
}

/// A 32-byte value such as a channel id, `0x`-prefixed hex.
pub(crate) fn b256(what: &str, raw: &str) -> Result<B256, ApiError> {
    hex(raw)
        .filter(|b| b.len() == 32)
        .map(|b| B256::from_slice(&b))
        .ok_or_else(|| bad(format!("{what} {raw:?} is not 0x-prefixed 32-byte hex")))
}

/// Any number of bytes as `0x`-prefixed hex (call data, signatures).
pub(crate) fn bytes(what: &str, raw: &str) -> Result<Bytes, ApiError> {
    hex(raw).map(Bytes::from).ok_or_else(|| bad(format!("{what} is not 0x-prefixed hex with an even number of digits")))
}

/// An amount in the token's smallest unit: 1 to [`MAX_AMOUNT_DIGITS`] decimal digits.
pub(crate) fn amount(what: &str, raw: &str) -> Result<U256, ApiError> {
    let shape_ok = !raw.is_empty() && raw.len() <= MAX_AMOUNT_DIGITS && raw.bytes().all(|b| b.is_ascii_digit());
    shape_ok.then(|| U256::from_str_radix(raw, 10).ok()).flatten().ok_or_else(|| {
        bad(format!("{what} {raw:?} is not a decimal integer of 1 to {MAX_AMOUNT_DIGITS} digits (the smallest unit)"))
    })
}

/// A list's `limit`: `default` when absent, otherwise 1 to `max`.
pub(crate) fn limit(raw: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(bad(format!("limit {n} is out of range: give 1 to {max}"))),
    }
}

/// A list's `offset`: 0 when absent, at most [`MAX_ID`].
pub(crate) fn offset(raw: Option<u64>) -> Result<u64, ApiError> {
    match raw {
        None => Ok(0),
        Some(n) if n <= MAX_ID => Ok(n),
        Some(n) => Err(bad(format!("offset {n} is out of range: give 0 to {MAX_ID}"))),
    }
}

/// How [`text`] reads what a person wrote.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// One line (a name, a title, a reason): trimmed, no control characters at all.
    Line,
    /// Markdown: kept exactly as sent; line breaks and tabs are its only control characters.
    Block,
}

/// Text a person wrote: 1 to `max` characters (Unicode scalar values, as JSON Schema's
/// `maxLength` counts them), not blank, read as `kind` says.
pub(crate) fn text(what: &str, raw: &str, max: usize, kind: TextKind) -> Result<String, ApiError> {
    let text = if kind == TextKind::Line { raw.trim() } else { raw };
    let n = text.chars().count();
    if n > max || text.trim().is_empty() {
        return Err(bad(format!("{what} must be 1 to {max} characters and not blank (it has {n})")));
    }
    let allowed = |c: char| kind == TextKind::Block && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(bad(format!("{what} contains the control character {c:?}")));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stop_where_the_store_does() {
        assert_eq!(id("task id", "0").ok(), Some(0));
        assert_eq!(id("task id", "9223372036854775807").ok(), Some(MAX_ID));
        for raw in ["9223372036854775808", "18446744073709551616", "-1", "+1", "1.0", "", " 1", "abc"] {
            assert!(id("task id", raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn hex_values_need_their_prefix_and_length() {
        let lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        assert_eq!(address_key("user", lower).ok().as_deref(), Some(lower));
        assert_eq!(
            address_key("user", &lower.to_ascii_uppercase().replacen("0X", "0x", 1)).ok().as_deref(),
            Some(lower)
        );
        assert!(address("user", &lower[2..]).is_err(), "no 0x");
        assert!(address("user", &lower[..40]).is_err(), "19 bytes");
        assert!(b256("id", &format!("0x{}", "ab".repeat(32))).is_ok());
        assert!(b256("id", &"ab".repeat(32)).is_err());
        assert_eq!(bytes("data", "0x").ok(), Some(Bytes::new()));
        assert!(bytes("data", "0x0").is_err(), "odd digits");
        assert!(bytes("data", "0x+1").is_err());
        assert!(bytes("data", "00").is_err());
    }

    #[test]
    fn amounts_are_digits_that_always_fit() {
        assert_eq!(amount("value", "0").ok(), Some(U256::ZERO));
        assert_eq!(amount("value", &"9".repeat(77)).ok().map(|v| v.to_string()), Some("9".repeat(77)));
        for raw in ["", "1.5", "-1", "+1", "0x10", " 1", &"1".repeat(78)] {
            assert!(amount("value", raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn texts_keep_to_their_length_and_characters() {
        use TextKind::{Block, Line};
        assert_eq!(text("name", "  Ada  ", 40, Line).ok().as_deref(), Some("Ada"));
        assert_eq!(text("body", "  *hi*\n\tthere ", 100, Block).ok().as_deref(), Some("  *hi*\n\tthere "));
        assert_eq!(text("name", &"界".repeat(40), 40, Line).ok().map(|t| t.chars().count()), Some(40));
        for (raw, kind) in
            [("", Line), ("   ", Line), ("\n\n", Block), ("a\nb", Line), ("a\u{0}b", Block), ("a\u{7f}", Block)]
        {
            assert!(text("t", raw, 40, kind).is_err(), "{raw:?}");
        }
        assert!(text("name", &"a".repeat(41), 40, Line).is_err());
        assert_eq!(offset(None).ok(), Some(0));
        assert!(offset(Some(MAX_ID + 1)).is_err());
    }

    #[test]
    fn limits_are_refused_outside_their_range() {
        assert_eq!(limit(None, 100, 1000).ok(), Some(100));
        assert_eq!(limit(Some(1000), 100, 1000).ok(), Some(1000));
        assert!(limit(Some(0), 100, 1000).is_err());
        assert!(limit(Some(1001), 100, 1000).is_err());
    }
}
