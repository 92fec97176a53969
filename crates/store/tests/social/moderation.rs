//! The rate limit, reports, the moderation queue and the moderation log.

use agora_store::testing::TestDb;
use agora_store::{ModerationAction, PostRefusal, RateLimit, Store};

use super::setup::CHAIN;
use super::{T0, reply, thread, who, write};

#[tokio::test]
async fn the_rate_limit_counts_an_authors_posts_in_the_window() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let limit = RateLimit { max_posts: 3, window_secs: 60 };
        let t = write(s, &thread(7, who(1), "t"), T0).await?;
        s.create_post(CHAIN, &reply(t, who(1), "a"), T0 + 10, limit).await?.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        let last = s.create_post(CHAIN, &reply(t, who(1), "b"), T0 + 20, limit).await?;
        let last = last.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        // Deleting a post does not give its place in the window back.
        s.delete_post(CHAIN, last.id, T0 + 21, &Default::default()).await?.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        let refused = s.create_post(CHAIN, &reply(t, who(1), "c"), T0 + 30, limit).await?;
        assert_eq!(refused.err(), Some(PostRefusal::RateLimited { retry_after: 30 }), "{}", db.label);
        // Someone else is not limited by it; the author is again once the first post leaves the window.
        assert!(s.create_post(CHAIN, &reply(t, who(2), "d"), T0 + 30, limit).await?.is_ok());
        assert!(s.create_post(CHAIN, &reply(t, who(1), "e"), T0 + 61, limit).await?.is_ok());
        // A refused post took no number: the next one follows the last written.
        let next = write(s, &thread(7, who(3), "n"), T0 + 62).await?;
        assert_eq!(next, 6, "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn two_store_handles_share_the_rate_limit() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        // Two handles on one database stand for two API processes.
        let other = Store::connect(&db.url).await?;
        let t = write(&db.store, &thread(7, who(9), "t"), T0).await?;
        let limit = RateLimit { max_posts: 4, window_secs: 600 };
        let attempts = (0..12u64).map(|i| {
            let s = if i % 2 == 0 { db.store.clone() } else { other.clone() };
            tokio::spawn(async move { s.create_post(CHAIN, &reply(t, who(1), &format!("#{i}")), T0 + 1, limit).await })
        });
        let mut written = 0;
        let mut limited = 0;
        for attempt in attempts {
            match attempt.await?? {
                Ok(_) => written += 1,
                Err(PostRefusal::RateLimited { .. }) => limited += 1,
                Err(other) => anyhow::bail!("unexpected refusal {other:?}"),
            }
        }
        assert_eq!((written, limited), (4, 8), "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn reports_count_once_and_fill_the_queue_until_resolved() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let t = write(s, &thread(7, who(1), "t"), T0).await?;
        let r = write(s, &reply(t, who(2), "rude"), T0 + 1).await?;
        let elsewhere = write(s, &thread(8, who(2), "other community"), T0 + 2).await?;
        assert!(s.report_post(CHAIN, r, 7, who(3), "rude", T0 + 3).await?);
        assert!(!s.report_post(CHAIN, r, 7, who(3), "again", T0 + 4).await?, "{}: once per member", db.label);
        assert!(s.report_post(CHAIN, r, 7, who(4), "spam", T0 + 5).await?);
        assert!(s.report_post(CHAIN, t, 7, who(3), "later", T0 + 6).await?);
        assert!(s.report_post(CHAIN, elsewhere, 8, who(3), "x", T0 + 2).await?);

        let queue = s.moderation_queue(CHAIN, Some(7), 10, 0).await?;
        let shape: Vec<_> = queue
            .iter()
            .map(|q| (q.post.id, q.reports.iter().map(|r| (r.reporter, r.reason.as_str())).collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            shape,
            [(r, vec![(who(3), "rude"), (who(4), "spam")]), (t, vec![(who(3), "later")])],
            "{}",
            db.label
        );
        let everywhere = s.moderation_queue(CHAIN, None, 10, 0).await?;
        assert_eq!(everywhere.iter().map(|q| q.post.id).collect::<Vec<_>>(), [elsewhere, r, t], "oldest report first");
        assert_eq!(s.moderation_queue(CHAIN, None, 1, 1).await?.len(), 1);

        let (resolved, entry) =
            s.resolve_reports(CHAIN, r, who(1), "warned", T0 + 7).await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(
            (resolved, entry.action, entry.community_id, entry.reason.as_str()),
            (2, ModerationAction::Resolve, 7, "warned")
        );
        assert_eq!(s.resolve_reports(CHAIN, r, who(1), "again", T0 + 8).await?.err(), Some(PostRefusal::NoOpenReports));
        assert_eq!(s.moderation_queue(CHAIN, Some(7), 10, 0).await?.iter().map(|q| q.post.id).collect::<Vec<_>>(), [t]);
        assert!(!s.report_post(CHAIN, r, 7, who(3), "resolved already", T0 + 9).await?, "still once per member");
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn moderation_is_logged_and_refuses_what_changes_nothing() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let t = write(s, &thread(7, who(1), "t"), T0).await?;
        let r = write(s, &reply(t, who(2), "r"), T0 + 1).await?;
        let admin = who(5);
        let (post, entry) = s
            .moderate_post(CHAIN, r, admin, ModerationAction::Hide, "spam", T0 + 2)
            .await?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(
            (post.hidden_at, entry.actor, entry.post_id, entry.at),
            (Some(T0 + 2), admin, r, T0 + 2),
            "{}",
            db.label
        );
        assert_eq!(
            s.moderate_post(CHAIN, r, admin, ModerationAction::Hide, "x", T0 + 3).await?.err(),
            Some(PostRefusal::NoChange)
        );
        assert_eq!(
            s.moderate_post(CHAIN, r, admin, ModerationAction::Pin, "x", T0 + 3).await?.err(),
            Some(PostRefusal::NotAThread)
        );
        assert_eq!(
            s.moderate_post(CHAIN, r, admin, ModerationAction::Lock, "x", T0 + 3).await?.err(),
            Some(PostRefusal::NotAThread)
        );
        assert_eq!(
            s.moderate_post(CHAIN, 99, admin, ModerationAction::Hide, "x", T0 + 3).await?.err(),
            Some(PostRefusal::NoSuchPost)
        );
        s.moderate_post(CHAIN, t, admin, ModerationAction::Pin, "rules", T0 + 4)
            .await?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        s.moderate_post(CHAIN, r, admin, ModerationAction::Unhide, "appeal", T0 + 5)
            .await?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let log = s.moderation_log(CHAIN, 7, 10, 0).await?;
        let shape: Vec<_> = log.iter().map(|e| (e.seq, e.post_id, e.action, e.reason.as_str())).collect();
        assert_eq!(
            shape,
            [
                (3, r, ModerationAction::Unhide, "appeal"),
                (2, t, ModerationAction::Pin, "rules"),
                (1, r, ModerationAction::Hide, "spam")
            ],
            "{}: newest first, refused actions not logged",
            db.label
        );
        assert!(s.moderation_log(CHAIN, 8, 10, 0).await?.is_empty());
        db.finish().await?;
    }
    Ok(())
}
