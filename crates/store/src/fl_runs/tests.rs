//! The coordinator's records kept as written, on SQLite and PostgreSQL.

use alloy::primitives::{Address, B256, U256};

use super::{FlLogLevel, FlResultEntry, FlResultKind, FlResultRow, FlRoundParticipant, FlRoundRow};
use crate::testing::TestDb;

const CHAIN: u64 = 31337;

fn round(round: u64, accuracy: f64) -> FlRoundRow {
    FlRoundRow {
        task_id: 7,
        round,
        accuracy,
        loss: 0.1 + 0.2,
        participants: vec![
            FlRoundParticipant {
                account: Address::repeat_byte(0xa1),
                samples: 600,
                loss: Some(0.4321),
                contribution: Some(-0.0125),
                refused: None,
                update_cid: Some("bafk-update".into()),
            },
            FlRoundParticipant {
                account: Address::repeat_byte(0xb2),
                samples: 0,
                loss: Some(f64::NAN),
                contribution: None,
                refused: Some("update has NaN or Inf — «refused»".into()),
                update_cid: None,
            },
        ],
        aggregated_at: 1_700_000_000 + round,
        record_cid: Some(format!("bafk-record-{round}")),
        model_cid: (round != 1).then(|| format!("bafk-model-{round}")),
    }
}

#[tokio::test]
async fn rounds_logs_and_results_are_kept_as_written() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let (s, label) = (&db.store, db.label);
        // Rounds: floats exactly as written (0.1 + 0.2 is not 0.3), NaN kept, a rewrite replaces.
        s.fl_record_round(CHAIN, &round(2, 0.8571)).await?;
        s.fl_record_round(CHAIN, &round(1, 0.5)).await?;
        s.fl_record_round(CHAIN, &round(2, 0.8573)).await?;
        let rounds = s.fl_rounds(CHAIN, 7).await?;
        assert_eq!(
            rounds.iter().map(|r| (r.round, r.accuracy)).collect::<Vec<_>>(),
            [(1, 0.5), (2, 0.8573)],
            "{label}"
        );
        assert_eq!(rounds[0].loss, 0.1 + 0.2);
        // The checkpoint's CIDs, and their absence, as written.
        assert_eq!(
            rounds.iter().map(|r| (r.record_cid.as_deref(), r.model_cid.as_deref())).collect::<Vec<_>>(),
            [(Some("bafk-record-1"), None), (Some("bafk-record-2"), Some("bafk-model-2"))],
            "{label}"
        );
        assert_eq!(rounds[0].participants[0], round(1, 0.5).participants[0]);
        let refused = &rounds[0].participants[1];
        assert!(refused.loss.is_some_and(f64::is_nan) && refused.refused.as_deref().is_some_and(|r| r.contains("«")));
        assert!(s.fl_rounds(CHAIN, 8).await?.is_empty(), "per task");

        // Logs: numbered per task from 1, read after a number.
        for (i, level) in [FlLogLevel::Info, FlLogLevel::Warn, FlLogLevel::Error].into_iter().enumerate() {
            let seq = s.fl_append_log(CHAIN, 7, 1_700_000_000 + i as u64, level, &format!("line {i}")).await?;
            assert_eq!(seq, i as u64 + 1, "{label}");
        }
        assert_eq!(s.fl_append_log(CHAIN, 8, 1, FlLogLevel::Info, "another task").await?, 1);
        let after = s.fl_logs_after(CHAIN, 7, 1, 10).await?;
        assert_eq!(
            after.iter().map(|l| (l.seq, l.level)).collect::<Vec<_>>(),
            [(2, FlLogLevel::Warn), (3, FlLogLevel::Error)]
        );
        assert_eq!(after[0].message, "line 1");
        assert_eq!(s.fl_logs_after(CHAIN, 7, 0, 1).await?.len(), 1, "limited");
        assert!(s.fl_logs_after(CHAIN, 7, 3, 10).await?.is_empty());

        // Results: typed entries with proofs back as saved; the posted transaction noted later.
        assert_eq!(s.fl_result(CHAIN, 7).await?, None);
        assert!(!s.fl_result_posted(CHAIN, 7, B256::repeat_byte(9)).await?, "nothing saved yet");
        let mut result = FlResultRow {
            task_id: 7,
            record_cid: "bafyreirecord".into(),
            model_cid: Some("bafkreimodel".into()),
            kind: FlResultKind::Rewards,
            root: Some(B256::repeat_byte(0x5a)),
            entries: vec![
                FlResultEntry {
                    account: Address::repeat_byte(0xa1),
                    amount: U256::MAX,
                    proof: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
                },
                FlResultEntry { account: Address::repeat_byte(0xb2), amount: U256::ZERO, proof: vec![] },
            ],
            posted_tx: None,
            saved_at: 1_700_000_100,
        };
        s.fl_save_result(CHAIN, &result).await?;
        assert_eq!(s.fl_result(CHAIN, 7).await?.as_ref(), Some(&result), "{label}");
        assert!(s.fl_result_posted(CHAIN, 7, B256::repeat_byte(9)).await?);
        result.posted_tx = Some(B256::repeat_byte(9));
        assert_eq!(s.fl_result(CHAIN, 7).await?.as_ref(), Some(&result));
        let stored: String =
            sqlx::query_scalar("SELECT payload FROM fl_results WHERE task_id = 7").fetch_one(s.pool()).await?;
        assert!(stored.starts_with(r#"{"root":"0x5a5a"#) && stored.contains(r#""amount":"0""#), "{stored}");
        db.finish().await?;
    }
    Ok(())
}
