//! What the posts tell people: a thread's author hears of each reply by someone else, a post's
//! author of each moderation of it (in the page at level `normal`; by mail at `watching`). A post
//! is written before anyone is told; a notice that fails is logged and the write stands (the
//! notification is keyed, so nothing is told twice).

use agora_notify::{Notice, Reach};
use agora_store::{ModerationAction, ModerationEntry, PostRow};
use alloy::primitives::Address;
use serde_json::json;

use crate::AppState;

fn who(name: Option<&str>, address: Address) -> String {
    name.map_or_else(|| format!("{address:#x}"), str::to_owned)
}

/// Tells `thread`'s author that `reply` (written by someone else) answered it.
pub(crate) async fn replied(s: &AppState, thread: &PostRow, reply: &PostRow) {
    if reply.author == thread.author {
        return;
    }
    let title = thread.title.as_deref().unwrap_or("your thread");
    let notice = Notice {
        recipient: thread.author,
        kind: "post-reply".into(),
        subject: format!("thread:{}", thread.id),
        scopes: vec![format!("community:{}", thread.community_id)],
        title: format!("{} replied to your thread “{title}”", who(reply.author_name.as_deref(), reply.author)),
        payload: json!({"communityId": thread.community_id, "threadId": thread.id, "postId": reply.id,
            "author": format!("{:#x}", reply.author)}),
        key: format!("post-reply:{}", reply.id),
        reach: Reach::Direct,
    };
    tell(s, &notice).await;
}

/// Tells `post`'s author what a moderator did to it (unless they did it themselves).
pub(crate) async fn moderated(s: &AppState, post: &PostRow, entry: &ModerationEntry) {
    if entry.actor == post.author {
        return;
    }
    let what = match entry.action {
        ModerationAction::Hide => "hid",
        ModerationAction::Unhide => "showed again",
        ModerationAction::Lock => "locked",
        ModerationAction::Unlock => "unlocked",
        ModerationAction::Pin => "pinned",
        ModerationAction::Unpin => "unpinned",
        ModerationAction::Resolve => return,
    };
    let kind = if post.thread_id == post.id { "thread" } else { "reply" };
    let notice = Notice {
        recipient: post.author,
        kind: "post-moderated".into(),
        subject: format!("thread:{}", post.thread_id),
        scopes: vec![format!("community:{}", post.community_id)],
        title: format!("A moderator {what} your {kind} #{}: {}", post.id, entry.reason),
        payload: json!({"communityId": post.community_id, "threadId": post.thread_id, "postId": post.id,
            "action": entry.action.as_str(), "reason": entry.reason}),
        key: format!("post-moderated:{}:{}", post.community_id, entry.seq),
        reach: Reach::Direct,
    };
    tell(s, &notice).await;
}

async fn tell(s: &AppState, notice: &Notice) {
    if let Err(e) = s.notifier.notify(notice).await {
        tracing::warn!(error = %e, key = %notice.key, "a post's notice was not recorded");
    }
}
