//! Coordinator and participants over loopback WebSockets, an in-memory task book.

use agora_content::{Cid, ContentStore};
use agora_federated::merkle;
use agora_federated::{Behaviour, Corruption, Error, TaskMode, client};
use agora_fl::{ContributionRecord, Refusal};
use alloy::primitives::U256;

use super::common::{setup, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_trains_and_pays_the_pool_exactly_with_the_noisy_participant_valued_least() {
    let pool = 1_000_000_000_000_000_007u128;
    let s = setup(4, spec(11, 120), TaskMode::RewardPool, pool).await;
    let run = {
        let c = s.coordinator.clone();
        tokio::spawn(async move { c.run().await })
    };
    let mut clients = Vec::new();
    for (i, key) in s.keys.iter().enumerate() {
        let mut options = s.client();
        options.behaviour = Behaviour { shuffle_labels: i == 3, ..Behaviour::default() };
        let key = key.clone();
        clients.push(tokio::spawn(async move { client::run(&key, &options).await }));
    }
    let result = run.await.unwrap().unwrap();
    let mut reports = Vec::new();
    for c in clients {
        reports.push(c.await.unwrap().unwrap());
    }
    for r in &reports {
        assert_eq!(r.trained, vec![1, 2, 3]);
        assert_eq!(r.record.as_deref(), Some(result.record_cid.as_str()));
        assert_eq!(r.blocks.len(), 6);
    }
    assert!(result.accuracy > 0.5, "final test accuracy {}", result.accuracy);
    // The record is in the store under the CID posted on chain, and verifies.
    let (root, posted_cid) = s.actions.posted.lock().unwrap().rewards.clone().unwrap();
    assert_eq!(posted_cid, result.record_cid);
    let bytes = s.store.get(&posted_cid.parse::<Cid>().unwrap()).await.unwrap().unwrap();
    let record = ContributionRecord::from_json(&bytes).unwrap();
    let cumulative = agora_fl::verify(&record).unwrap();
    assert_eq!(record.rounds.len(), 3);
    let noisy = s.keys[3].address().to_string();
    let least = cumulative.iter().min_by(|a, b| a.value.total_cmp(&b.value)).unwrap();
    assert_eq!(least.id, noisy, "values: {cumulative:?}");
    // Payouts: exactly the pool, and every proof verifies against the posted root.
    assert_eq!(result.root, Some(root));
    let total: U256 = result.payouts.iter().map(|p| p.amount).sum();
    assert_eq!(total, U256::from(pool));
    for p in &result.payouts {
        assert!(merkle::verify(root, p.account, p.amount, &p.proof));
        assert!(!merkle::verify(root, p.account, p.amount + U256::from(1), &p.proof));
    }
    let honest = s.keys[0].address();
    let noisy_paid = result.payouts.iter().find(|p| p.account == s.keys[3].address()).map_or(U256::ZERO, |p| p.amount);
    let honest_paid = result.payouts.iter().find(|p| p.account == honest).unwrap().amount;
    assert!(noisy_paid < honest_paid);
    // The journal saw every round, each stored under its CID.
    let recorded = s.journal.recorded();
    assert_eq!(recorded.rounds.iter().map(|r| r.round).collect::<Vec<_>>(), vec![1, 2, 3]);
    for (r, entry) in recorded.rounds.iter().zip(&record.rounds) {
        assert_eq!(r.accepted.len(), 4);
        assert!(s.store.get(&r.record_cid.parse::<Cid>().unwrap()).await.unwrap().is_some());
        // Every update is kept, under bytes that hash to the record's name for it.
        assert_eq!(r.updates.len(), 4);
        for ((account, cid), named) in r.updates.iter().zip(&entry.participants) {
            assert_eq!(account.to_string(), named.id);
            let bytes = s.store.get(&cid.parse::<Cid>().unwrap()).await.unwrap().unwrap();
            assert_eq!(agora_fl::Update::from_bytes(&bytes).unwrap().hash(), named.update_hash);
        }
    }
    assert_eq!(recorded.result.unwrap(), result);
    // The centralised reference: the same model on every block's samples, as many epochs as the
    // rounds × local epochs, evaluated on the same test set — recorded complete by the time `run`
    // returns, and at least as good as the federated model give or take a few points.
    let reference = recorded.reference.expect("the reference was journaled");
    let pooled = s.spec.splits(&agora_federated::spec::DataDirs::default()).unwrap().train.len();
    assert_eq!((reference.epochs, reference.epochs_per_round), (3, 1));
    assert_eq!(reference.samples, pooled as u64);
    assert!(reference.complete() && reference.accuracy.len() == 3 && reference.loss.len() == 3);
    let central = reference.last_accuracy().unwrap();
    assert!(central > 0.85 && central > result.accuracy - 0.05, "reference {central}, federated {}", result.accuracy);
    assert!(reference.loss[2] < reference.loss[0], "the reference learns: losses {:?}", reference.loss);
    assert!(recorded.logs.iter().any(|l| l.starts_with("centralised reference: 3 epochs")), "{:?}", recorded.logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_updates_are_refused_and_late_or_gone_participants_do_not_stall_the_task() {
    let spec = agora_federated::TaskSpec { blocks_per_member: 4, ..spec(5, 8) };
    let s = setup(7, spec, TaskMode::Shareholding, 0).await;
    let mut progress = s.coordinator.subscribe();
    let run = {
        let c = s.coordinator.clone();
        tokio::spawn(async move { c.run().await })
    };
    let behaviours = [
        Behaviour::default(),
        Behaviour::default(),
        Behaviour { corrupt: Some(Corruption::NaN), ..Behaviour::default() },
        Behaviour { corrupt: Some(Corruption::WrongLength), ..Behaviour::default() },
        Behaviour { stall_at: Some(2), ..Behaviour::default() },
        Behaviour { leave_after: Some(1), ..Behaviour::default() },
        Behaviour { vanish_at: Some(2), ..Behaviour::default() },
    ];
    let mut clients = Vec::new();
    for (key, behaviour) in s.keys.iter().zip(behaviours) {
        let mut options = s.client();
        options.behaviour = behaviour;
        let key = key.clone();
        clients.push(tokio::spawn(async move { client::run(&key, &options).await }));
    }
    let result = run.await.unwrap().unwrap();
    let reports: Vec<_> = futures_join(clients).await;
    let params = agora_fl::Mlp { input: 64, hidden: [200, 200], classes: 10 }.param_count();
    assert_eq!(reports[2].refused, (1..=3).map(|r| (r, Refusal::NonFinite { index: 0 })).collect::<Vec<_>>());
    assert_eq!(
        reports[3].refused,
        (1..=3).map(|r| (r, Refusal::WrongShape { expected: params, got: params - 1 })).collect::<Vec<_>>()
    );
    assert_eq!(reports[4].trained, vec![1]);
    assert_eq!(reports[5].trained, vec![1]);
    assert_eq!(reports[6].trained, vec![1]);
    let rounds = s.journal.recorded().rounds;
    assert_eq!(rounds.len(), 3);
    let (stalled, gone, killed) = (s.keys[4].address(), s.keys[5].address(), s.keys[6].address());
    assert_eq!(rounds[0].accepted.len(), 5);
    assert_eq!(rounds[0].refused.len(), 2);
    // Round 2: the hung participant was waited for until the timeout, then left out; the one
    // killed mid-round and the one that left were not waited for.
    assert_eq!(rounds[1].left_out, vec![stalled]);
    assert_eq!(rounds[1].accepted, vec![s.keys[0].address(), s.keys[1].address()]);
    assert!(![stalled, gone, killed].iter().any(|a| rounds[2].accepted.contains(a)));
    assert_eq!(rounds[2].accepted.len(), 2);
    // Shares: only contributors hold them, summing to exactly 10^18.
    let (holders, shares, cid) = s.actions.posted.lock().unwrap().shares.clone().unwrap();
    assert_eq!(cid, result.record_cid);
    assert_eq!(shares.iter().copied().sum::<U256>(), U256::from(10u128.pow(18)));
    assert!(!holders.contains(&s.keys[2].address()) && !holders.contains(&s.keys[3].address()));
    // The live feed carried the rounds, the result and every epoch of the centralised reference.
    let (mut seen_rounds, mut epochs) = (0, Vec::new());
    while let Ok(event) = progress.try_recv() {
        match event {
            agora_federated::Progress::Round(_) => seen_rounds += 1,
            agora_federated::Progress::Finished(r) => assert_eq!(r, result),
            agora_federated::Progress::Reference(r) => epochs.push(r.accuracy.len()),
            _ => {}
        }
    }
    assert_eq!(seen_rounds, 3);
    assert_eq!(epochs, [1, 2, 3]);
}

async fn futures_join(
    handles: Vec<tokio::task::JoinHandle<agora_federated::Result<agora_federated::ClientReport>>>,
) -> Vec<agora_federated::ClientReport> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_member_is_refused_at_sign_in_and_a_wrong_spec_is_refused_by_the_client() {
    let s = setup(2, spec(3, 30), TaskMode::RewardPool, 100).await;
    let stranger = super::common::key(7);
    match client::run(&stranger, &s.client()).await {
        Err(Error::Denied(reason)) => assert!(reason.contains("is not a member of task 1"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut wrong = s.client();
    let other_spec = spec(4, 30).cid().unwrap().to_string();
    wrong.spec_cid = other_spec.clone();
    match client::run(&s.keys[0], &wrong).await {
        Err(Error::SpecMismatch { expected, got }) => {
            assert_eq!(expected, other_spec);
            assert_eq!(got, s.spec.cid().unwrap().to_string());
        }
        other => panic!("expected a spec mismatch, got {other:?}"),
    }
    // A member with the right spec gets its blocks (and then waits for a round that never comes
    // here: the task has not started).
    let mut right = s.client();
    right.idle_timeout = std::time::Duration::from_millis(500);
    match client::run(&s.keys[1], &right).await {
        Err(Error::Timeout(what)) => assert!(what.contains("next round"), "{what}"),
        other => panic!("expected to wait for a round, got {other:?}"),
    }
}
