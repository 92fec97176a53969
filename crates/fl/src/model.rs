//! The default model: McMahan et al.'s multilayer perceptron (784-200-200-10 for 28×28 images,
//! ReLU), in candle, exchanged as one flat parameter vector; and what holds any [`Net`]'s
//! parameters to predict ([`Model`]) or to evaluate them ([`Evaluator`]).
//!
//! The flat layout is, layer by layer, the weight matrix (`out × in`, row-major, as candle's and
//! PyTorch's `Linear` store it) then the bias (`out`). Parameters are initialised here from a
//! seeded generator, with the distributions candle's `linear` uses (Kaiming normal weights, uniform
//! biases), not by candle, whose initialiser does not follow a seed. Local training is plain SGD on
//! cross-entropy over shuffled mini-batches; a [`Model`] holds trained parameters ready to predict.

use candle_core::{D, DType, Device, Tensor};
use candle_nn::{loss, ops};

use crate::Result;
use crate::data::Dataset;
use crate::net::{Loaded, Net};
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
    pub(crate) fn tensors(&self, params: &[f32], device: &Device) -> Result<Vec<(Tensor, Tensor)>> {
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

    pub(crate) fn forward(layers: &[(Tensor, Tensor)], x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (i, (w, b)) in layers.iter().enumerate() {
            h = h.matmul(&w.t()?)?.broadcast_add(b)?;
            if i + 1 < layers.len() {
                h = h.relu()?;
            }
        }
        Ok(h)
    }

    /// Trains from `params` on `data` (seeded batch order, reshuffled every epoch) and returns the
    /// new parameters.
    ///
    /// Each step is plain SGD on the batch's mean cross-entropy, with the gradients written out
    /// for this network rather than taken from candle's autograd: the same mathematics, without
    /// the graph candle builds and walks every step, and without the gradient of the first
    /// layer's input, which autograd computes and nothing uses (a quarter of a step's work).
    pub fn train(&self, params: &[f32], data: &Dataset, config: &TrainConfig, seed: u64) -> Result<TrainOutcome> {
        self.check_data(data)?;
        if data.is_empty() || config.batch == 0 {
            return Err(crate::Error::Data("nothing to train on (no samples, or batch 0)".into()));
        }
        let device = Device::Cpu;
        let mut layers = self.tensors(params, &device)?;
        let loss = batches(data, config, seed, |x, y| self.sgd_step(&mut layers, x, y, config.lr))?;
        Ok(TrainOutcome { params: flatten(&layers)?, loss, samples: data.len() })
    }

    /// One SGD step on the batch `x` with labels `y`; returns the batch's mean cross-entropy.
    fn sgd_step(&self, layers: &mut [(Tensor, Tensor)], x: &Tensor, y: &[u32], lr: f64) -> Result<f64> {
        // Forward, keeping each layer's input (after ReLU for the hidden layers).
        let mut inputs = Vec::with_capacity(layers.len());
        let mut h = x.clone();
        for (i, (w, b)) in layers.iter().enumerate() {
            let z = h.matmul(&w.t()?)?.broadcast_add(b)?;
            inputs.push(h);
            h = if i + 1 < layers.len() { z.relu()? } else { z };
        }
        // Softmax and cross-entropy on the few logits, in f64; d(mean loss)/d(logits) is
        // (softmax − one-hot) / batch.
        let (n, classes) = h.dims2()?;
        let logits = h.flatten_all()?.to_vec1::<f32>()?;
        let mut grad = Vec::with_capacity(n * classes);
        let mut loss = 0.0f64;
        for (row, &label) in logits.chunks_exact(classes).zip(y) {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
            let exps: Vec<f64> = row.iter().map(|v| f64::from(v - max).exp()).collect();
            let total: f64 = exps.iter().sum();
            loss += total.ln() - f64::from(row[label as usize] - max);
            for (c, e) in exps.iter().enumerate() {
                let target = if c == label as usize { 1.0 } else { 0.0 };
                grad.push(((e / total - target) / n as f64) as f32);
            }
        }
        let mut grad = Tensor::from_vec(grad, (n, classes), x.device())?;
        // Backward, last layer first: ∂W = gradᵀ·input, ∂b = Σ grad, and through the weights
        // (before they move) and the ReLU to the layer below.
        for i in (0..layers.len()).rev() {
            let input = &inputs[i];
            let (w, b) = &layers[i];
            let dw = grad.t()?.matmul(input)?;
            let db = grad.sum(0)?;
            let below = if i > 0 { Some(grad.matmul(w)?.mul(&input.gt(0f32)?.to_dtype(DType::F32)?)?) } else { None };
            layers[i] = (w.sub(&dw.affine(lr, 0.0)?)?, b.sub(&db.affine(lr, 0.0)?)?);
            if let Some(below) = below {
                grad = below;
            }
        }
        Ok(loss / n as f64)
    }

    /// Class probabilities for each sample of `x` (`samples × input`, row-major).
    pub fn predict(&self, params: &[f32], x: &[f32]) -> Result<Vec<Vec<f32>>> {
        Model::new(*self, params)?.predict(x)
    }
}

/// The flat parameter vector of `(weight, bias)` tensors, layer by layer.
fn flatten(layers: &[(Tensor, Tensor)]) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for (w, b) in layers {
        out.extend(w.flatten_all()?.to_vec1::<f32>()?);
        out.extend(b.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// A model's parameters held as tensors, to answer many predictions without rebuilding it.
#[derive(Debug, Clone)]
pub struct Model {
    net: Net,
    loaded: Loaded,
}

impl Model {
    /// The network `net` (an [`Mlp`], a [`Cnn`](crate::cnn::Cnn) or a [`Net`]) with these flat
    /// parameters (refused if their count is not the network's).
    pub fn new(net: impl Into<Net>, params: &[f32]) -> Result<Self> {
        let net = net.into();
        Ok(Self { net, loaded: net.load(params, &Device::Cpu)? })
    }

    /// Its architecture and shape.
    pub fn net(&self) -> Net {
        self.net
    }

    /// Class probabilities for each sample of `x` (`samples × input`, row-major; inputs scaled as
    /// in training).
    pub fn predict(&self, x: &[f32]) -> Result<Vec<Vec<f32>>> {
        let input = self.net.input();
        if input == 0 || !x.len().is_multiple_of(input) {
            return Err(crate::Error::Data(format!("{} inputs are not samples of {input}", x.len())));
        }
        let xt = Tensor::from_slice(x, (x.len() / input, input), &Device::Cpu)?;
        Ok(ops::softmax(&self.loaded.logits(&xt)?, D::Minus1)?.to_vec2::<f32>()?)
    }
}

/// A data set held as tensors, to evaluate many models on it (the Shapley utility evaluates
/// thousands).
#[derive(Debug, Clone)]
pub struct Evaluator {
    net: Net,
    x: Tensor,
    y: Tensor,
    samples: usize,
}

impl Evaluator {
    /// Holds `data` for models of shape `net` (an [`Mlp`], a [`Cnn`](crate::cnn::Cnn) or a [`Net`]).
    pub fn new(net: impl Into<Net>, data: &Dataset) -> Result<Self> {
        let net = net.into();
        net.check_data(data)?;
        if data.is_empty() {
            return Err(crate::Error::Data("cannot evaluate on an empty set".into()));
        }
        let device = Device::Cpu;
        let x = Tensor::from_slice(&data.x, (data.len(), data.features), &device)?;
        let y = Tensor::from_slice(&data.y, data.len(), &device)?;
        Ok(Self { net, x, y, samples: data.len() })
    }

    /// Number of samples held.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Fraction classified correctly by the model with these parameters (no loss: the Shapley
    /// utility, evaluated thousands of times).
    pub fn accuracy(&self, params: &[f32]) -> Result<f64> {
        let logits = self.net.load(params, self.x.device())?.logits(&self.x)?;
        Ok(self.correct(&logits)? as f64 / self.samples as f64)
    }

    fn correct(&self, logits: &Tensor) -> Result<usize> {
        let predicted = logits.argmax(D::Minus1)?;
        Ok(predicted.eq(&self.y)?.to_dtype(DType::U32)?.sum_all()?.to_scalar::<u32>()? as usize)
    }

    /// Accuracy and loss of the model with these parameters.
    pub fn evaluate(&self, params: &[f32]) -> Result<Evaluation> {
        let logits = self.net.load(params, self.x.device())?.logits(&self.x)?;
        let loss = f64::from(loss::cross_entropy(&logits, &self.y)?.to_scalar::<f32>()?);
        let correct = self.correct(&logits)?;
        Ok(Evaluation { accuracy: correct as f64 / self.samples as f64, loss, correct, samples: self.samples })
    }
}

/// Runs `config.epochs` epochs over `data` in batches of `config.batch` (a seeded order,
/// reshuffled every epoch), calling `step` with each batch's inputs and labels; `step` returns the
/// batch's mean loss. Returns the last epoch's mean loss per sample. Every network trains through
/// here, so one seed gives one batch order whichever network it is.
pub(crate) fn batches(
    data: &Dataset,
    config: &TrainConfig,
    seed: u64,
    mut step: impl FnMut(&Tensor, &[u32]) -> Result<f64>,
) -> Result<f32> {
    let device = Device::Cpu;
    let mut rng = Rng::stream(seed, &[0x7a1a]);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut loss_sum = 0.0f64;
    let mut xb = Vec::with_capacity(config.batch * data.features);
    let mut yb = Vec::with_capacity(config.batch);
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        loss_sum = 0.0;
        for chunk in order.chunks(config.batch) {
            xb.clear();
            yb.clear();
            for &i in chunk {
                xb.extend_from_slice(data.row(i));
                yb.push(data.y[i]);
            }
            let x = Tensor::from_slice(&xb, (chunk.len(), data.features), &device)?;
            loss_sum += step(&x, &yb)? * chunk.len() as f64;
        }
    }
    Ok((loss_sum / data.len() as f64) as f32)
}

#[cfg(test)]
mod tests {
    use candle_core::Var;
    use candle_nn::{Optimizer, SGD};

    use super::*;

    /// The written-out step moves the parameters exactly as candle's autograd and SGD would.
    #[test]
    fn a_step_matches_candle_autograd() -> Result<()> {
        let splits = crate::data::digits(300, 300, 4)?;
        let mlp = Mlp::for_data(&splits.train);
        let params = mlp.init(9);
        let device = Device::Cpu;
        let n = 32;
        let x = Tensor::from_slice(&splits.train.x[..n * mlp.input], (n, mlp.input), &device)?;
        let labels = &splits.train.y[..n];

        let mut layers = mlp.tensors(&params, &device)?;
        let loss = mlp.sgd_step(&mut layers, &x, labels, 0.05)?;
        let ours = flatten(&layers)?;

        let vars: Vec<Var> = mlp
            .tensors(&params, &device)?
            .into_iter()
            .flat_map(|(w, b)| [w, b])
            .map(|t| Var::from_tensor(&t))
            .collect::<candle_core::Result<_>>()?;
        let as_layers: Vec<(Tensor, Tensor)> =
            vars.chunks(2).map(|p| (p[0].as_tensor().clone(), p[1].as_tensor().clone())).collect();
        let reference = loss::cross_entropy(&Mlp::forward(&as_layers, &x)?, &Tensor::from_slice(labels, n, &device)?)?;
        SGD::new(vars.clone(), 0.05)?.backward_step(&reference)?;
        let theirs =
            flatten(&vars.chunks(2).map(|p| (p[0].as_tensor().clone(), p[1].as_tensor().clone())).collect::<Vec<_>>())?;

        assert!((loss - f64::from(reference.to_scalar::<f32>()?)).abs() < 1e-5, "loss {loss} vs {reference}");
        let moved = ours.iter().zip(&params).filter(|(a, b)| a != b).count();
        assert!(moved > params.len() / 2, "only {moved} parameters moved");
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-6, "largest difference from autograd {worst}");
        Ok(())
    }

    #[test]
    fn a_held_model_predicts_as_the_flat_parameters_do() -> Result<()> {
        let mlp = Mlp { input: 4, hidden: [5, 5], classes: 3 };
        let params = mlp.init(2);
        let x = [0.1, 0.9, -0.3, 0.5, 1.0, 0.0, 0.2, 0.3];
        let model = Model::new(mlp, &params)?;
        let probs = model.predict(&x)?;
        assert_eq!(probs, mlp.predict(&params, &x)?);
        assert_eq!(probs.len(), 2);
        assert!(probs.iter().all(|p| (p.iter().sum::<f32>() - 1.0).abs() < 1e-5));
        assert!(model.predict(&x[..5]).is_err());
        assert!(Model::new(mlp, &params[1..]).is_err());
        Ok(())
    }
}
