//! The seed's demo services, which the embedded dev chain lists at start and tests list on theirs.

use agora_chain::deploy::Listing;
use alloy::primitives::U256;

use crate::{Localized, Runtime, ServiceKind, ServiceMetadata, apps};

/// A service to list: its metadata and terms.
#[derive(Debug, Clone)]
pub struct DemoService {
    /// The service's kind, runtime, names and descriptions.
    pub metadata: ServiceMetadata,
    /// `true`: priced in MarketToken; `false`: in ETH.
    pub in_token: bool,
    /// Its price, in the smallest unit of its token (wei for ETH).
    pub price: U256,
    /// Longest run a task may take, in seconds.
    pub max_run_time: u64,
}

impl DemoService {
    /// The listing `listService` takes.
    pub fn listing(&self) -> Listing {
        Listing {
            in_token: self.in_token,
            price: self.price,
            max_run_time: self.max_run_time,
            metadata_uri: self.metadata.to_uri(),
        }
    }

    /// The same service run through iExec: `app` of the Agora workerpool in `category`.
    pub fn on_iexec(mut self, app: &str, category: u64) -> Self {
        self.metadata.runtime = Some(Runtime::Iexec { app: app.to_owned(), category });
        self
    }

    /// The same service under another kind (its runtime follows the kind's default app).
    pub fn with_kind(mut self, kind: &str) -> Self {
        self.metadata.kind = ServiceKind::parse(kind);
        self.metadata.runtime = self.metadata.kind.default_app().map(|app| Runtime::Local { app: app.to_owned() });
        self
    }
}

/// The listings of `services`.
pub fn listings(services: &[DemoService]) -> Vec<Listing> {
    services.iter().map(DemoService::listing).collect()
}

const MILLI_ETH: U256 = U256::from_limbs([1_000_000_000_000_000, 0, 0, 0]);
const ONE_TOKEN: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

fn service(
    kind: ServiceKind,
    name: Localized,
    description: Localized,
    in_token: bool,
    price: U256,
    max_run_time: u64,
) -> DemoService {
    let runtime = kind.default_app().map(|app| Runtime::Local { app: app.to_owned() });
    DemoService { metadata: ServiceMetadata { kind, runtime, name, description }, in_token, price, max_run_time }
}

/// The three services of the seed's demo, each run on the node's own executor (the dev chain
/// moves data processing to iExec with [`DemoService::on_iexec`]).
pub fn demo_services() -> Vec<DemoService> {
    vec![
        service(
            ServiceKind::AiInference,
            Localized::new("AI inference", "AI 推理算力"),
            Localized::new("Classify a handwritten digit with a small neural network.", "用小型神经网络识别手写数字。"),
            false,
            MILLI_ETH * U256::from(10),
            300,
        ),
        service(
            ServiceKind::VideoTranscode,
            Localized::new("Video transcode", "视频转码算力"),
            Localized::new(
                "Transcode a video with FFmpeg to the resolution (240p to 720p) and codec (H.264 or VP9) you choose.",
                "使用 FFmpeg 将视频转码为你选择的分辨率（240p 至 720p）和编码（H.264 或 VP9）。",
            ),
            false,
            MILLI_ETH * U256::from(20),
            600,
        ),
        service(
            ServiceKind::DataProcessing,
            Localized::new("Data processing", "数据处理算力"),
            Localized::new(
                "Count the words of your text or file in a sandboxed WebAssembly job.",
                "在 WebAssembly 沙箱中统计你的文本或文件的词频。",
            ),
            true,
            ONE_TOKEN * U256::from(5),
            300,
        ),
    ]
}

/// The app the dev chain's data-processing service runs on iExec, and its category (XS).
pub const DEV_IEXEC_APP: (&str, u64) = (apps::WORDCOUNT, 0);
