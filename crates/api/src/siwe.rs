//! Sign-In with Ethereum (EIP-4361) messages: parsing the exact text a wallet signed, and the
//! checks that do not need the database (binding to this site and chain, validity window). The
//! signature and the nonce are checked by the caller, which has the chain and the store.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::Address;

const HEADER_SUFFIX: &str = " wants you to sign in with your Ethereum account:";

/// A parsed EIP-4361 message. Times are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// The URI scheme before the domain (`https`), when the message names one.
    pub scheme: Option<String>,
    /// The host asking for the sign-in (`localhost:8080`).
    pub domain: String,
    /// The account signing in.
    pub address: Address,
    /// The human-readable line the wallet shows, if any.
    pub statement: Option<String>,
    /// The resource the session is for.
    pub uri: String,
    /// The EIP-4361 version; only `1` exists.
    pub version: String,
    /// The chain the session is for.
    pub chain_id: u64,
    /// The server-issued nonce that makes the message single-use.
    pub nonce: String,
    /// When the wallet made the message.
    pub issued_at: i64,
    /// After this the message is refused.
    pub expiration_time: Option<i64>,
    /// Before this the message is refused.
    pub not_before: Option<i64>,
    /// An identifier the client may attach.
    pub request_id: Option<String>,
    /// Further resources the session covers.
    pub resources: Vec<String>,
}

/// Why a message is refused. `code` is what the API reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweError {
    /// The machine-readable reason (`malformed_message`, `domain_mismatch`, `expired`…).
    pub code: &'static str,
    /// What a person reads.
    pub message: String,
}

impl SiweError {
    fn malformed(message: impl Into<String>) -> Self {
        Self { code: "malformed_message", message: message.into() }
    }
}

impl fmt::Display for SiweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SiweError {}

/// Reads the next line if it starts with `key`, returning the rest.
fn field<'a>(lines: &mut std::iter::Peekable<std::str::Split<'a, char>>, key: &str) -> Option<&'a str> {
    let value = lines.peek()?.strip_prefix(key)?;
    lines.next();
    Some(value)
}

fn required<'a>(lines: &mut std::iter::Peekable<std::str::Split<'a, char>>, key: &str) -> Result<&'a str, SiweError> {
    field(lines, key).ok_or_else(|| SiweError::malformed(format!("expected a line starting with {key:?}")))
}

impl FromStr for SiweMessage {
    type Err = SiweError;

    fn from_str(text: &str) -> Result<Self, SiweError> {
        if text.contains('\r') {
            return Err(SiweError::malformed("lines must end with \\n alone"));
        }
        let mut lines = text.split('\n').peekable();
        let header = lines.next().unwrap_or_default();
        let origin = header
            .strip_suffix(HEADER_SUFFIX)
            .ok_or_else(|| SiweError::malformed(format!("the first line must end with {HEADER_SUFFIX:?}")))?;
        let (scheme, domain) = match origin.split_once("://") {
            Some((s, d)) => (Some(s.to_owned()), d),
            None => (None, origin),
        };
        if domain.is_empty() || domain.contains(char::is_whitespace) || domain.contains('/') {
            return Err(SiweError::malformed(format!("{domain:?} is not a domain")));
        }
        let address_text = lines.next().unwrap_or_default();
        let address = parse_address(address_text)?;
        if lines.next() != Some("") {
            return Err(SiweError::malformed("a blank line must follow the address"));
        }
        let statement = match lines.next() {
            Some("") => None,
            Some(s) if !s.starts_with("URI: ") => {
                if lines.next() != Some("") {
                    return Err(SiweError::malformed("a blank line must follow the statement"));
                }
                Some(s.to_owned())
            }
            _ => return Err(SiweError::malformed("a blank line must precede the URI")),
        };
        let uri = required(&mut lines, "URI: ")?.to_owned();
        let version = required(&mut lines, "Version: ")?.to_owned();
        let chain_id = required(&mut lines, "Chain ID: ")?
            .parse::<u64>()
            .map_err(|_| SiweError::malformed("Chain ID is not a number"))?;
        let nonce = required(&mut lines, "Nonce: ")?.to_owned();
        if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SiweError::malformed("the nonce must be at least 8 letters or digits"));
        }
        let issued_at = parse_rfc3339(required(&mut lines, "Issued At: ")?)?;
        let expiration_time = field(&mut lines, "Expiration Time: ").map(parse_rfc3339).transpose()?;
        let not_before = field(&mut lines, "Not Before: ").map(parse_rfc3339).transpose()?;
        let request_id = field(&mut lines, "Request ID: ").map(str::to_owned);
        let mut resources = Vec::new();
        if field(&mut lines, "Resources:") == Some("") {
            while let Some(r) = field(&mut lines, "- ") {
                resources.push(r.to_owned());
            }
        }
        if let Some(extra) = lines.next() {
            return Err(SiweError::malformed(format!("unexpected line {extra:?}")));
        }
        Ok(Self {
            scheme,
            domain: domain.to_owned(),
            address,
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            expiration_time,
            not_before,
            request_id,
            resources,
        })
    }
}

/// An address as EIP-4361 wants it: EIP-55 checksummed (all lower-case is accepted too, as
/// some wallets write it).
fn parse_address(s: &str) -> Result<Address, SiweError> {
    let bad = || SiweError::malformed(format!("{s:?} is not an Ethereum address"));
    let hex = s.strip_prefix("0x").ok_or_else(bad)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        Address::parse_checksummed(s, None)
            .map_err(|_| SiweError::malformed(format!("{s:?} has a wrong EIP-55 checksum")))
    } else {
        s.parse().map_err(|_| bad())
    }
}

/// An RFC 3339 date-time (`2026-11-22T04:08:38.123Z`, `…+08:00`) as unix seconds; fractions are
/// dropped.
pub fn parse_rfc3339(s: &str) -> Result<i64, SiweError> {
    let bad = || SiweError::malformed(format!("{s:?} is not an RFC 3339 date-time"));
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64, SiweError> {
        let part = &s[from..to];
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().map_err(|_| bad()) } else { Err(bad()) }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return Err(bad());
    }
    // 60 is a leap second; it counts as the next second's start.
    if second > 60 {
        return Err(bad());
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let h: i64 = rest[1..3].parse().map_err(|_| bad())?;
            let m: i64 = rest[4..6].parse().map_err(|_| bad())?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let secs = h * 3600 + m * 60;
            if rest.starts_with('-') { -secs } else { secs }
        }
        _ => return Err(bad()),
    };
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What a message must match to sign in here.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The `Host` the request came to (`localhost:8080`).
    pub host: &'a str,
    /// The chain this node serves.
    pub chain_id: u64,
    /// The current unix time.
    pub now: i64,
    /// Messages issued longer ago than this are refused even without an expiration time.
    pub max_age_secs: i64,
    /// Tolerated clock difference between the wallet's machine and this server.
    pub clock_skew_secs: i64,
}

impl SiweMessage {
    /// Every check that needs neither the signature nor the nonce store.
    pub fn check(&self, want: &Expectations<'_>) -> Result<(), SiweError> {
        if self.version != "1" {
            return Err(SiweError { code: "malformed_message", message: format!("version {} is not 1", self.version) });
        }
        if !self.domain.eq_ignore_ascii_case(want.host) {
            return Err(SiweError {
                code: "domain_mismatch",
                message: format!("the message is for {}, but this site is {}", self.domain, want.host),
            });
        }
        let uri_authority = self
            .uri
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
            .ok_or_else(|| SiweError::malformed(format!("URI {} is not absolute", self.uri)))?;
        if !uri_authority.eq_ignore_ascii_case(want.host) {
            return Err(SiweError {
                code: "domain_mismatch",
                message: format!("the message's URI {} is not on this site ({})", self.uri, want.host),
            });
        }
        if self.chain_id != want.chain_id {
            return Err(SiweError {
                code: "chain_mismatch",
                message: format!(
                    "the message is for chain {}, but this market runs on chain {}",
                    self.chain_id, want.chain_id
                ),
            });
        }
        if self.issued_at > want.now + want.clock_skew_secs {
            return Err(SiweError { code: "not_yet_valid", message: "the message is issued in the future".into() });
        }
        if self.issued_at < want.now - want.max_age_secs {
            return Err(SiweError {
                code: "expired",
                message: "the message was issued too long ago; sign in again".into(),
            });
        }
        if self.expiration_time.is_some_and(|t| t <= want.now) {
            return Err(SiweError { code: "expired", message: "the message has expired; sign in again".into() });
        }
        if self.not_before.is_some_and(|t| t > want.now + want.clock_skew_secs) {
            return Err(SiweError { code: "not_yet_valid", message: "the message is not valid yet".into() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

    fn message(statement: Option<&str>, tail: &str) -> String {
        let statement = statement.map(|s| format!("{s}\n")).unwrap_or_default();
        format!(
            "localhost:8080 wants you to sign in with your Ethereum account:\n{ADDR}\n\n{statement}\nURI: \
             http://localhost:8080\nVersion: 1\nChain ID: 31337\nNonce: abcdefgh12\nIssued At: \
             2026-11-22T04:08:38.123Z{tail}"
        )
    }

    #[test]
    fn parses_with_and_without_statement_and_optional_fields() {
        let m: SiweMessage = message(Some("Sign in to Agora"), "").parse().unwrap();
        assert_eq!(m.domain, "localhost:8080");
        assert_eq!(m.address, ADDR.parse::<Address>().unwrap());
        assert_eq!(m.statement.as_deref(), Some("Sign in to Agora"));
        assert_eq!(m.chain_id, 31337);
        assert_eq!(m.issued_at, 1_795_320_518);
        let tail = "\nExpiration Time: 2026-11-22T05:08:38Z\nNot Before: 2026-11-22T04:00:00+08:00\nRequest ID: r1\n\
                    Resources:\n- ipfs://x\n- https://y";
        let m: SiweMessage = message(None, tail).parse().unwrap();
        assert_eq!(m.statement, None);
        assert_eq!(m.expiration_time, Some(1_795_320_518 + 3600));
        assert_eq!(m.not_before, Some(1_795_320_000 - 8 * 3600));
        assert_eq!(m.request_id.as_deref(), Some("r1"));
        assert_eq!(m.resources, vec!["ipfs://x", "https://y"]);
    }

    #[test]
    fn refuses_malformed_messages() {
        let good = message(None, "");
        for (bad, why) in [
            (good.replace("wants you", "asks you"), "header"),
            (good.replace(ADDR, "0x90f79bf6eb2c4f870365e785982e1f101e93b90"), "short address"),
            (good.replace(ADDR, "0x90F79BF6EB2c4f870365E785982E1f101E93b906"), "bad checksum"),
            (good.replace("Version: 1\n", ""), "missing version"),
            (good.replace("Nonce: abcdefgh12", "Nonce: abc"), "short nonce"),
            (good.replace("Chain ID: 31337\nNonce: abcdefgh12", "Nonce: abcdefgh12\nChain ID: 31337"), "order"),
            (good.replace(".123Z", ""), "no offset"),
            (good.replace("2026-11-22T", "2026-02-30T"), "no such day"),
            (format!("{good}\nsomething else"), "trailing line"),
            (good.replace('\n', "\r\n"), "CRLF"),
        ] {
            assert!(bad.parse::<SiweMessage>().is_err(), "{why} accepted");
        }
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_rfc3339("2000-02-29T12:00:00Z").unwrap(), 951_825_600);
        assert_eq!(parse_rfc3339("2000-02-29T20:00:00+08:00").unwrap(), 951_825_600);
        assert_eq!(parse_rfc3339("1999-12-31T23:59:59.999999-00:30").unwrap(), 946_684_799 + 1800);
        assert!(parse_rfc3339("2001-02-29T00:00:00Z").is_err());
        assert!(parse_rfc3339("2026-11-22 04:08:38Z").is_err());
    }

    #[test]
    fn checks_site_chain_and_time() {
        let m: SiweMessage = message(None, "\nExpiration Time: 2026-11-22T05:00:00Z").parse().unwrap();
        let want = Expectations {
            host: "localhost:8080",
            chain_id: 31337,
            now: m.issued_at + 5,
            max_age_secs: 600,
            clock_skew_secs: 60,
        };
        assert_eq!(m.check(&want), Ok(()));
        let code = |w: Expectations<'_>| m.check(&w).unwrap_err().code;
        assert_eq!(code(Expectations { host: "evil.example", ..want.clone() }), "domain_mismatch");
        assert_eq!(code(Expectations { chain_id: 1, ..want.clone() }), "chain_mismatch");
        assert_eq!(code(Expectations { now: m.issued_at - 120, ..want.clone() }), "not_yet_valid");
        assert_eq!(code(Expectations { now: m.issued_at + 601, ..want.clone() }), "expired");
        let late = m.expiration_time.unwrap();
        assert_eq!(code(Expectations { now: late, max_age_secs: 1_000_000, ..want.clone() }), "expired");
        let other_uri = SiweMessage { uri: "https://evil.example/login".into(), ..m.clone() };
        assert_eq!(other_uri.check(&want).unwrap_err().code, "domain_mismatch");
    }
}
