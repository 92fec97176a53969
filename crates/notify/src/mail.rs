//! The mail edge: messages built with `lettre` and handed to an SMTP server, or written as `.eml`
//! files when the node has none.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agora_store::MailRow;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};

use crate::{Error, MailSettings, Result};

/// Where mails go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Sends the outbox's mails: through SMTP, or into a directory as `.eml` files.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    describe: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("to", &self.describe).finish()
    }
}

impl Mailer {
    /// The mailer `settings` describe; `.eml` files under `default_dir` when they name neither an
    /// SMTP server nor a directory.
    pub fn new(settings: &MailSettings, default_dir: &Path) -> Result<Self> {
        let from = sender(&settings.from)?;
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let (transport, describe) = match settings.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let (builder, describe) = smtp_builder(url)?;
                (Transport::Smtp(builder.timeout(Some(timeout)).build()), describe)
            }
            None => {
                let dir: PathBuf = settings.dir.clone().unwrap_or_else(|| default_dir.to_path_buf());
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::Config(format!("cannot create the mail directory {}: {e}", dir.display())))?;
                let describe = format!("files in {}", dir.display());
                (Transport::Files(AsyncFileTransport::new(dir)), describe)
            }
        };
        Ok(Self { from, transport, describe })
    }

    /// Where this mailer sends (`smtp://host:port` without credentials, or `files in <dir>`).
    pub fn destination(&self) -> &str {
        &self.describe
    }

    /// Sends `mail`; the error is the server's (or the file system's) answer, in words.
    pub async fn send(&self, mail: &MailRow) -> std::result::Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("the recipient {:?} is not an address: {e}", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(body(&mail.body))
            .map_err(|e| format!("the mail could not be built: {e}"))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Files(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }

    /// The `Message-ID` of the mail queued under `key`: the same key gives the same id, so a mail
    /// sent twice (a crash between sending and recording it) is recognisable as one by clients.
    pub fn message_id(&self, key: &str) -> String {
        message_id(key, self.from.email.domain())
    }
}

/// The body as it is sent: ASCII text as it is (7bit; RFC 5322 allows lines up to 998 octets, so
/// a long link stays whole and clickable in the `.eml` file), anything else in the encoding
/// lettre picks (quoted-printable or base64).
fn body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.is_ascii() && crlf.split("\r\n").all(|line| line.len() < 998) && !crlf.contains('\0') {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// `<hash of key>@domain`.
pub(crate) fn message_id(key: &str, domain: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("<{}@{domain}>", hex32(&digest[..16]))
}

fn hex32(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The configured sender as a mailbox.
pub(crate) fn sender(from: &str) -> Result<Mailbox> {
    from.parse().map_err(|e| Error::Config(format!("[mail] from {from:?} is not a mailbox (`Name <a@b>`): {e}")))
}

/// An SMTP transport builder for `smtp://[user:password@]host[:port]`. TLS would need a TLS stack
/// this build leaves out, so `smtps://` and `?tls=` are refused rather than silently sent in clear.
fn smtp_builder(raw: &str) -> Result<(lettre::transport::smtp::AsyncSmtpTransportBuilder, String)> {
    let bad = |why: &str| Error::Config(format!("[mail] smtp_url is not usable: {why}"));
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "smtp" => {}
        "smtps" => return Err(bad("this build has no TLS; give smtp:// to a relay you trust")),
        other => return Err(bad(&format!("the scheme is {other:?}, not smtp"))),
    }
    if url.query().is_some() {
        return Err(bad("no query parameters are understood (this build has no TLS)"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("it names no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port().unwrap_or(25);
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone()).port(port);
    if !url.username().is_empty() {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = decode(url.username());
        let password = decode(url.password().unwrap_or_default());
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok((builder, format!("smtp://{host}:{port}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_read_or_refused_in_words() {
        let (_, d) = smtp_builder("smtp://user:p%40ss@127.0.0.1:2525").expect("plain smtp");
        assert_eq!(d, "smtp://127.0.0.1:2525", "credentials stay out of what is shown");
        assert_eq!(smtp_builder("smtp://mail.example").expect("default port").1, "smtp://mail.example:25");
        for (url, why) in [
            ("smtps://mail.example", "no TLS"),
            ("smtp://mail.example?tls=required", "query"),
            ("http://mail.example", "scheme"),
            ("not a url", "relative URL"),
        ] {
            let err = smtp_builder(url).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn message_ids_follow_the_key() {
        let a = message_id("board:1:0xab:3:0x01", "agora.example");
        assert_eq!(a, message_id("board:1:0xab:3:0x01", "agora.example"));
        assert_ne!(a, message_id("board:1:0xab:4:0x01", "agora.example"));
        assert!(a.starts_with('<') && a.ends_with("@agora.example>") && a.len() == 32 + 2 + 1 + 13);
    }
}
