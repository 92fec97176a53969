//! Notifications end to end against a real SMTP server on loopback (`scripts/smtp-sink.sh`,
//! aiosmtpd): the verification link arrives and works once; a notice told twice makes one
//! notification and one mail; a server that is down is retried with backoff until it comes up;
//! muted people get nothing; a sender that dies after sending and before recording it causes at
//! most one more copy, with the same Message-ID. Without SMTP, mails are `.eml` files. Over TLS
//! (implicit and STARTTLS) mails arrive when the server's authority is trusted and fail on the
//! certificate when it is not.

use std::time::{Duration, Instant};

use agora_notify::{MailSettings, Mailer, Notice, Notifier, Postman, Reach};
use agora_store::testing::TestDb;
use agora_store::{MailStatus, NotifyLevel, PrefRow, Store, TokenUse};
use alloy::primitives::Address;
use anyhow::Context;
use tokio::sync::watch;

#[path = "notify/producer.rs"]
mod producer;
#[path = "notify/sink.rs"]
mod sink;
#[path = "notify/tls.rs"]
mod tls;
use sink::Sink;

const ADA: Address = Address::repeat_byte(0xad);
const WAIT: Duration = Duration::from_secs(20);

fn settings(smtp_url: Option<String>) -> MailSettings {
    MailSettings {
        smtp_url,
        from: "Agora <agora@agora.test>".into(),
        retry_base_ms: 50,
        retry_max_ms: 400,
        lease_ms: 10_000,
        timeout_ms: 5_000,
        poll_ms: 200,
        ..MailSettings::default()
    }
}

/// A notifier and a running sender over `store` sending as `settings` say; the sender stops when
/// the returned handle is dropped.
fn start(
    store: &Store,
    settings: &MailSettings,
    dir: &std::path::Path,
) -> anyhow::Result<(Notifier, watch::Sender<bool>)> {
    let notifier = Notifier::new(store.clone(), settings, Some("http://agora.test".into()))?;
    let mailer = Mailer::new(settings, dir)?;
    let postman = Postman::new(store.clone(), mailer, settings.clone(), notifier.waker())?;
    let (stop, rx) = watch::channel(false);
    tokio::spawn(postman.run(rx));
    Ok((notifier, stop))
}

fn notice(key: &str) -> Notice {
    Notice {
        recipient: ADA,
        kind: "board-accepted".into(),
        subject: "board-task:7".into(),
        scopes: vec!["task:7".into(), "community:3".into()],
        title: "Your task #7 was accepted by 0x1111111111111111111111111111111111111111".into(),
        payload: serde_json::json!({"taskId": 7}),
        key: key.into(),
        reach: Reach::DirectMail,
    }
}

/// Follows the verification link in the last mail of `sink`.
async fn verify_from_mail(notifier: &Notifier, mail: &sink::Received) -> anyhow::Result<TokenUse> {
    let link = mail
        .text
        .lines()
        .find(|l| l.starts_with("http://agora.test/#/verify-email?token="))
        .context("no verification link in the mail")?;
    let token = link.rsplit('=').next().unwrap_or_default();
    Ok(notifier.verify_email(token).await?)
}

/// Ada with a verified address at `sink`.
async fn verified_ada(notifier: &Notifier, sink: &Sink) -> anyhow::Result<()> {
    let before = sink.received()?.len();
    notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
    let mails = sink.wait_for(before + 1, WAIT).await?;
    anyhow::ensure!(matches!(verify_from_mail(notifier, &mails[before]).await?, TokenUse::Verified { .. }));
    Ok(())
}

async fn wait_for_row(
    store: &Store,
    key: &str,
    what: &str,
    ok: impl Fn(&agora_store::MailRow) -> bool,
) -> anyhow::Result<agora_store::MailRow> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(row) = store.mail_by_key(key).await?
            && ok(&row)
        {
            return Ok(row);
        }
        anyhow::ensure!(Instant::now() < deadline, "mail {key} never became {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_verification_mail_arrives_with_a_link_that_works_once() -> anyhow::Result<()> {
    let sink = Sink::start().await?;
    let db = TestDb::sqlite().await?;
    let (notifier, _stop) = start(&db.store, &settings(Some(sink.url())), &sink.dir)?;
    let row = notifier.set_email(ADA, " ada@example.org ", "http://agora.test/").await?;
    assert_eq!((row.email.as_str(), row.verified_at), ("ada@example.org", None));
    let mails = sink.wait_for(1, WAIT).await?;
    assert_eq!(mails[0].header("X-Sink-Rcpt-To").as_deref(), Some("ada@example.org"));
    assert_eq!(mails[0].header("Subject").as_deref(), Some("Agora: confirm your e-mail address"));
    assert_eq!(
        verify_from_mail(&notifier, &mails[0]).await?,
        TokenUse::Verified { account: ADA, email: "ada@example.org".into() }
    );
    assert!(notifier.email(ADA).await?.and_then(|e| e.verified_at).is_some());
    assert_eq!(verify_from_mail(&notifier, &mails[0]).await?, TokenUse::Used, "a link works once");
    assert_eq!(notifier.verify_email("zz").await?, TokenUse::Unknown);
    assert!(notifier.set_email(ADA, "not an address", "http://agora.test").await.is_err());
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_notice_told_twice_is_one_notification_and_one_mail() -> anyhow::Result<()> {
    let sink = Sink::start().await?;
    let db = TestDb::sqlite().await?;
    let (notifier, _stop) = start(&db.store, &settings(Some(sink.url())), &sink.dir)?;
    verified_ada(&notifier, &sink).await?;
    let mut live = notifier.subscribe();
    let first = notifier.notify(&notice("board:31337:0xab:4:0xad")).await?.context("told")?;
    assert_eq!(notifier.notify(&notice("board:31337:0xab:4:0xad")).await?, None);
    assert_eq!(live.recv().await?.id, first.id, "pushed live once");
    let row = wait_for_row(&db.store, "mail:board:31337:0xab:4:0xad", "sent", |r| r.status == MailStatus::Sent).await?;
    let mails = sink.received()?;
    assert_eq!(mails.len(), 2, "the verification mail and one notification mail");
    assert_eq!(mails[1].header("Message-ID"), Some(row.message_id.clone()));
    assert!(mails[1].text.contains("Your task #7 was accepted by 0x1111111111111111111111111111111111111111"));
    assert!(mails[1].text.contains("http://agora.test/#/notifications"));
    assert_eq!(db.store.notifications(ADA, None, None, 10).await?.items.len(), 1);
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn muted_people_get_nothing_and_normal_ones_no_mail_for_what_they_only_watch() -> anyhow::Result<()> {
    let sink = Sink::start().await?;
    let db = TestDb::sqlite().await?;
    let (notifier, _stop) = start(&db.store, &settings(Some(sink.url())), &sink.dir)?;
    verified_ada(&notifier, &sink).await?;
    db.store
        .set_notification_prefs(ADA, &[PrefRow { scope: "community:3".into(), level: NotifyLevel::Muted }], 1)
        .await?;
    assert_eq!(notifier.notify(&notice("muted")).await?, None);
    // The task's own level is more specific than the community's.
    db.store
        .set_notification_prefs(
            ADA,
            &[
                PrefRow { scope: "community:3".into(), level: NotifyLevel::Muted },
                PrefRow { scope: "task:7".into(), level: NotifyLevel::Normal },
            ],
            2,
        )
        .await?;
    let watched = Notice { reach: Reach::Watched, ..notice("watched") };
    assert_eq!(notifier.notify(&watched).await?, None, "normal: nothing for what one only watches");
    let direct = Notice { reach: Reach::Direct, ..notice("direct") };
    assert!(notifier.notify(&direct).await?.is_some(), "in the page");
    assert_eq!(db.store.mail_by_key("mail:direct").await?, None, "but no mail");
    assert_eq!(db.store.mails_for(ADA).await?.len(), 1, "only the verification mail");
    assert_eq!(db.store.notifications(ADA, None, None, 10).await?.items.len(), 1);
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_server_that_is_down_is_retried_until_it_comes_up() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let db = TestDb::sqlite().await?;
    let (notifier, _stop) = start(&db.store, &settings(Some(format!("smtp://127.0.0.1:{port}"))), tmp.path())?;
    notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
    let key = db.store.mails_for(ADA).await?[0].idempotency_key.clone();
    let failing = wait_for_row(&db.store, &key, "retried", |r| r.attempts >= 3 && r.last_error.is_some()).await?;
    assert_eq!(failing.status, MailStatus::Pending);
    let sink = Sink::on_port(port, &tmp.path().join("mail")).await?;
    let mails = sink.wait_for(1, WAIT).await?;
    assert_eq!(mails.len(), 1);
    let sent = wait_for_row(&db.store, &key, "sent", |r| r.status == MailStatus::Sent).await?;
    assert!(sent.attempts > failing.attempts);
    assert_eq!(mails[0].header("Message-ID"), Some(sent.message_id));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_mail_that_fails_every_attempt_is_marked_failed_with_its_error() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let db = TestDb::sqlite().await?;
    let s = MailSettings { max_attempts: 3, ..settings(Some(format!("smtp://127.0.0.1:{port}"))) };
    let (notifier, _stop) = start(&db.store, &s, tmp.path())?;
    notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
    let key = db.store.mails_for(ADA).await?[0].idempotency_key.clone();
    let row = wait_for_row(&db.store, &key, "failed", |r| r.status == MailStatus::Failed).await?;
    assert_eq!(row.attempts, 3);
    assert!(row.last_error.is_some_and(|e| !e.is_empty()));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_sender_lost_between_sending_and_recording_causes_one_copy_with_the_same_message_id() -> anyhow::Result<()> {
    let sink = Sink::start().await?;
    let db = TestDb::sqlite().await?;
    let s = settings(Some(sink.url()));
    // No sender runs yet: the mail waits in the outbox.
    let notifier = Notifier::new(db.store.clone(), &s, Some("http://agora.test".into()))?;
    notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
    // A sender takes it under a short lease, sends it, and dies before recording it.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    let taken = db.store.lease_mail("dead-sender", now, 300).await?.context("due")?;
    Mailer::new(&s, &sink.dir)?.send(&taken).await.map_err(anyhow::Error::msg)?;
    sink.wait_for(1, WAIT).await?;
    // A live sender takes it once the lease runs out, and sends it again.
    let postman = Postman::new(db.store.clone(), Mailer::new(&s, &sink.dir)?, s.clone(), notifier.waker())?;
    let (_stop, rx) = watch::channel(false);
    tokio::spawn(postman.run(rx));
    let row = wait_for_row(&db.store, &taken.idempotency_key, "sent", |r| r.status == MailStatus::Sent).await?;
    assert_eq!(row.attempts, 2, "one more attempt, then it is recorded: no further copy");
    let mails = sink.received()?;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].header("Message-ID"), mails[1].header("Message-ID"));
    assert_eq!(mails[1].header("Message-ID"), Some(row.message_id));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn without_smtp_mails_are_eml_files_a_person_can_read() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let db = TestDb::sqlite().await?;
    let (notifier, _stop) = start(&db.store, &settings(None), &tmp.path().join("mail"))?;
    notifier.set_email(ADA, "ada@example.org", "http://agora.test").await?;
    let mails = sink::wait_for_mails(&tmp.path().join("mail"), "eml", 1, WAIT).await?;
    assert!(mails[0].text.contains("To: ada@example.org"));
    assert!(matches!(verify_from_mail(&notifier, &mails[0]).await?, TokenUse::Verified { .. }));
    db.finish().await?;
    Ok(())
}
