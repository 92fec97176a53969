//! The mail edge: messages built with `lettre` and handed to an SMTP server, or written as `.eml`
//! files when the node has none.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agora_store::MailRow;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
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
                let (builder, describe) = smtp_builder(url, settings.tls_ca_file.as_deref())?;
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

    /// Where this mailer sends (`smtps://host:port`, `smtp://host:port?tls=required`, … without
    /// credentials, or `files in <dir>`).
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
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| smtp_error(&e.to_string())),
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

/// lettre's error in words a person can act on: a cause it repeats is said once, and a certificate
/// that does not check out says where trust is configured.
fn smtp_error(text: &str) -> String {
    let mut parts: Vec<&str> = text.split(": ").collect();
    parts.dedup();
    let mut said = parts.join(": ");
    if said.contains("invalid peer certificate") {
        said.push_str(
            " (the server's certificate must name the host in smtp_url and come from a trusted \
             authority: Mozilla's roots or one in [mail] tls_ca_file)",
        );
    }
    said
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

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// Clear text all the way (`smtp://`): for a relay on the same machine or a trusted network.
    Plain,
    /// TLS from the first byte (`smtps://`, port 465 by default).
    Implicit,
    /// Clear text, then `STARTTLS` before anything else is said; refused by lettre when the server
    /// does not offer it (`smtp://…?tls=required`, port 587 by default).
    StartTlsRequired,
    /// `STARTTLS` when the server offers it, clear text otherwise (`smtp://…?tls=opportunistic`).
    /// Someone on the path can strip the offer, so this protects only against listeners.
    StartTlsOpportunistic,
}

/// An SMTP transport builder for `smtp://[user:password@]host[:port]` (clear text, port 25),
/// `smtps://…` (implicit TLS, port 465) or `smtp://…?tls=required|opportunistic` (STARTTLS, port
/// 587), and how it is shown: the URL without its credentials. TLS trusts Mozilla's roots and the
/// certificates in `ca_file`; a certificate that does not check out fails the attempt, never falls
/// back to clear text.
fn smtp_builder(
    raw: &str,
    ca_file: Option<&Path>,
) -> Result<(lettre::transport::smtp::AsyncSmtpTransportBuilder, String)> {
    let bad = |why: &str| Error::Config(format!("[mail] smtp_url is not usable: {why}"));
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    let mut security = match url.scheme() {
        "smtp" => Security::Plain,
        "smtps" => Security::Implicit,
        other => return Err(bad(&format!("the scheme is {other:?}, not smtp or smtps"))),
    };
    for (key, value) in url.query_pairs() {
        security = match (key.as_ref(), value.as_ref(), security) {
            ("tls", "required", Security::Plain) => Security::StartTlsRequired,
            ("tls", "opportunistic", Security::Plain) => Security::StartTlsOpportunistic,
            ("tls", _, Security::Implicit) => return Err(bad("smtps:// is TLS already: drop ?tls=")),
            ("tls", other, _) => return Err(bad(&format!("tls={other:?} is not required or opportunistic"))),
            (other, _, _) => return Err(bad(&format!("the query parameter {other:?} is not understood"))),
        };
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("it names no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port().unwrap_or(match security {
        Security::Plain => 25,
        Security::Implicit => 465,
        Security::StartTlsRequired | Security::StartTlsOpportunistic => 587,
    });
    let describe = match security {
        Security::Plain => format!("smtp://{host}:{port}"),
        Security::Implicit => format!("smtps://{host}:{port}"),
        Security::StartTlsRequired => format!("smtp://{host}:{port}?tls=required"),
        Security::StartTlsOpportunistic => format!("smtp://{host}:{port}?tls=opportunistic"),
    };
    let tls = match security {
        Security::Plain => {
            if let Some(file) = ca_file {
                return Err(Error::Config(format!(
                    "[mail] tls_ca_file {} is set but smtp_url {describe} uses no TLS: use smtps:// or ?tls=required",
                    file.display()
                )));
            }
            Tls::None
        }
        Security::Implicit => Tls::Wrapper(tls_parameters(&host, ca_file)?),
        Security::StartTlsRequired => Tls::Required(tls_parameters(&host, ca_file)?),
        Security::StartTlsOpportunistic => Tls::Opportunistic(tls_parameters(&host, ca_file)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls);
    if !url.username().is_empty() {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = decode(url.username());
        let password = decode(url.password().unwrap_or_default());
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok((builder, describe))
}

/// TLS towards `host` (a name or an IP address, which the certificate must carry), trusting
/// Mozilla's roots and each certificate in the PEM file `ca_file`.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(file) = ca_file {
        let bad = |why: String| Error::Config(format!("[mail] tls_ca_file {} is not usable: {why}", file.display()));
        let pem = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("it is not PEM ({e})")))?;
        if certificates.is_empty() {
            return Err(bad("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        for der in certificates {
            builder =
                builder.add_root_certificate(Certificate::from_der(der.to_vec()).map_err(|e| bad(e.to_string()))?);
        }
        // Parses each certificate: one that is not X.509 is refused here, not at the first mail.
        return builder.build_rustls().map_err(|e| bad(e.to_string()));
    }
    builder.build_rustls().map_err(|e| Error::Config(format!("[mail] TLS towards {host} cannot be set up: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_read_or_refused_in_words() {
        let shown = |url: &str| smtp_builder(url, None).map(|(_, d)| d).unwrap_or_else(|e| e.to_string());
        assert_eq!(shown("smtp://user:p%40ss@127.0.0.1:2525"), "smtp://127.0.0.1:2525", "no credentials shown");
        assert_eq!(shown("smtp://mail.example"), "smtp://mail.example:25");
        assert_eq!(shown("smtps://user:secret@mail.example"), "smtps://mail.example:465");
        assert_eq!(shown("smtps://mail.example:2465"), "smtps://mail.example:2465");
        assert_eq!(shown("smtp://u:secret@mail.example?tls=required"), "smtp://mail.example:587?tls=required");
        assert_eq!(shown("smtp://mail.example:26?tls=opportunistic"), "smtp://mail.example:26?tls=opportunistic");
        for (url, why) in [
            ("smtps://mail.example?tls=required", "TLS already"),
            ("smtp://mail.example?tls=yes", "not required or opportunistic"),
            ("smtp://mail.example?ehlo=x", "\"ehlo\" is not understood"),
            ("http://mail.example", "scheme"),
            ("not a url", "relative URL"),
        ] {
            let err = smtp_builder(url, None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn a_ca_file_that_is_not_a_certificate_is_refused_at_start() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let refused = |contents: Option<&str>, url: &str| {
            let file = dir.path().join("ca.pem");
            match contents {
                Some(text) => std::fs::write(&file, text).expect("write"),
                None => drop(std::fs::remove_file(&file)),
            }
            smtp_builder(url, Some(&file)).err().map(|e| e.to_string()).unwrap_or_default()
        };
        let url = "smtps://mail.example";
        assert!(refused(None, url).contains("tls_ca_file"), "a missing file");
        assert!(refused(Some("hello"), url).contains("no PEM certificate"), "text without a certificate");
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        assert!(refused(Some(garbage), url).contains("is not usable"), "a PEM block that is not X.509");
        assert!(refused(Some(garbage), "smtp://mail.example").contains("uses no TLS"), "clear text");
    }

    #[test]
    fn smtp_errors_say_each_cause_once_and_where_trust_is_set() {
        assert_eq!(smtp_error("network error: Connection refused"), "network error: Connection refused");
        let said = smtp_error("Connection error: Connection error: invalid peer certificate: UnknownIssuer");
        assert!(said.starts_with("Connection error: invalid peer certificate: UnknownIssuer ("), "{said}");
        assert!(said.contains("tls_ca_file"), "{said}");
    }

    #[test]
    fn message_ids_follow_the_key() {
        let a = message_id("board:1:0xab:3:0x01", "agora.example");
        assert_eq!(a, message_id("board:1:0xab:3:0x01", "agora.example"));
        assert_ne!(a, message_id("board:1:0xab:4:0x01", "agora.example"));
        assert!(a.starts_with('<') && a.ends_with("@agora.example>") && a.len() == 32 + 2 + 1 + 13);
    }
}
