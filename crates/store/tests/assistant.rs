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

/// A busy node's group commit: 300 streams' chunks (two of some replies in one batch) and 200
/// channels' vouchers (two of some channels) in one transaction, written as several multi-row
/// statements; then a batch with a chunk recorded twice keeps nothing, vouchers included.
#[tokio::test]
async fn a_group_commit_of_many_streams_keeps_every_total_on_both_databases() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let s = &db.store;
        let channels: Vec<B256> = (0..300u32).map(|i| B256::left_padding_from(&i.to_be_bytes())).collect();
        for (i, ch) in channels.iter().enumerate() {
            s.begin_reply(CHAIN, &reply(&format!("r{i}"), *ch), 100).await?;
        }
        // Replies 0..100 get chunks 1 and 2 in the batch, the others chunk 1 only.
        let mut chunks: Vec<NewChunk> =
            channels.iter().enumerate().map(|(i, ch)| chunk(&format!("r{i}"), *ch, 1, 2, 10 + i as u64)).collect();
        chunks.extend(
            channels.iter().take(100).enumerate().map(|(i, ch)| chunk(&format!("r{i}"), *ch, 2, 3, 1000 + i as u64)),
        );
        let voucher = |ch: B256, amount: u64| agora_store::NewVoucher {
            channel_id: ch,
            cumulative_amount: U256::from(amount),
            signature: [7; 65],
            count: 1,
        };
        let mut vouchers: Vec<_> =
            channels.iter().take(200).enumerate().map(|(i, ch)| voucher(*ch, 5 + i as u64)).collect();
        vouchers.extend(channels.iter().take(50).enumerate().map(|(i, ch)| voucher(*ch, 500 + i as u64)));
        s.store_payments(CHAIN, &vouchers, &chunks, 101).await?;

        for (i, ch) in channels.iter().enumerate() {
            let row = s.assistant_reply(CHAIN, &format!("r{i}")).await?.expect("row");
            let (tokens, cost) = if i < 100 { (5, 1000 + i as u64) } else { (2, 10 + i as u64) };
            assert_eq!((row.completion_tokens, row.cost), (tokens, U256::from(cost)), "{} reply {i}", db.label);
            assert_eq!(s.assistant_billed(CHAIN, *ch).await?, U256::from(7 + cost), "{} billed {i}", db.label);
            let accepted = match i {
                0..50 => 500 + i as u64,
                50..200 => 5 + i as u64,
                _ => 0,
            };
            assert_eq!(s.accepted_voucher(CHAIN, *ch).await?, U256::from(accepted), "{} voucher {i}", db.label);
            assert_eq!(s.reply_chunks(CHAIN, &format!("r{i}"), 0).await?.len(), if i < 100 { 2 } else { 1 });
        }

        // Chunk 2 of r150 is new, chunk 1 of r299 was recorded: the whole batch is refused.
        let again = [chunk("r150", channels[150], 2, 1, 9999), chunk("r299", channels[299], 1, 1, 9999)];
        assert!(s.store_payments(CHAIN, &[voucher(channels[250], 77)], &again, 102).await.is_err());
        assert_eq!(s.reply_chunks(CHAIN, "r150", 0).await?.len(), 1, "{}", db.label);
        assert_eq!(s.assistant_billed(CHAIN, channels[150]).await?, U256::from(7 + 160));
        assert_eq!(s.accepted_voucher(CHAIN, channels[250]).await?, U256::ZERO, "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}
