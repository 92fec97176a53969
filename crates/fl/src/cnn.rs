//! A small convolutional network, the option beside the MLP: two 5×5 convolutions ("same"
//! padding, ReLU, 2×2 max-pooling after each) and a dense layer to the classes — 8 then 16 channels
//! give 11,274 parameters on 28×28 images, 4,074 on the 8×8 digits.
//!
//! Exchanged like the MLP as one flat vector: per layer the weights (`out × in × k × k` for a
//! convolution, `out × in` for the dense layer, row-major as candle and PyTorch store them) then the
//! biases. Initialised here from the crate's seeded generator (Kaiming normal weights, uniform
//! biases, as for the MLP). Trained by plain SGD on cross-entropy with candle's autograd: a
//! convolution's gradient written out by hand would be long and easy to get wrong, and the step's
//! time goes to the convolutions either way. Slow on CPUs (about a minute and a half per
//! Fashion-MNIST epoch for a network of this size), so not the default.

use candle_core::{Device, Tensor, Var};
use candle_nn::{Optimizer, SGD, loss};

use crate::data::Dataset;
use crate::model::{TrainConfig, TrainOutcome};
use crate::rng::Rng;
use crate::{Error, Result};

/// The network's shape: `side × side` single-channel images, two convolutions of `channels` with
/// `kernel × kernel` filters, a dense layer to `classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cnn {
    /// Image height and width (a multiple of 4: two 2×2 poolings).
    pub side: usize,
    /// Output channels of the two convolutions.
    pub channels: [usize; 2],
    /// Filter size (odd: "same" padding keeps the image size).
    pub kernel: usize,
    /// Output classes.
    pub classes: usize,
}

/// Evaluation runs over this many samples at a time: a convolution unfolds its input (every
/// 5×5 patch of every channel), 200 values per pixel of the second layer, which over the 10,000
/// test images at once would take gigabytes.
const EVAL_CHUNK: usize = 500;

/// 2×2 max-pooling as two reductions over a reshaped view, not candle's `max_pool2d`: that one's
/// gradient (candle 0.11) is the pooled gradient times the share of the window at the maximum — a
/// quarter of it — where it should be all of it, which shrank the first convolution's gradient
/// sixteenfold through two poolings. `max`'s gradient goes whole to the maximum.
fn pool(h: &Tensor) -> Result<Tensor> {
    let (n, c, height, width) = h.dims4()?;
    Ok(h.reshape((n, c, height / 2, 2, width / 2, 2))?.max(5)?.max(3)?)
}

impl Cnn {
    /// 28×28 images, 8 and 16 channels of 5×5 filters, ten classes.
    pub const MNIST: Cnn = Cnn { side: 28, channels: [8, 16], kernel: 5, classes: 10 };

    /// The same layers for square images of another size (8×8 for the digits); refused when the
    /// samples are not square images whose side is a multiple of 4.
    pub fn for_data(data: &Dataset) -> Result<Cnn> {
        let side = data.features.isqrt();
        if side * side != data.features || side == 0 || !side.is_multiple_of(4) {
            return Err(Error::Data(format!(
                "{} values per sample are not a square image whose side is a multiple of 4",
                data.features
            )));
        }
        Ok(Cnn { side, classes: data.classes, ..Cnn::MNIST })
    }

    /// Values per sample.
    pub fn input(&self) -> usize {
        self.side * self.side
    }

    /// Each parameter tensor's shape, in the flat vector's order, with its fan-in.
    fn shapes(&self) -> [(Vec<usize>, usize); 6] {
        let [c1, c2] = self.channels;
        let k = self.kernel;
        let dense_in = c2 * (self.side / 4) * (self.side / 4);
        [
            (vec![c1, 1, k, k], k * k),
            (vec![c1], k * k),
            (vec![c2, c1, k, k], c1 * k * k),
            (vec![c2], c1 * k * k),
            (vec![self.classes, dense_in], dense_in),
            (vec![self.classes], dense_in),
        ]
    }

    /// Length of the flat parameter vector.
    pub fn param_count(&self) -> usize {
        self.shapes().iter().map(|(dims, _)| dims.iter().product::<usize>()).sum()
    }

    /// Fresh parameters from `seed`: weights normal with standard deviation √2/√fan_in, biases
    /// uniform in ±1/√fan_in.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut rng = Rng::stream(seed, &[0xc22]);
        let mut out = Vec::with_capacity(self.param_count());
        for (i, (dims, fan_in)) in self.shapes().into_iter().enumerate() {
            let count: usize = dims.iter().product();
            if i % 2 == 0 {
                let std = (2.0 / fan_in as f64).sqrt();
                out.extend((0..count).map(|_| (rng.normal() * std) as f32));
            } else {
                let bound = 1.0 / (fan_in as f64).sqrt();
                out.extend((0..count).map(|_| ((rng.f64() * 2.0 - 1.0) * bound) as f32));
            }
        }
        out
    }

    /// The six parameter tensors from a flat vector.
    pub(crate) fn tensors(&self, params: &[f32], device: &Device) -> Result<Vec<Tensor>> {
        if params.len() != self.param_count() {
            return Err(Error::Shape { expected: self.param_count(), got: params.len() });
        }
        let mut at = 0;
        let mut out = Vec::with_capacity(6);
        for (dims, _) in self.shapes() {
            let count: usize = dims.iter().product();
            out.push(Tensor::from_slice(&params[at..at + count], dims, device)?);
            at += count;
        }
        Ok(out)
    }

    /// Logits for `x` (`samples × side²`).
    pub(crate) fn forward(&self, t: &[Tensor], x: &Tensor) -> Result<Tensor> {
        let n = x.dim(0)?;
        let pad = self.kernel / 2;
        let conv = |h: &Tensor, w: &Tensor, b: &Tensor| -> Result<Tensor> {
            let channels = b.dim(0)?;
            pool(&h.conv2d(w, pad, 1, 1, 1)?.broadcast_add(&b.reshape((1, channels, 1, 1))?)?.relu()?)
        };
        let h = x.reshape((n, 1, self.side, self.side))?;
        let h = conv(&h, &t[0], &t[1])?;
        let h = conv(&h, &t[2], &t[3])?;
        Ok(h.flatten_from(1)?.matmul(&t[4].t()?)?.broadcast_add(&t[5])?)
    }

    /// Logits for `x`, [`EVAL_CHUNK`] samples at a time.
    pub(crate) fn forward_chunked(&self, t: &[Tensor], x: &Tensor) -> Result<Tensor> {
        let n = x.dim(0)?;
        let mut parts = Vec::with_capacity(n.div_ceil(EVAL_CHUNK));
        for start in (0..n).step_by(EVAL_CHUNK) {
            parts.push(self.forward(t, &x.narrow(0, start, EVAL_CHUNK.min(n - start))?)?);
        }
        Ok(Tensor::cat(&parts, 0)?)
    }

    /// Trains from `params` on `data` (seeded batch order, reshuffled every epoch) with SGD on
    /// each batch's mean cross-entropy, and returns the new parameters.
    pub fn train(&self, params: &[f32], data: &Dataset, config: &TrainConfig, seed: u64) -> Result<TrainOutcome> {
        if data.features != self.input() || data.classes > self.classes {
            return Err(Error::Data(format!(
                "data has {} features and {} classes; the model takes {} and {}",
                data.features,
                data.classes,
                self.input(),
                self.classes
            )));
        }
        if data.is_empty() || config.batch == 0 {
            return Err(Error::Data("nothing to train on (no samples, or batch 0)".into()));
        }
        let device = Device::Cpu;
        let vars =
            self.tensors(params, &device)?.iter().map(Var::from_tensor).collect::<candle_core::Result<Vec<_>>>()?;
        let weights: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let mut sgd = SGD::new(vars.clone(), config.lr)?;
        let loss = crate::model::batches(data, config, seed, |x, y| {
            let y = Tensor::from_slice(y, y.len(), &device)?;
            let batch_loss = loss::cross_entropy(&self.forward(&weights, x)?, &y)?;
            sgd.backward_step(&batch_loss)?;
            Ok(f64::from(batch_loss.to_scalar::<f32>()?))
        })?;
        let mut out = Vec::with_capacity(self.param_count());
        for v in &vars {
            out.extend(v.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(TrainOutcome { params: out, loss, samples: data.len() })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::DType;

    use super::*;
    use crate::model::Evaluator;

    #[test]
    fn the_layout_and_shapes_add_up() -> Result<()> {
        // conv 1→8 (5×5), conv 8→16 (5×5), dense 16·7·7 → 10.
        assert_eq!(Cnn::MNIST.param_count(), (8 * 25 + 8) + (16 * 8 * 25 + 16) + (784 * 10 + 10));
        assert_eq!(Cnn::MNIST.param_count(), 11_274);
        let digits = crate::data::digits(300, 300, 1)?;
        let cnn = Cnn::for_data(&digits.train)?;
        assert_eq!((cnn.side, cnn.param_count()), (8, 208 + 3216 + 650));
        let params = cnn.init(3);
        assert_eq!(params, cnn.init(3));
        assert_ne!(params, cnn.init(4));
        let t = cnn.tensors(&params, &Device::Cpu)?;
        let flat: Vec<f32> =
            t.iter().map(|t| t.flatten_all()?.to_vec1::<f32>()).collect::<candle_core::Result<Vec<_>>>()?.concat();
        assert_eq!(flat, params);
        let x = Tensor::zeros((3, 64), DType::F32, &Device::Cpu)?;
        assert_eq!(cnn.forward(&t, &x)?.dims(), &[3, 10]);
        assert!(cnn.tensors(&params[1..], &Device::Cpu).is_err());
        let odd = Dataset { features: 49, classes: 10, x: vec![0.0; 49], y: vec![0] };
        assert!(Cnn::for_data(&odd).is_err());
        Ok(())
    }

    /// Autograd's gradient of the loss through both convolutions and poolings agrees with central
    /// differences, in f64 on a tiny network.
    #[test]
    fn gradients_match_finite_differences() -> Result<()> {
        let cnn = Cnn { side: 8, channels: [2, 3], kernel: 3, classes: 4 };
        let device = Device::Cpu;
        let params: Vec<f64> = cnn.init(5).iter().map(|p| f64::from(*p)).collect();
        let mut rng = Rng::new(8);
        let x: Vec<f64> = (0..5 * 64).map(|_| rng.normal()).collect();
        let x = Tensor::from_vec(x, (5, 64), &device)?;
        let y = Tensor::from_vec(vec![0u32, 1, 2, 3, 1], 5, &device)?;
        let tensors = |p: &[f64]| -> Result<Vec<Tensor>> {
            let mut at = 0;
            let mut out = Vec::new();
            for (dims, _) in cnn.shapes() {
                let count: usize = dims.iter().product();
                out.push(Tensor::from_slice(&p[at..at + count], dims, &device)?);
                at += count;
            }
            Ok(out)
        };
        let loss_of = |p: &[f64]| -> Result<f64> {
            Ok(loss::cross_entropy(&cnn.forward(&tensors(p)?, &x)?, &y)?.to_scalar::<f64>()?)
        };
        let vars = tensors(&params)?.iter().map(Var::from_tensor).collect::<candle_core::Result<Vec<_>>>()?;
        let held: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let grads = loss::cross_entropy(&cnn.forward(&held, &x)?, &y)?.backward()?;
        let mut analytic = Vec::new();
        for v in &vars {
            let g = grads.get(v).ok_or_else(|| Error::Data("a parameter has no gradient".into()))?;
            analytic.extend(g.flatten_all()?.to_vec1::<f64>()?);
        }
        assert_eq!(analytic.len(), cnn.param_count());
        let eps = 1e-6;
        // Every bias and a spread of weights in each layer.
        for i in (0..params.len()).step_by(7) {
            let (mut up, mut down) = (params.clone(), params.clone());
            up[i] += eps;
            down[i] -= eps;
            let numeric = (loss_of(&up)? - loss_of(&down)?) / (2.0 * eps);
            assert!(
                (numeric - analytic[i]).abs() < 1e-6 + 1e-4 * numeric.abs(),
                "parameter {i}: {numeric} vs {}",
                analytic[i]
            );
        }
        Ok(())
    }

    /// Ten epochs on the 8×8 digits (1,197 of them) take it far above chance.
    #[test]
    fn it_learns_the_digits() -> Result<()> {
        let splits = crate::data::digits(300, 300, 2)?;
        let cnn = Cnn::for_data(&splits.train)?;
        let test = Evaluator::new(cnn, &splits.test)?;
        let start = cnn.init(6);
        let before = test.accuracy(&start)?;
        // The tiny network (4,074 parameters) wants a larger step than the MLP's 0.05 on these.
        let config = TrainConfig { epochs: 10, lr: 0.2, batch: 32 };
        let out = cnn.train(&start, &splits.train, &config, 6)?;
        let after = test.evaluate(&out.params)?;
        assert!(before < 0.3 && after.accuracy > 0.9, "test accuracy {before:.3} before, {:.3} after", after.accuracy);
        assert_eq!(out.params.len(), cnn.param_count());
        assert_eq!(out.params, cnn.train(&start, &splits.train, &config, 6)?.params, "seeded training repeats");
        Ok(())
    }
}
