//! The model: McMahan et al.'s multilayer perceptron (784-200-200-10 for 28×28 images, ReLU), in
//! candle, exchanged as one flat parameter vector.
//!
//! The flat layout is, layer by layer, the weight matrix (`out × in`, row-major, as candle's and
//! PyTorch's `Linear` store it) then the bias (`out`). Parameters are initialised here from a
//! seeded generator, with the distributions candle's `linear` uses (Kaiming normal weights, uniform
//! biases), not by candle, whose initialiser does not follow a seed. Local training is plain SGD on cross-entropy, shuffled mini-batches.

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Optimizer, SGD, loss, ops};

use crate::Result;
use crate::data::Dataset;
use crate::rng::Rng;

/// The network's shape: `input → hidden[0] → hidden[1] → classes`, ReLU between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mlp {
    /// Values per sample.
    pub input: usize,
    /// The two hidden layers' widths.
    pub hidden: [usize; 2],
    /// Output classes.
    pub classes: usize,
}

/// Local training settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Passes over the local data per round.
    pub epochs: usize,
    /// SGD learning rate.
    pub lr: f64,
    /// Mini-batch size (the last batch of an epoch may be smaller).
    pub batch: usize,
}

impl Default for TrainConfig {
    /// McMahan et al.'s setting as measured here: one epoch, SGD lr 0.05, batch 32.
    fn default() -> Self {
        Self { epochs: 1, lr: 0.05, batch: 32 }
    }
}

/// What local training produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The trained parameters (flat).
    pub params: Vec<f32>,
    /// Mean cross-entropy over the last epoch's batches.
    pub loss: f32,
    /// Samples trained on (per epoch).
    pub samples: usize,
}

/// A model's quality on a data set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Fraction classified correctly (`correct / samples`).
    pub accuracy: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Samples classified correctly.
    pub correct: usize,
    /// Samples evaluated.
    pub samples: usize,
}

impl Mlp {
    /// 784-200-200-10, for 28×28 images in ten classes.
    pub const MNIST: Mlp = Mlp { input: 784, hidden: [200, 200], classes: 10 };

    /// The same hidden layers for another input size and class count (64 and 10 for the digits).
    pub fn for_data(data: &Dataset) -> Mlp {
        Mlp { input: data.features, hidden: [200, 200], classes: data.classes }
    }

    /// `(in, out)` per layer.
    pub fn layers(&self) -> [(usize, usize); 3] {
        [(self.input, self.hidden[0]), (self.hidden[0], self.hidden[1]), (self.hidden[1], self.classes)]
    }

    /// Length of the flat parameter vector.
    pub fn param_count(&self) -> usize {
        self.layers().iter().map(|(i, o)| i * o + o).sum()
    }

    /// Fresh parameters from `seed`, drawn as candle's `linear` draws them: weights normal with
    /// standard deviation √2/√fan_in (Kaiming, ReLU gain), biases uniform in ±1/√fan_in.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut rng = Rng::stream(seed, &[0x1417]);
        let mut out = Vec::with_capacity(self.param_count());
        for (fan_in, fan_out) in self.layers() {
            let std = (2.0 / fan_in as f64).sqrt();
            out.extend((0..fan_in * fan_out).map(|_| (rng.normal() * std) as f32));
            let bound = 1.0 / (fan_in as f64).sqrt();
            out.extend((0..fan_out).map(|_| ((rng.f64() * 2.0 - 1.0) * bound) as f32));
        }
        out
    }

    fn check_params(&self, params: &[f32]) -> Result<()> {
        if params.len() != self.param_count() {
            return Err(crate::Error::Shape { expected: self.param_count(), got: params.len() });
        }
        Ok(())
    }

    fn check_data(&self, data: &Dataset) -> Result<()> {
        if data.features != self.input || data.classes > self.classes {
            return Err(crate::Error::Data(format!(
                "data has {} features and {} classes; the model takes {} and {}",
                data.features, data.classes, self.input, self.classes
            )));
        }
        Ok(())
    }

    /// `(weight, bias)` tensors per layer from a flat vector.
    fn tensors(&self, params: &[f32], device: &Device) -> Result<Vec<(Tensor, Tensor)>> {
        self.check_params(params)?;
        let mut at = 0;
        let mut out = Vec::with_capacity(3);
        for (fan_in, fan_out) in self.layers() {
            let w = Tensor::from_slice(&params[at..at + fan_in * fan_out], (fan_out, fan_in), device)?;
            at += fan_in * fan_out;
            let b = Tensor::from_slice(&params[at..at + fan_out], fan_out, device)?;
            at += fan_out;
            out.push((w, b));
        }
        Ok(out)
    }

    fn forward(layers: &[(Tensor, Tensor)], x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (i, (w, b)) in layers.iter().enumerate() {
            h = h.matmul(&w.t()?)?.broadcast_add(b)?;
            if i + 1 < layers.len() {
                h = h.relu()?;
            }
        }
        Ok(h)
    }

    /// Trains from `params` on `data` (seeded batch order) and returns the new parameters.
    pub fn train(&self, params: &[f32], data: &Dataset, config: &TrainConfig, seed: u64) -> Result<TrainOutcome> {
        self.check_data(data)?;
        if data.is_empty() || config.batch == 0 {
            return Err(crate::Error::Data("nothing to train on (no samples, or batch 0)".into()));
        }
        let device = Device::Cpu;
        let mut vars = Vec::with_capacity(6);
        for (w, b) in self.tensors(params, &device)? {
            vars.push(Var::from_tensor(&w)?);
            vars.push(Var::from_tensor(&b)?);
        }
        let mut opt = SGD::new(vars.clone(), config.lr)?;
        let mut rng = Rng::stream(seed, &[0x7a1a]);
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut loss_sum = 0.0f64;
        for _ in 0..config.epochs {
            rng.shuffle(&mut order);
            loss_sum = 0.0;
            for chunk in order.chunks(config.batch) {
                let mut xb = Vec::with_capacity(chunk.len() * data.features);
                let mut yb = Vec::with_capacity(chunk.len());
                for &i in chunk {
                    xb.extend_from_slice(data.row(i));
                    yb.push(data.y[i]);
                }
                let x = Tensor::from_vec(xb, (chunk.len(), data.features), &device)?;
                let y = Tensor::from_vec(yb, chunk.len(), &device)?;
                let layers: Vec<(Tensor, Tensor)> =
                    vars.chunks(2).map(|p| (p[0].as_tensor().clone(), p[1].as_tensor().clone())).collect();
                let batch_loss = loss::cross_entropy(&Self::forward(&layers, &x)?, &y)?;
                opt.backward_step(&batch_loss)?;
                loss_sum += f64::from(batch_loss.to_scalar::<f32>()?) * chunk.len() as f64;
            }
        }
        let mut out = Vec::with_capacity(self.param_count());
        for v in &vars {
            out.extend(v.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(TrainOutcome { params: out, loss: (loss_sum / data.len() as f64) as f32, samples: data.len() })
    }

    /// Class probabilities for each sample of `x` (`samples × input`, row-major).
    pub fn predict(&self, params: &[f32], x: &[f32]) -> Result<Vec<Vec<f32>>> {
        let device = Device::Cpu;
        let n = x.len() / self.input.max(1);
        let xt = Tensor::from_slice(x, (n, self.input), &device)?;
        let probs = ops::softmax(&Self::forward(&self.tensors(params, &device)?, &xt)?, D::Minus1)?;
        Ok(probs.to_vec2::<f32>()?)
    }
}

/// A data set held as tensors, to evaluate many models on it (the Shapley utility evaluates
/// thousands).
#[derive(Debug, Clone)]
pub struct Evaluator {
    mlp: Mlp,
    x: Tensor,
    y: Tensor,
    samples: usize,
}

impl Evaluator {
    /// Holds `data` for models of shape `mlp`.
    pub fn new(mlp: Mlp, data: &Dataset) -> Result<Self> {
        mlp.check_data(data)?;
        if data.is_empty() {
            return Err(crate::Error::Data("cannot evaluate on an empty set".into()));
        }
        let device = Device::Cpu;
        let x = Tensor::from_slice(&data.x, (data.len(), data.features), &device)?;
        let y = Tensor::from_slice(&data.y, data.len(), &device)?;
        Ok(Self { mlp, x, y, samples: data.len() })
    }

    /// Number of samples held.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Fraction classified correctly by the model with these parameters (no loss: the Shapley
    /// utility, evaluated thousands of times).
    pub fn accuracy(&self, params: &[f32]) -> Result<f64> {
        let logits = Mlp::forward(&self.mlp.tensors(params, self.x.device())?, &self.x)?;
        Ok(self.correct(&logits)? as f64 / self.samples as f64)
    }

    fn correct(&self, logits: &Tensor) -> Result<usize> {
        let predicted = logits.argmax(D::Minus1)?;
        Ok(predicted.eq(&self.y)?.to_dtype(DType::U32)?.sum_all()?.to_scalar::<u32>()? as usize)
    }

    /// Accuracy and loss of the model with these parameters.
    pub fn evaluate(&self, params: &[f32]) -> Result<Evaluation> {
        let layers = self.mlp.tensors(params, self.x.device())?;
        let logits = Mlp::forward(&layers, &self.x)?;
        let loss = f64::from(loss::cross_entropy(&logits, &self.y)?.to_scalar::<f32>()?);
        let correct = self.correct(&logits)?;
        Ok(Evaluation { accuracy: correct as f64 / self.samples as f64, loss, correct, samples: self.samples })
    }
}
