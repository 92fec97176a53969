//! The assistant's records on SQLite and PostgreSQL: a reply's row, its chunks recorded with the
//! channel's billed total in one transaction, idempotent starts, first ending wins, users and the
//! pause switch of background jobs.

use agora_store::testing::TestDb;
use agora_store::{NewChunk, NewReply, ReplyStatus};
use alloy::primitives::{Address, B256, U256};

const CHAIN: u64 = 31337;

fn reply(id: &str, channel: B256) -> NewReply {
    NewReply {
        request_id: id.into(),
        channel_id: channel,
        payer: Address::repeat_byte(0xab),
        model: "m".into(),
        request_hash: B256::repeat_byte(1),
        messages: r#"[{"role":"user","content":"hi"}]"#.into(),
        max_tokens: 64,
        prompt_per_1k: U256::from(1000),
        completion_per_1k: U256::from(3000),
        base: U256::from(7),
        prompt_tokens: 12,
        via: "ws",
    }
}

fn chunk(id: &str, channel: B256, seq: u32, tokens: u32, cost: u64) -> NewChunk {
    NewChunk {
        request_id: id.into(),
        channel_id: channel,
        seq,
        text: format!("part {seq} "),
        tokens,
        cost: U256::from(cost),
        cumulative: U256::from(7 + cost),
    }
}

#[tokio::test]
async fn replies_chunks_and_billing_round_trip_on_both_databases() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let ch = B256::repeat_byte(0x11);
        assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::ZERO, "{}", db.label);
        let (row, inserted) = s.begin_reply(CHAIN, &reply("r1", ch), 100).await?;
        assert!(inserted);
        assert_eq!(
            (row.status, row.base, row.prompt_tokens, row.cost),
            (ReplyStatus::Running, U256::from(7), 12, U256::ZERO)
        );
        // The same key again returns the stored row and inserts nothing.
        let mut again = reply("r1", ch);
        again.request_hash = B256::repeat_byte(2);
        let (same, inserted) = s.begin_reply(CHAIN, &again, 200).await?;
        assert!(!inserted);
        assert_eq!(same.request_hash, B256::repeat_byte(1));

        s.record_chunks(CHAIN, &[chunk("r1", ch, 1, 4, 24), chunk("r1", ch, 2, 3, 33)], 101).await?;
        assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::from(40));
        let row = s.assistant_reply(CHAIN, "r1").await?.expect("row");
        assert_eq!((row.completion_tokens, row.cost), (7, U256::from(33)));
        let after_one = s.reply_chunks(CHAIN, "r1", 1).await?;
        assert_eq!(after_one, vec![chunk("r1", ch, 2, 3, 33)]);
        // A chunk recorded twice is refused (its primary key), and nothing of its batch is kept.
        assert!(s.record_chunks(CHAIN, &[chunk("r1", ch, 3, 1, 36), chunk("r1", ch, 2, 1, 36)], 102).await.is_err());
        assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::from(40));
        assert_eq!(s.reply_chunks(CHAIN, "r1", 0).await?.len(), 2);

        s.finish_reply(CHAIN, "r1", ReplyStatus::Done, "stop", 103).await?;
        s.finish_reply(CHAIN, "r1", ReplyStatus::Stopped, "payment_timeout", 104).await?;
        let row = s.assistant_reply(CHAIN, "r1").await?.expect("row");
        assert_eq!((row.status, row.finish.as_deref()), (ReplyStatus::Done, Some("stop")));
        assert_eq!(s.channel_replies(CHAIN, ch, 10).await?.len(), 1);
        assert_eq!(s.accepted_voucher(CHAIN, ch).await?, U256::ZERO);

        let who = Address::repeat_byte(0xab);
        s.touch_assistant_user(who, 100).await?;
        assert!(!s.assistant_user_disabled(who).await?);
        s.set_assistant_user_disabled(who, true, 105).await?;
        assert!(s.assistant_user_disabled(who).await?);
        let users = s.assistant_users(CHAIN, 10).await?;
        assert_eq!(users.len(), 1);
        assert_eq!(
            (users[0].address, users[0].disabled, users[0].replies, users[0].completion_tokens),
            (who, true, 1, 7)
        );

        assert!(!s.background_job_paused("channel-auto-settle").await?);
        s.set_background_job_paused("channel-auto-settle", true, 1).await?;
        assert!(s.background_job_paused("channel-auto-settle").await?);
        s.set_background_job_paused("channel-auto-settle", false, 2).await?;
        assert!(!s.background_job_paused("channel-auto-settle").await?);
        db.finish().await?;
    }
    Ok(())
}
