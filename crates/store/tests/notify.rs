//! Notifications' records on SQLite and PostgreSQL: e-mail addresses and single-use tokens,
//! notifications added once per key with their mail in one transaction, pages and read marks kept
//! per recipient, preferences, and the mail outbox's leases, retries and final failure.

use agora_store::testing::TestDb;
use agora_store::{MailStatus, NewMail, NewNotification, NotifyLevel, PrefRow, TokenUse};
use alloy::primitives::Address;

const ADA: Address = Address::repeat_byte(0xad);
const BOB: Address = Address::repeat_byte(0xb0);

fn mail(key: &str, to: Address, at: u64) -> NewMail {
    NewMail {
        idempotency_key: key.into(),
        recipient: to,
        to: "ada@example.org".into(),
        subject: "s".into(),
        body: "b".into(),
        message_id: format!("<{key}@agora>"),
        created_at_ms: at,
    }
}

fn notice(key: &str, to: Address) -> NewNotification {
    NewNotification {
        recipient: to,
        kind: "board-accepted".into(),
        subject: "board-task:7".into(),
        title: "Your task #7 was accepted".into(),
        payload: serde_json::json!({"taskId": 7, "worker": "0x01"}),
        idempotency_key: key.into(),
        created_at: 1_000,
    }
}

#[tokio::test]
async fn a_verification_token_verifies_its_address_once_before_it_expires() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let row = s.set_email_address(ADA, "ada@example.org", "h1", 2_000, 1_000, &mail("v1", ADA, 0)).await?;
        assert_eq!(row.verified_at, None, "{}", db.label);
        assert_eq!(s.verified_email(ADA).await?, None, "{}: unverified addresses get no mail", db.label);
        assert_eq!(s.use_email_token("nope", 1_500).await?, TokenUse::Unknown, "{}", db.label);
        assert_eq!(
            s.use_email_token("h1", 1_500).await?,
            TokenUse::Verified { account: ADA, email: "ada@example.org".into() },
            "{}",
            db.label
        );
        assert_eq!(s.use_email_token("h1", 1_501).await?, TokenUse::Used, "{}", db.label);
        assert_eq!(s.verified_email(ADA).await?.as_deref(), Some("ada@example.org"), "{}", db.label);
        assert_eq!(s.mails_for(ADA).await?.len(), 1, "{}: the link's mail was queued with it", db.label);

        // The same address again stays verified; another one starts over, and an old link for an
        // address no longer set is refused without being burnt.
        s.set_email_address(ADA, "ada@example.org", "h2", 3_000, 1_600, &mail("v2", ADA, 0)).await?;
        assert!(s.verified_email(ADA).await?.is_some(), "{}", db.label);
        s.set_email_address(ADA, "ada@other.org", "h3", 3_000, 1_700, &mail("v3", ADA, 0)).await?;
        assert_eq!(s.verified_email(ADA).await?, None, "{}", db.label);
        assert_eq!(s.use_email_token("h2", 1_800).await?, TokenUse::Superseded, "{}", db.label);
        assert_eq!(s.use_email_token("h3", 3_000).await?, TokenUse::Expired, "{}", db.label);
        assert_eq!(s.email_tokens_since(ADA, 1_600).await?, 2, "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_notification_and_its_mail_are_added_once_per_key() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let first = s.add_notification(&notice("k1", ADA), Some(&mail("mail:k1", ADA, 5))).await?;
        let first = first.expect("added");
        assert_eq!(first.payload["taskId"], 7, "{}", db.label);
        assert_eq!(s.add_notification(&notice("k1", ADA), Some(&mail("mail:k1", ADA, 6))).await?, None, "{}", db.label);
        let mails = s.mails_for(ADA).await?;
        assert_eq!(mails.len(), 1, "{}", db.label);
        assert_eq!(mails[0].notification_id, Some(first.id), "{}", db.label);
        assert_eq!(mails[0].status, MailStatus::Pending, "{}", db.label);
        let second = s.add_notification(&notice("k2", ADA), None).await?.expect("added");
        assert!(second.id > first.id, "{}", db.label);
        s.add_notification(&notice("k3", BOB), None).await?;

        let page = s.notifications(ADA, None, None, 10).await?;
        assert_eq!(page.items.iter().map(|n| n.id).collect::<Vec<_>>(), vec![second.id, first.id], "{}", db.label);
        assert_eq!(page.unread, 2, "{}", db.label);
        let older = s.notifications(ADA, Some(second.id), None, 10).await?;
        assert_eq!(older.items.len(), 1, "{}", db.label);
        let newer = s.notifications(ADA, None, Some(first.id), 10).await?;
        assert_eq!(newer.items[0].id, second.id, "{}", db.label);

        let bobs = s.notifications(BOB, None, None, 10).await?.items[0].id;
        assert_eq!(s.mark_notifications_read(ADA, Some(&[first.id, bobs]), 2_000).await?, 1, "{}", db.label);
        assert_eq!(s.notifications(BOB, None, None, 10).await?.unread, 1, "{}: not Ada's to mark", db.label);
        assert_eq!(s.mark_notifications_read(ADA, None, 2_001).await?, 1, "{}", db.label);
        let page = s.notifications(ADA, None, None, 10).await?;
        assert_eq!(page.unread, 0, "{}", db.label);
        assert_eq!(page.items[1].read_at, Some(2_000), "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn preferences_are_replaced_whole_and_name_the_watchers() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let prefs = vec![
            PrefRow { scope: "default".into(), level: NotifyLevel::Muted },
            PrefRow { scope: "task:7".into(), level: NotifyLevel::Watching },
        ];
        s.set_notification_prefs(ADA, &prefs, 1).await?;
        s.set_notification_prefs(BOB, &[PrefRow { scope: "task:7".into(), level: NotifyLevel::Normal }], 1).await?;
        assert_eq!(s.notification_prefs(ADA).await?, prefs, "{}", db.label);
        assert_eq!(s.watchers("task:7").await?, vec![ADA], "{}", db.label);
        s.set_notification_prefs(ADA, &prefs[..1], 2).await?;
        assert_eq!(s.notification_prefs(ADA).await?, prefs[..1], "{}", db.label);
        assert!(s.watchers("task:7").await?.is_empty(), "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_leased_mail_is_held_by_one_sender_until_its_lease_runs_out() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        assert!(s.queue_mail(&mail("m1", ADA, 100)).await?, "{}", db.label);
        assert!(!s.queue_mail(&mail("m1", ADA, 100)).await?, "{}: one mail per key", db.label);
        assert!(s.lease_mail("a", 99, 1_000).await?.is_none(), "{}: not due yet", db.label);
        let leased = s.lease_mail("a", 100, 1_000).await?.expect("due");
        assert_eq!(leased.attempts, 1, "{}", db.label);
        assert!(s.lease_mail("b", 500, 1_000).await?.is_none(), "{}: a's lease holds", db.label);
        assert_eq!(s.next_mail_due_ms().await?, Some(1_100), "{}", db.label);
        // a stalls; its lease runs out and b takes the row.
        let again = s.lease_mail("b", 1_100, 1_000).await?.expect("lease ran out");
        assert_eq!((again.id, again.attempts), (leased.id, 2), "{}", db.label);
        assert_eq!(s.mail_attempt_failed(leased.id, "a", "late", 9_000, 5).await?, None, "{}: not a's", db.label);
        assert_eq!(
            s.mail_attempt_failed(leased.id, "b", "connection refused", 1_300, 3).await?,
            Some(MailStatus::Pending),
            "{}",
            db.label
        );
        assert!(s.lease_mail("b", 1_299, 1_000).await?.is_none(), "{}: backing off", db.label);
        let third = s.lease_mail("b", 1_300, 1_000).await?.expect("due again");
        assert_eq!(
            s.mail_attempt_failed(third.id, "b", "connection refused", 1_500, 3).await?,
            Some(MailStatus::Failed),
            "{}: three attempts were all it had",
            db.label
        );
        let row = s.mail_by_key("m1").await?.expect("row");
        assert_eq!((row.status, row.last_error.as_deref()), (MailStatus::Failed, Some("connection refused")));
        assert!(s.lease_mail("b", 10_000, 1_000).await?.is_none(), "{}: failed mails stay", db.label);
        assert_eq!(s.next_mail_due_ms().await?, None, "{}", db.label);

        s.queue_mail(&mail("m2", ADA, 100)).await?;
        let m2 = s.lease_mail("c", 200, 1_000).await?.expect("due");
        assert!(s.mail_sent(m2.id, 250).await?, "{}", db.label);
        assert!(!s.mail_sent(m2.id, 260).await?, "{}: once", db.label);
        let row = s.mail_by_key("m2").await?.expect("row");
        assert_eq!((row.status, row.sent_at_ms), (MailStatus::Sent, Some(250)), "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}
