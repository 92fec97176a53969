//! The few REST calls a client of the node makes, as plain HTTP/1.1 over a `TcpStream` (one
//! request per connection, `Connection: close`), and the Sign-In with Ethereum message the node's
//! `/api/auth/verify` expects. No HTTP client crate: this crate is not an edge allowed one, and
//! the node answers small JSON bodies on loopback or a local network (no TLS in this build).

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ClientError;

/// Largest response body read (the API's answers are small JSON documents).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Where the node's API is: `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`, as sent in `Host` (and so the domain a SIWE message must name).
    pub authority: String,
}

impl Endpoint {
    /// Parses `http://host[:port][/]`; `https` is refused (no TLS in this build).
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let bad = |why: &str| ClientError::Url(format!("{url:?}: {why}"));
        let rest = url.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs are supported"))?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) || authority.contains(char::is_whitespace) {
            return Err(bad("expected http://host:port"));
        }
        let authority = if has_port(authority) { authority.to_owned() } else { format!("{authority}:80") };
        Ok(Self { authority })
    }

    /// `http://host:port`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.authority)
    }

    /// A TCP connection to the node.
    pub(crate) async fn connect(&self) -> Result<TcpStream, ClientError> {
        TcpStream::connect(&self.authority)
            .await
            .map_err(|e| ClientError::Io(format!("cannot reach {}: {e}", self.authority)))
    }
}

fn has_port(authority: &str) -> bool {
    match authority.rsplit_once(':') {
        Some((host, port)) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':'),
        None => false,
    }
}

/// An answer: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header, in order; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or the API's error (`{"error":{"code","message"}}`) when the status is
    /// not 2xx.
    pub fn json(&self) -> Result<Value, ClientError> {
        let value: Value = serde_json::from_slice(&self.body).map_err(|e| {
            ClientError::Protocol(format!(
                "HTTP {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ))
        })?;
        if !(200..300).contains(&self.status) {
            let text = |k: &str| value["error"][k].as_str().map(str::to_owned);
            return Err(ClientError::Api {
                status: self.status,
                code: text("code").unwrap_or_else(|| "http_error".into()),
                message: text("message").unwrap_or_else(|| value.to_string()),
            });
        }
        Ok(value)
    }
}

/// Sends one request and reads the whole answer.
pub(crate) async fn request(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
) -> Result<Response, ClientError> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    request_bytes(endpoint, method, path, cookie, "application/json", body.as_bytes()).await
}

/// Sends one request with a body of any type and reads the whole answer.
pub(crate) async fn request_bytes(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> Result<Response, ClientError> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n",
        endpoint.authority
    );
    if let Some(cookie) = cookie {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method != "GET" {
        head.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| ClientError::Io(format!("{method} {path}: {e}"));
    let mut stream = endpoint.connect().await?;
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body).await.map_err(io)?;
    let mut raw = Vec::new();
    (&mut stream).take(MAX_RESPONSE as u64 + 64 * 1024).read_to_end(&mut raw).await.map_err(io)?;
    parse_response(&raw).map_err(|why| ClientError::Protocol(format!("{method} {path}: {why}")))
}

/// Parses a whole HTTP/1.1 answer read until the server closed the connection.
pub(crate) fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        match headers.iter().find(|(n, _)| n == "content-length") {
            Some((_, len)) => {
                let len: usize = len.parse().map_err(|_| "bad Content-Length")?;
                rest.get(..len).ok_or("the body is shorter than its Content-Length")?.to_vec()
            }
            None => rest.to_vec(),
        }
    };
    if body.len() > MAX_RESPONSE {
        return Err("the body is too large".into());
    }
    Ok(Response { status, headers, body })
}

/// A `Transfer-Encoding: chunked` body, decoded.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size without its line end")?;
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| "a chunk size is not text")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("a chunk is cut short")?);
        rest = rest.get(size + 2..).ok_or("a chunk is cut short")?;
    }
}

/// The session cookie (`agora_session=…`) a `Set-Cookie` header sets.
pub(crate) fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .find(|pair| pair.trim_start().starts_with("agora_session="))
        .map(|pair| pair.trim().to_owned())
}

/// What an EIP-4361 message says.
pub struct SignIn<'a> {
    /// `host:port` of the node (its `Host`).
    pub domain: &'a str,
    /// The node's origin, `http://host:port`.
    pub uri: &'a str,
    /// Who signs in (written EIP-55 checksummed).
    pub address: alloy::primitives::Address,
    /// The node's chain.
    pub chain_id: u64,
    /// The node's single-use nonce.
    pub nonce: &'a str,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
}

/// The EIP-4361 text the wallet signs, as viem's `createSiweMessage` writes it.
pub fn siwe_message(m: &SignIn<'_>) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\nSign in to Agora from the agora command.\n\n\
         URI: {uri}\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {issued}\nExpiration Time: {expires}",
        domain = m.domain,
        address = m.address.to_checksum(None),
        uri = m.uri,
        chain = m.chain_id,
        nonce = m.nonce,
        issued = rfc3339(m.issued_at),
        expires = rfc3339(m.expires_at),
    )
}

/// Unix seconds as `2026-11-22T04:08:38Z`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_host_and_port() {
        assert_eq!(Endpoint::parse("http://127.0.0.1:8080/").unwrap().authority, "127.0.0.1:8080");
        assert_eq!(Endpoint::parse("http://localhost").unwrap().authority, "localhost:80");
        assert_eq!(Endpoint::parse("http://[::1]:9000").unwrap().origin(), "http://[::1]:9000");
        for bad in ["https://x:1", "127.0.0.1:8080", "http://x:1/api", "http://"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn responses_are_read_with_length_or_chunks() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nSet-Cookie: agora_session=abc; Path=/\r\n\r\n{}";
        let r = parse_response(plain).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"{}".as_slice()));
        assert_eq!(session_cookie(&r).as_deref(), Some("agora_session=abc"));
        let chunked = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"err\r\n4;x=y\r\nor\":\r\n3\r\n{}}\r\n0\r\n\r\n";
        let r = parse_response(chunked).unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"{\"error\":{}}");
        assert!(matches!(r.json(), Err(ClientError::Api { status: 404, .. })));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
    }

    #[test]
    fn siwe_message_has_the_shape_the_node_parses() {
        let address: alloy::primitives::Address = "0x90f79bf6eb2c4f870365e785982e1f101e93b906".parse().unwrap();
        let text = siwe_message(&SignIn {
            domain: "127.0.0.1:8080",
            uri: "http://127.0.0.1:8080",
            address,
            chain_id: 31337,
            nonce: "abcdefgh12",
            issued_at: 1_795_320_518,
            expires_at: 1_795_320_518 + 600,
        });
        assert_eq!(
            text,
            "127.0.0.1:8080 wants you to sign in with your Ethereum account:\n\
             0x90F79bf6EB2c4f870365E785982E1f101E93b906\n\nSign in to Agora from the agora command.\n\n\
             URI: http://127.0.0.1:8080\nVersion: 1\nChain ID: 31337\nNonce: abcdefgh12\n\
             Issued At: 2026-11-22T04:08:38Z\nExpiration Time: 2026-11-22T04:18:38Z"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
