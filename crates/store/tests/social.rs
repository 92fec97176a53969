//! Profiles and community posts on SQLite and PostgreSQL: threads and replies, tombstones, locks,
//! pinned-first lists, hidden posts per viewer, the rate limit shared by two store handles (two API
//! processes), reports once per member, the moderation queue and its log.

#[path = "social/moderation.rs"]
mod moderation;
#[path = "social/setup.rs"]
mod setup;

use agora_store::testing::TestDb;
use agora_store::{ModerationAction, NewPost, PostOrder, PostRefusal, ProfileRow, RateLimit, Store, Viewer};
use alloy::primitives::Address;
use setup::{CHAIN, community};

pub(crate) const T0: u64 = 1_800_000_000;
pub(crate) const ROOMY: RateLimit = RateLimit { max_posts: 1000, window_secs: 60 };

pub(crate) fn who(n: u8) -> Address {
    Address::repeat_byte(n)
}

pub(crate) fn thread(community_id: u64, author: Address, title: &str) -> NewPost {
    NewPost { community_id, thread_id: None, author, title: Some(title.into()), body: format!("# {title}\n\nbody") }
}

pub(crate) fn reply(thread_id: u64, author: Address, body: &str) -> NewPost {
    NewPost { community_id: 0, thread_id: Some(thread_id), author, title: None, body: body.into() }
}

pub(crate) async fn write(s: &Store, post: &NewPost, now: u64) -> anyhow::Result<u64> {
    match s.create_post(CHAIN, post, now, ROOMY).await? {
        Ok(row) => Ok(row.id),
        Err(refusal) => anyhow::bail!("refused: {refusal:?}"),
    }
}

#[tokio::test]
async fn profiles_are_saved_whole_and_read_back() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        assert_eq!(s.profile(who(1)).await?, None, "{}", db.label);
        let row = ProfileRow {
            address: who(1),
            display_name: Some("Ada 李".into()),
            avatar_cid: Some("bafy".into()),
            updated_at: T0,
        };
        s.save_profile(&row).await?;
        assert_eq!(s.profile(who(1)).await?, Some(row.clone()));
        let cleared = ProfileRow { display_name: None, updated_at: T0 + 1, ..row };
        s.save_profile(&cleared).await?;
        assert_eq!(s.profile(who(1)).await?, Some(cleared), "{}: a None field is cleared", db.label);
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_admins_user_list_holds_posters_profiles_and_assistant_users_once_each() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        community(&db, 7, who(1), &[], &[who(1), who(2)]).await?;
        // who(1): posts twice and saves a profile; who(2): posts once, later disabled; who(3):
        // only a profile; who(4): only the assistant.
        let t = write(s, &thread(7, who(1), "first"), T0).await?;
        write(s, &reply(t, who(1), "again"), T0 + 5).await?;
        write(s, &reply(t, who(2), "hi"), T0 + 10).await?;
        let profile = |n, at| ProfileRow {
            address: who(n),
            display_name: Some(format!("p{n}")),
            avatar_cid: None,
            updated_at: at,
        };
        s.save_profile(&profile(1, T0 + 20)).await?;
        s.save_profile(&profile(3, T0 + 30)).await?;
        s.touch_assistant_user(who(4), T0 + 40).await?;
        s.set_assistant_user_disabled(who(2), true, T0 + 50).await?;
        let users = s.assistant_users(CHAIN, 10).await?;
        let got: Vec<(Address, bool, u64, u64)> =
            users.iter().map(|u| (u.address, u.disabled, u.first_seen, u.posts)).collect();
        assert_eq!(
            got,
            [
                (who(4), false, T0 + 40, 0),
                (who(3), false, T0 + 30, 0),
                (who(2), true, T0 + 10, 1),
                (who(1), false, T0, 2)
            ],
            "{}: newest first, each once, first seen at their earliest trace",
            db.label
        );
        assert_eq!(s.assistant_users(CHAIN, 2).await?.len(), 2, "{}: the limit holds", db.label);
        let elsewhere = s.assistant_users(CHAIN + 1, 10).await?;
        let posts: Vec<(Address, u64)> = elsewhere.iter().map(|u| (u.address, u.posts)).collect();
        assert_eq!(
            posts,
            [(who(2), 0), (who(4), 0), (who(3), 0), (who(1), 0)],
            "{}: posts count on their chain only",
            db.label
        );
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn community_access_reads_the_indexed_roles() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        community(&db, 7, who(1), &[who(2)], &[who(1), who(3)]).await?;
        let owner = s.community_access(CHAIN, 7, Some(who(1))).await?.expect("community");
        assert_eq!((owner.owner, owner.admin, owner.member), (who(1), false, true), "{}", db.label);
        let admin = s.community_access(CHAIN, 7, Some(who(2))).await?.expect("community");
        assert_eq!((admin.admin, admin.member), (true, false));
        let member = s.community_access(CHAIN, 7, Some(who(3))).await?.expect("community");
        assert_eq!((member.admin, member.member), (false, true));
        let nobody = s.community_access(CHAIN, 7, None).await?.expect("community");
        assert_eq!((nobody.admin, nobody.member), (false, false));
        assert_eq!(s.community_access(CHAIN, 8, Some(who(1))).await?, None);
        assert_eq!(s.community_access(CHAIN + 1, 7, Some(who(1))).await?, None, "another chain's community");
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn threads_replies_edits_tombstones_and_locks() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let (a, b) = (who(1), who(2));
        let everyone = Viewer::default();
        let t1 = write(s, &thread(7, a, "first"), T0).await?;
        let t2 = write(s, &thread(7, b, "second"), T0 + 1).await?;
        let other = write(s, &thread(8, b, "elsewhere"), T0 + 2).await?;
        assert_eq!((t1, t2, other), (1, 2, 3), "{}: posts are numbered from 1", db.label);
        let r1 = write(s, &reply(t1, b, "hello"), T0 + 3).await?;
        let r2 = write(s, &reply(t1, a, "again"), T0 + 4).await?;

        let list = s.threads(CHAIN, 7, &everyone, PostOrder::Newest, 10, 0).await?;
        assert_eq!(list.iter().map(|p| p.id).collect::<Vec<_>>(), [t2, t1], "{}", db.label);
        assert_eq!((list[1].replies, list[1].title.as_deref()), (2, Some("first")));
        let oldest = s.threads(CHAIN, 7, &everyone, PostOrder::Oldest, 1, 1).await?;
        assert_eq!(oldest.iter().map(|p| p.id).collect::<Vec<_>>(), [t2], "limit and offset");
        let replies = s.replies(CHAIN, t1, &everyone, PostOrder::Oldest, 10, 0).await?;
        assert_eq!(
            replies.iter().map(|p| (p.id, p.community_id, p.thread_id)).collect::<Vec<_>>(),
            [(r1, 7, t1), (r2, 7, t1)]
        );

        // A reply to a reply, or to nothing, is refused.
        let refused = s.create_post(CHAIN, &reply(r1, a, "x"), T0 + 5, ROOMY).await?;
        assert_eq!(refused.err(), Some(PostRefusal::NotAThread));
        let refused = s.create_post(CHAIN, &reply(99, a, "x"), T0 + 5, ROOMY).await?;
        assert_eq!(refused.err(), Some(PostRefusal::NoSuchPost));

        // Edit, then delete: the row stays, title and body gone.
        let edited = s.edit_post(CHAIN, t1, Some("first, edited"), "new body", T0 + 6, &everyone).await?;
        let edited = edited.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!(
            (edited.title.as_deref(), edited.body.as_deref(), edited.edited_at),
            (Some("first, edited"), Some("new body"), Some(T0 + 6))
        );
        let edited = s
            .edit_post(CHAIN, r1, Some("ignored"), "hello!", T0 + 6, &everyone)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!(edited.title, None, "{}: a reply has no title", db.label);
        let gone = s.delete_post(CHAIN, r1, T0 + 7, &everyone).await?.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!((gone.title, gone.body, gone.deleted_at), (None, None, Some(T0 + 7)));
        assert_eq!(s.delete_post(CHAIN, r1, T0 + 8, &everyone).await?.err(), Some(PostRefusal::Deleted));
        assert_eq!(s.edit_post(CHAIN, r1, None, "back", T0 + 8, &everyone).await?.err(), Some(PostRefusal::Deleted));
        let replies = s.replies(CHAIN, t1, &everyone, PostOrder::Newest, 10, 0).await?;
        assert_eq!(
            replies.iter().map(|p| (p.id, p.deleted_at.is_some())).collect::<Vec<_>>(),
            [(r2, false), (r1, true)]
        );

        // A locked thread takes no reply and no edit (of the thread or its replies); deleting still works.
        s.moderate_post(CHAIN, t1, b, ModerationAction::Lock, "heated", T0 + 9)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!(
            s.create_post(CHAIN, &reply(t1, b, "more"), T0 + 10, ROOMY).await?.err(),
            Some(PostRefusal::ThreadLocked)
        );
        assert_eq!(s.edit_post(CHAIN, t1, None, "x", T0 + 10, &everyone).await?.err(), Some(PostRefusal::ThreadLocked));
        assert_eq!(s.edit_post(CHAIN, r2, None, "x", T0 + 10, &everyone).await?.err(), Some(PostRefusal::ThreadLocked));
        assert!(s.delete_post(CHAIN, r2, T0 + 10, &everyone).await?.is_ok());
        s.moderate_post(CHAIN, t1, b, ModerationAction::Unlock, "calm", T0 + 11)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert!(s.create_post(CHAIN, &reply(t1, b, "more"), T0 + 12, ROOMY).await?.is_ok());

        // Deleted threads take no reply.
        s.delete_post(CHAIN, t2, T0 + 13, &everyone).await?.map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!(s.create_post(CHAIN, &reply(t2, a, "x"), T0 + 14, ROOMY).await?.err(), Some(PostRefusal::Deleted));
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn pinned_threads_come_first_and_hidden_posts_only_reach_author_and_moderators() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let (author, other, admin) = (who(1), who(2), who(3));
        let t1 = write(s, &thread(7, author, "one"), T0).await?;
        let t2 = write(s, &thread(7, other, "two"), T0 + 1).await?;
        let t3 = write(s, &thread(7, other, "three"), T0 + 2).await?;
        let r1 = write(s, &reply(t3, author, "hidden soon"), T0 + 3).await?;
        write(s, &reply(t3, other, "visible"), T0 + 4).await?;

        s.moderate_post(CHAIN, t1, admin, ModerationAction::Pin, "rules", T0 + 5)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        let anyone = Viewer::default();
        let ids = |rows: Vec<agora_store::PostRow>| rows.iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(s.threads(CHAIN, 7, &anyone, PostOrder::Newest, 10, 0).await?), [t1, t3, t2], "{}", db.label);
        assert_eq!(ids(s.threads(CHAIN, 7, &anyone, PostOrder::Oldest, 10, 0).await?), [t1, t2, t3]);

        s.moderate_post(CHAIN, r1, admin, ModerationAction::Hide, "spam", T0 + 6)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        s.moderate_post(CHAIN, t2, admin, ModerationAction::Hide, "off topic", T0 + 7)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        let as_author = Viewer { account: Some(author), moderator: false };
        let as_other = Viewer { account: Some(other), moderator: false };
        let as_admin = Viewer { account: Some(admin), moderator: true };
        assert_eq!(ids(s.replies(CHAIN, t3, &anyone, PostOrder::Oldest, 10, 0).await?).len(), 1, "{}", db.label);
        assert_eq!(ids(s.replies(CHAIN, t3, &as_other, PostOrder::Oldest, 10, 0).await?).len(), 1);
        let mine = s.replies(CHAIN, t3, &as_author, PostOrder::Oldest, 10, 0).await?;
        assert_eq!(mine.iter().map(|p| (p.id, p.hidden_at.is_some())).collect::<Vec<_>>()[0], (r1, true));
        assert_eq!(s.replies(CHAIN, t3, &as_admin, PostOrder::Oldest, 10, 0).await?.len(), 2);
        // Reply counts follow the viewer too; the hidden thread is listed for its author and moderators only.
        let counts = |rows: Vec<agora_store::PostRow>| rows.iter().map(|p| (p.id, p.replies)).collect::<Vec<_>>();
        assert_eq!(counts(s.threads(CHAIN, 7, &as_author, PostOrder::Newest, 10, 0).await?), [(t1, 0), (t3, 2)]);
        assert_eq!(
            counts(s.threads(CHAIN, 7, &as_other, PostOrder::Newest, 10, 0).await?),
            [(t1, 0), (t3, 1), (t2, 0)]
        );
        assert_eq!(
            counts(s.threads(CHAIN, 7, &as_admin, PostOrder::Newest, 10, 0).await?),
            [(t1, 0), (t3, 2), (t2, 0)]
        );
        assert_eq!(ids(s.threads(CHAIN, 7, &anyone, PostOrder::Newest, 10, 0).await?), [t1, t3]);
        let hidden = s.post(CHAIN, r1, &anyone).await?.expect("row");
        assert!(!anyone.sees(&hidden) && as_author.sees(&hidden) && as_admin.sees(&hidden) && !as_other.sees(&hidden));
        db.finish().await?;
    }
    Ok(())
}
