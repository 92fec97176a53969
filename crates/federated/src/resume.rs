//! Picking a task up where its coordinator stopped (a node restarted mid-training).
//!
//! After each round the coordinator journals a [`Checkpoint`]: the round's entry of the
//! contribution record and the global model after it, both in the content store. A coordinator
//! started again for a task still training reads them back ([`load`]) and continues with the round
//! after the last one it finds whole; the rounds that follow are computed exactly as if it had
//! never stopped (agora-fl's [`Federation::resume`](agora_fl::Federation::resume)), so the
//! contribution record, and so the payouts, are the same. A journaled round whose record or model
//! is gone from the content store ends the run of usable rounds there: the rounds after it are
//! trained again.

use agora_content::{Cid, ContentStore};
use agora_fl::record::RoundRecord;

use crate::report::Checkpoint;
use crate::{Error, Result};

/// The rounds to resume after: their records, and the global model after the last.
#[derive(Debug)]
pub(crate) struct Resumed {
    pub(crate) rounds: Vec<RoundRecord>,
    pub(crate) global: Vec<f32>,
}

/// What [`load`] found: where to resume (nothing: from the start), and why it stopped short of a
/// journaled round, if it did.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) resumed: Option<Resumed>,
    pub(crate) note: Option<String>,
}

async fn fetch<S: ContentStore>(store: &S, cid: &str) -> Result<Vec<u8>> {
    let parsed: Cid = cid.parse().map_err(|_| Error::Protocol(format!("{cid:?} is not a CID")))?;
    Ok(store.get(&parsed).await?.ok_or_else(|| Error::Protocol(format!("{cid} is not in the content store")))?.to_vec())
}

async fn round_record<S: ContentStore>(store: &S, checkpoint: &Checkpoint) -> Result<RoundRecord> {
    let record: RoundRecord = serde_json::from_slice(&fetch(store, &checkpoint.record_cid).await?)?;
    if record.round != checkpoint.round {
        return Err(Error::Protocol(format!("its record {} is round {}'s", checkpoint.record_cid, record.round)));
    }
    Ok(record)
}

/// The longest run of rounds 1, 2, … among `checkpoints` (at most `last` of them) whose records
/// and final model the content store holds.
pub(crate) async fn load<S: ContentStore>(store: &S, mut checkpoints: Vec<Checkpoint>, last: u32) -> Loaded {
    checkpoints.retain(|c| c.round >= 1 && c.round <= last);
    checkpoints.sort_by_key(|c| c.round);
    checkpoints.dedup_by_key(|c| c.round);
    let mut rounds = Vec::new();
    let mut note = None;
    for (expected, checkpoint) in (1u32..).zip(&checkpoints) {
        if checkpoint.round != expected {
            note = Some(format!("round {expected} was not journaled"));
            break;
        }
        match round_record(store, checkpoint).await {
            Ok(record) => rounds.push((record, checkpoint)),
            Err(e) => {
                note = Some(format!("round {expected}'s record cannot be read: {e}"));
                break;
            }
        }
    }
    // The model after the last usable round; when it is gone, the round before it, and so on.
    while let Some((_, checkpoint)) = rounds.last() {
        let model = fetch(store, &checkpoint.model_cid)
            .await
            .and_then(|bytes| agora_fl::params_from_bytes(&bytes).map_err(Error::from));
        match model {
            Ok(global) => {
                let rounds = rounds.into_iter().map(|(record, _)| record).collect();
                return Loaded { resumed: Some(Resumed { rounds, global }), note };
            }
            Err(e) => {
                note = Some(format!("the model after round {} cannot be read: {e}", checkpoint.round));
                rounds.pop();
            }
        }
    }
    Loaded { resumed: None, note }
}

#[cfg(test)]
mod tests {
    use agora_content::LocalStore;
    use agora_fl::record::Method;
    use agora_fl::shapley::RoundValues;

    use super::*;

    async fn put_round<S: ContentStore>(store: &S, round: u32, model: &[f32]) -> Checkpoint {
        let values = RoundValues { values: Vec::new(), utilities: Default::default(), permutations: 0 };
        let record = RoundRecord::new(round, Vec::new(), Vec::new(), Method::Exact, &values);
        let record_cid = store.put(serde_json::to_vec(&record).unwrap()).await.unwrap().to_string();
        let model_cid = store.put(agora_fl::params_to_bytes(model)).await.unwrap().to_string();
        Checkpoint { round, record_cid, model_cid }
    }

    #[tokio::test]
    async fn resumes_after_the_last_whole_round_of_an_unbroken_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).await.unwrap();
        let one = put_round(&store, 1, &[1.0]).await;
        let two = put_round(&store, 2, &[2.0]).await;
        let three = put_round(&store, 3, &[3.0]).await;
        let four = put_round(&store, 4, &[4.0]).await;

        // In any order, twice over: rounds 1 to 3 (the last the spec has).
        let loaded = load(&store, vec![three.clone(), one.clone(), two.clone(), one.clone(), four.clone()], 3).await;
        let resumed = loaded.resumed.unwrap();
        assert_eq!(resumed.rounds.iter().map(|r| r.round).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(resumed.global, [3.0]);
        assert!(loaded.note.is_none());

        // A gap ends the run.
        let loaded = load(&store, vec![one.clone(), three.clone()], 4).await;
        assert_eq!(loaded.resumed.unwrap().global, [1.0]);
        assert_eq!(loaded.note.as_deref(), Some("round 2 was not journaled"));

        // A model gone from the store: back to the round before.
        let lost = Checkpoint { model_cid: agora_content::cid_of(b"never stored").to_string(), ..two.clone() };
        let loaded = load(&store, vec![one.clone(), lost], 4).await;
        assert_eq!(loaded.resumed.unwrap().rounds.len(), 1);
        assert!(loaded.note.unwrap().starts_with("the model after round 2 cannot be read"));

        // A record that is another round's: nothing usable from there on.
        let mislabelled = Checkpoint { round: 2, ..three };
        let loaded = load(&store, vec![one, mislabelled], 4).await;
        assert_eq!(loaded.resumed.unwrap().rounds.len(), 1);
        assert!(loaded.note.unwrap().contains("is round 3's"));

        // Nothing journaled: from the start.
        let loaded = load(&store, Vec::new(), 4).await;
        assert!(loaded.resumed.is_none() && loaded.note.is_none());
        let loaded = load(&store, vec![two], 4).await;
        assert!(loaded.resumed.is_none());
        assert_eq!(loaded.note.as_deref(), Some("round 1 was not journaled"));
    }
}
