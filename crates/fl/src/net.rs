//! Which network a task trains: [`Net`], the MLP (the default) or the small CNN, behind one
//! interface — a flat parameter vector, seeded initialisation, local training, logits — so
//! aggregation, Shapley values and records never need to know which.

use candle_core::{Device, Tensor};

use crate::Result;
use crate::cnn::Cnn;
use crate::data::Dataset;
use crate::model::{Mlp, TrainConfig, TrainOutcome};

/// A flat parameter vector as bytes: each value little-endian f32, in order (how models are kept
/// in the content store).
pub fn params_to_bytes(params: &[f32]) -> Vec<u8> {
    params.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// [`params_to_bytes`] read back; bytes whose length is not a multiple of 4 are refused.
pub fn params_from_bytes(bytes: &[u8]) -> Result<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(crate::Error::Data(format!("{} bytes are not a whole number of f32 parameters", bytes.len())));
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// A network's architecture and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Net {
    /// McMahan et al.'s multilayer perceptron.
    Mlp(Mlp),
    /// Two convolutions and a dense layer.
    Cnn(Cnn),
}

impl From<Mlp> for Net {
    fn from(mlp: Mlp) -> Self {
        Net::Mlp(mlp)
    }
}

impl From<Cnn> for Net {
    fn from(cnn: Cnn) -> Self {
        Net::Cnn(cnn)
    }
}

/// A network's parameters held as tensors.
#[derive(Debug, Clone)]
pub(crate) enum Loaded {
    Mlp(Vec<(Tensor, Tensor)>),
    Cnn(Cnn, Vec<Tensor>),
}

impl Loaded {
    /// Logits for `x` (`samples × input`).
    pub(crate) fn logits(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Loaded::Mlp(layers) => Mlp::forward(layers, x),
            Loaded::Cnn(cnn, tensors) => cnn.forward_chunked(tensors, x),
        }
    }
}

impl Net {
    /// Values per sample.
    pub fn input(&self) -> usize {
        match self {
            Net::Mlp(m) => m.input,
            Net::Cnn(c) => c.input(),
        }
    }

    /// Output classes.
    pub fn classes(&self) -> usize {
        match self {
            Net::Mlp(m) => m.classes,
            Net::Cnn(c) => c.classes,
        }
    }

    /// Length of the flat parameter vector.
    pub fn param_count(&self) -> usize {
        match self {
            Net::Mlp(m) => m.param_count(),
            Net::Cnn(c) => c.param_count(),
        }
    }

    /// Fresh parameters from `seed`.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        match self {
            Net::Mlp(m) => m.init(seed),
            Net::Cnn(c) => c.init(seed),
        }
    }

    /// Local training from `params` on `data` (see [`Mlp::train`] and [`Cnn::train`]).
    pub fn train(&self, params: &[f32], data: &Dataset, config: &TrainConfig, seed: u64) -> Result<TrainOutcome> {
        match self {
            Net::Mlp(m) => m.train(params, data, config, seed),
            Net::Cnn(c) => c.train(params, data, config, seed),
        }
    }

    /// Refuses data of another width, or with more classes than the network has.
    pub(crate) fn check_data(&self, data: &Dataset) -> Result<()> {
        if data.features != self.input() || data.classes > self.classes() {
            return Err(crate::Error::Data(format!(
                "data has {} features and {} classes; the model takes {} and {}",
                data.features,
                data.classes,
                self.input(),
                self.classes()
            )));
        }
        Ok(())
    }

    /// The parameters as tensors (refused if their count is not the network's).
    pub(crate) fn load(&self, params: &[f32], device: &Device) -> Result<Loaded> {
        Ok(match self {
            Net::Mlp(m) => Loaded::Mlp(m.tensors(params, device)?),
            Net::Cnn(c) => Loaded::Cnn(*c, c.tensors(params, device)?),
        })
    }
}
