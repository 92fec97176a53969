//! Mail over TLS against a real TLS SMTP server on loopback: the sink speaking implicit TLS and
//! STARTTLS under a certificate from an authority the test makes. With the authority in
//! `tls_ca_file` notification mails arrive either way; without it each attempt fails on the
//! certificate, the outbox row says so, and the server never sees a mail.

use std::path::{Path, PathBuf};

use agora_notify::{MailSettings, Mailer};
use agora_store::MailStatus;
use agora_store::testing::TestDb;
use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

use super::sink::{Sink, TlsMode};
use super::{ADA, WAIT, notice, settings, start, verified_ada, wait_for_row};

/// PEM files of a certificate authority and of a server certificate it signed for 127.0.0.1 and
/// localhost, with the server's key.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    _dir: tempfile::TempDir,
}

fn pki() -> anyhow::Result<Pki> {
    let dir = tempfile::tempdir()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, "Agora test authority");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    server.distinguished_name.push(DnType::CommonName, "smtp-sink");
    let server_key = KeyPair::generate()?;
    let server = server.signed_by(&server_key, &ca)?;
    let write = |name: &str, pem: String| -> anyhow::Result<PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, pem)?;
        Ok(path)
    };
    Ok(Pki {
        ca: write("ca.pem", ca.pem())?,
        cert: write("server.pem", server.pem())?,
        key: write("server.key", server_key.serialize_pem())?,
        _dir: dir,
    })
}

fn trusting(sink: &Sink, ca: Option<&Path>) -> MailSettings {
    MailSettings { tls_ca_file: ca.map(Path::to_path_buf), ..settings(Some(sink.url())) }
}

#[tokio::test]
async fn notification_mails_arrive_over_smtps_and_starttls_when_the_authority_is_trusted() -> anyhow::Result<()> {
    let pki = pki()?;
    for (mode, shown) in [(TlsMode::Smtps, "smtps://127.0.0.1:"), (TlsMode::StartTls, "smtp://127.0.0.1:")] {
        let sink = Sink::start_tls(mode, &pki.cert, &pki.key).await?;
        let s = trusting(&sink, Some(&pki.ca));
        let destination = Mailer::new(&s, &sink.dir)?.destination().to_owned();
        assert!(destination.starts_with(shown), "{mode:?}: {destination}");
        let db = TestDb::sqlite().await?;
        let (notifier, _stop) = start(&db.store, &s, &sink.dir)?;
        verified_ada(&notifier, &sink).await.with_context(|| format!("{mode:?}: the verification mail"))?;
        notifier.notify(&notice("board:31337:0xab:5:0xad")).await?.context("told")?;
        let row =
            wait_for_row(&db.store, "mail:board:31337:0xab:5:0xad", "sent", |r| r.status == MailStatus::Sent).await?;
        let mails = sink.wait_for(2, WAIT).await?;
        assert_eq!(mails.len(), 2, "{mode:?}: the verification mail and the notification mail");
        assert_eq!(mails[1].header("Message-ID"), Some(row.message_id), "{mode:?}");
        assert!(mails[1].text.contains("Your task #7 was accepted"), "{mode:?}");
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_gets_no_mail_and_the_row_says_why() -> anyhow::Result<()> {
    let pki = pki()?;
    for mode in [TlsMode::Smtps, TlsMode::StartTls] {
        let sink = Sink::start_tls(mode, &pki.cert, &pki.key).await?;
        let s = MailSettings { max_attempts: 2, ..trusting(&sink, None) };
        let db = TestDb::sqlite().await?;
        let (notifier, _stop) = start(&db.store, &s, &sink.dir)?;
        notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
        let key = db.store.mails_for(ADA).await?[0].idempotency_key.clone();
        let row = wait_for_row(&db.store, &key, "failed", |r| r.status == MailStatus::Failed).await?;
        assert_eq!(row.attempts, 2, "{mode:?}");
        let error = row.last_error.unwrap_or_default();
        assert!(error.contains("certificate") && error.contains("UnknownIssuer"), "{mode:?}: {error}");
        // The attempts are over: had any mail got through, its file would be there by now.
        assert_eq!(sink.received()?.len(), 0, "{mode:?}: nothing reached the server");
        db.finish().await?;
    }
    Ok(())
}
