//! AI inference for the compute market: a small neural network (64 → 64 → 10, ReLU) trained with
//! candle on the handwritten-digits dataset that smartcore ships (1,797 8×8 images), classifying an
//! 8×8 grid of intensities (JSON) or a PNG image. [`DigitsExecutor`] runs it behind the
//! [`Executor`] interface under the app id [`DIGITS_APP`].

#![warn(missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use agora_executor::{AppId, Executor, JobId, JobSpec, JobStatus};
use async_trait::async_trait;
use bytes::Bytes;
use candle_core::{D, DType, Device, Tensor};
use candle_nn::{Linear, Module, Optimizer, VarBuilder, VarMap, linear, loss, ops};

/// The app id tasks name to be classified by the digits model.
pub const DIGITS_APP: &str = "model:digits";
const PIXELS: usize = 64;

/// What can go wrong training the model or classifying an input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed in candle (training, or a classification's forward pass).
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    /// The input is neither a readable PNG nor 64 pixels in 0..16 as JSON; the message says why
    /// and becomes the job's failure reason.
    #[error("bad input: {0}")]
    BadInput(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The trained classifier.
pub struct DigitModel {
    l1: Linear,
    l2: Linear,
    device: Device,
}

/// How training went, on a held-out fifth of the dataset.
#[derive(Debug, Clone, Copy)]
pub struct TrainReport {
    /// Full-batch optimisation steps taken.
    pub epochs: usize,
    /// Images trained on (four fifths of the dataset).
    pub train_samples: usize,
    /// Images held out for testing (every fifth).
    pub test_samples: usize,
    /// Fraction of training images classified correctly, 0 to 1.
    pub train_accuracy: f32,
    /// Fraction of held-out images classified correctly, 0 to 1.
    pub test_accuracy: f32,
}

/// Samples as flat row-major pixels (64 per sample, scaled to 0..1) and their labels.
pub type Samples = (Vec<f32>, Vec<u32>);

/// The digits dataset split into (training, held out): every fifth sample is held out.
pub fn dataset() -> (Samples, Samples) {
    let d = smartcore::dataset::digits::load_dataset();
    let (mut train, mut test) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for i in 0..d.num_samples {
        let row = d.data[i * d.num_features..(i + 1) * d.num_features].iter().map(|p| p / 16.0);
        let label = d.target[i] as u32;
        let part = if i % 5 == 4 { &mut test } else { &mut train };
        part.0.extend(row);
        part.1.push(label);
    }
    (train, test)
}

impl DigitModel {
    /// Trains the network (full-batch AdamW) and reports its accuracy.
    pub fn train(epochs: usize) -> Result<(Self, TrainReport)> {
        let device = Device::Cpu;
        let ((train_x, train_y), (test_x, test_y)) = dataset();
        let n_train = train_y.len();
        let x = Tensor::from_vec(train_x, (n_train, PIXELS), &device)?;
        let y = Tensor::from_vec(train_y, n_train, &device)?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let l1 = linear(PIXELS, 64, vb.pp("l1"))?;
        let l2 = linear(64, 10, vb.pp("l2"))?;
        let model = Self { l1, l2, device };
        let mut opt = candle_nn::AdamW::new(
            varmap.all_vars(),
            candle_nn::ParamsAdamW { lr: 0.01, weight_decay: 1e-4, ..Default::default() },
        )?;
        for _ in 0..epochs {
            let logits = model.logits(&x)?;
            let loss = loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&loss)?;
        }
        let train_accuracy = model.accuracy(&x, &y)?;
        let n_test = test_y.len();
        let tx = Tensor::from_vec(test_x, (n_test, PIXELS), &model.device)?;
        let ty = Tensor::from_vec(test_y, n_test, &model.device)?;
        let test_accuracy = model.accuracy(&tx, &ty)?;
        Ok((model, TrainReport { epochs, train_samples: n_train, test_samples: n_test, train_accuracy, test_accuracy }))
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.l2.forward(&self.l1.forward(x)?.relu()?)?)
    }

    fn accuracy(&self, x: &Tensor, y: &Tensor) -> Result<f32> {
        let predicted = self.logits(x)?.argmax(D::Minus1)?;
        let correct = predicted.eq(y)?.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
        Ok(correct / y.dims1()? as f32)
    }

    /// The digit in 64 intensities (row-major 8×8, 0 = background, 1 = ink) and the probability of
    /// each digit.
    pub fn classify(&self, pixels: &[f32; PIXELS]) -> Result<(u32, [f32; 10])> {
        let x = Tensor::from_slice(pixels, (1, PIXELS), &self.device)?;
        let probs = ops::softmax(&self.logits(&x)?, D::Minus1)?.squeeze(0)?.to_vec1::<f32>()?;
        let mut out = [0f32; 10];
        out.copy_from_slice(&probs[..10]);
        let digit = (0..10).max_by(|&a, &b| out[a].total_cmp(&out[b])).unwrap_or(0) as u32;
        Ok((digit, out))
    }
}

/// Reads a task's input: a PNG image, or JSON — `{"pixels": [64 numbers 0..16]}`, a bare array of
/// 64 numbers, or 8 rows of 8 — in the dataset's 0..16 scale.
pub fn parse_input(input: &[u8]) -> Result<[f32; PIXELS]> {
    if input.starts_with(b"\x89PNG\r\n\x1a\n") {
        return png_to_pixels(input);
    }
    let value: serde_json::Value =
        serde_json::from_slice(input).map_err(|e| Error::BadInput(format!("neither a PNG nor JSON ({e})")))?;
    let list = value.get("pixels").unwrap_or(&value);
    let flat: Vec<f64> = match list {
        serde_json::Value::Array(items) if items.iter().all(|v| v.is_array()) => items
            .iter()
            .flat_map(|row| row.as_array().into_iter().flatten())
            .map(|v| v.as_f64().ok_or_else(|| Error::BadInput("pixels must be numbers".into())))
            .collect::<Result<_>>()?,
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| v.as_f64().ok_or_else(|| Error::BadInput("pixels must be numbers".into())))
            .collect::<Result<_>>()?,
        _ => return Err(Error::BadInput("expected {\"pixels\": [64 numbers]}".into())),
    };
    if flat.len() != PIXELS {
        return Err(Error::BadInput(format!("expected 64 pixels (8×8), got {}", flat.len())));
    }
    let mut out = [0f32; PIXELS];
    for (o, v) in out.iter_mut().zip(flat) {
        if !(0.0..=16.0).contains(&v) {
            return Err(Error::BadInput(format!("pixel {v} is outside 0..16")));
        }
        *o = v as f32 / 16.0;
    }
    Ok(out)
}

/// Decodes a PNG, turns it to grey, makes the ink bright (the dataset's convention) and averages
/// it down to 8×8.
fn png_to_pixels(bytes: &[u8]) -> Result<[f32; PIXELS]> {
    let bad = |e: png::DecodingError| Error::BadInput(format!("PNG: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(bad)?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    if w < 8 || h < 8 || w * h > 4096 * 4096 {
        return Err(Error::BadInput(format!("image {w}×{h}: need at least 8×8 and at most 4096×4096")));
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let channels = frame.color_type.samples();
    let grey: Vec<f32> = buf[..frame.buffer_size()]
        .chunks(channels)
        .map(|px| {
            let (r, g, b) = match channels {
                1 | 2 => (px[0], px[0], px[0]),
                _ => (px[0], px[1], px[2]),
            };
            let alpha = if channels == 2 || channels == 4 { f32::from(px[channels - 1]) / 255.0 } else { 1.0 };
            // Transparent pixels count as background (white).
            let lum = (0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)) / 255.0;
            lum * alpha + (1.0 - alpha)
        })
        .collect();
    let mean = grey.iter().sum::<f32>() / grey.len() as f32;
    let ink: Vec<f32> = if mean > 0.5 { grey.iter().map(|g| 1.0 - g).collect() } else { grey };
    let mut out = [0f32; PIXELS];
    for (cell, o) in out.iter_mut().enumerate() {
        let (cy, cx) = (cell / 8, cell % 8);
        let (y0, y1) = (cy * h / 8, ((cy + 1) * h / 8).max(cy * h / 8 + 1));
        let (x0, x1) = (cx * w / 8, ((cx + 1) * w / 8).max(cx * w / 8 + 1));
        let mut sum = 0.0;
        for y in y0..y1 {
            sum += ink[y * w + x0..y * w + x1].iter().sum::<f32>();
        }
        *o = sum / ((y1 - y0) * (x1 - x0)) as f32;
    }
    Ok(out)
}

/// Runs classifications as jobs.
#[derive(Clone)]
pub struct DigitsExecutor {
    model: Arc<DigitModel>,
    jobs: Arc<Mutex<HashMap<JobId, JobStatus>>>,
    next: Arc<AtomicU64>,
}

impl DigitsExecutor {
    /// An executor classifying with `model`. Each job is classified before `submit` returns; its
    /// status stays in memory until [`forget`](Executor::forget).
    pub fn new(model: DigitModel) -> Self {
        Self { model: Arc::new(model), jobs: Arc::default(), next: Arc::default() }
    }

    pub(crate) fn serves(app: &AppId) -> bool {
        app.as_str() == DIGITS_APP
    }

    /// Classifies one input into the job's output: `{"digit":3,"probabilities":[…]}`.
    pub fn run(&self, input: &[u8]) -> JobStatus {
        let outcome = parse_input(input).and_then(|px| self.model.classify(&px));
        match outcome {
            Ok((digit, probs)) => {
                let probs: Vec<f64> = probs.iter().map(|p| (f64::from(*p) * 1e4).round() / 1e4).collect();
                let json =
                    serde_json::json!({ "digit": digit, "probabilities": probs, "model": "mlp 64-64-10, digits" });
                JobStatus::Succeeded { output: Bytes::from(format!("{json}\n")) }
            }
            Err(e) => JobStatus::Failed { reason: e.to_string() },
        }
    }
}

#[async_trait]
impl Executor for DigitsExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, spec: JobSpec) -> agora_executor::Result<JobId> {
        if !Self::serves(&spec.app) {
            return Err(agora_executor::Error::UnknownApp(spec.app));
        }
        let id = JobId::new(format!("infer-{}-{}", std::process::id(), self.next.fetch_add(1, Ordering::Relaxed)));
        let me = self.clone();
        let status = tokio::task::spawn_blocking(move || me.run(&spec.input))
            .await
            .unwrap_or_else(|e| JobStatus::Failed { reason: format!("executor error: {e}") });
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(id.clone(), status);
        }
        Ok(id)
    }

    async fn status(&self, id: &JobId) -> agora_executor::Result<JobStatus> {
        let jobs = self.jobs.lock().map_err(|_| agora_executor::Error::Engine("job table poisoned".into()))?;
        jobs.get(id).cloned().ok_or_else(|| agora_executor::Error::UnknownJob(id.clone()))
    }

    async fn cancel(&self, _id: &JobId) -> agora_executor::Result<()> {
        Ok(()) // a classification is over before it could be cancelled
    }

    async fn forget(&self, id: &JobId) -> agora_executor::Result<()> {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.remove(id);
        }
        Ok(())
    }
}
