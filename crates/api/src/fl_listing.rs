//! What a wallet needs to list a finished federated model as an AI-inference service of the
//! compute market: `GET /api/fl/tasks/{id}/listing`.
//!
//! Who may list: in reward-pool mode the investor paid the trainers and owns the model, so only
//! the investor may list it, and the node runs an `fl:<task>` service's jobs only when its provider
//! is that investor. A shareholding-mode model belongs to its shareholders, who are paid per
//! prediction through FederatedMarket; the compute market would pay its one provider instead, so
//! such models are not listed there. Only finished tasks have a model to list.

use agora_content::{Cid, ContentStore};
use agora_federated::inference::service_app;
use agora_federated::{DatasetName, TaskSpec};
use agora_market::{Localized, Runtime, ServiceKind, ServiceMetadata};
use agora_store::{FlMode, FlTaskRow, FlTaskState};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Serialize;

use crate::error::ErrorBody;
use crate::fl_market::{known_task, lower_hex};
use crate::metadata::{InputDto, MetadataDto};
use crate::{ApiError, AppState};

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/fl/tasks/{id}/listing", get(listing))
}

/// The images a model takes, as a job gives them: `{"pixels":[…]}`, row by row.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlModelImage)]
struct ImageDto {
    /// fashion-mnist, mnist or digits.
    dataset: String,
    /// Pixels per side (28, or 8 for the digits).
    side: u32,
    /// The brightest pixel's value (255, or 16 for the digits).
    max_value: u32,
}

/// A compute-market service already listed with this model's runtime.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlModelService)]
struct ListedDto {
    /// The service's id on the compute market.
    id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    provider: String,
    /// Whether the node runs its jobs: its provider is the task's investor.
    runs: bool,
    active: bool,
}

/// How to list a finished task's model on the compute market: send
/// `ComputeMarket.listService(token, price, maxRunTime, metadataUri)` from the investor's account.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlModelListing)]
struct ListingDto {
    task_id: u64,
    /// The ComputeMarket contract to send `listService` to.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    compute_market: String,
    /// The only account whose listing the node runs: the task's investor.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    investor: String,
    /// A suggested payment token: the task's own (`0x000…0` for ETH); any token may be chosen.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    /// The service's metadata: ai-inference, runtime `local` app `fl:<task>`.
    metadata: MetadataDto,
    /// The metadata as the `data:` URI `listService` takes.
    metadata_uri: String,
    /// What a buyer gives the service (from its kind).
    input: InputDto,
    /// The image the model takes; null when this node cannot read the task's spec.
    image: Option<ImageDto>,
    /// Services already listed with this model's runtime, oldest first.
    listed: Vec<ListedDto>,
}

/// The image shape of a data set.
fn image_of(dataset: DatasetName) -> ImageDto {
    let (name, side, max_value) = match dataset {
        DatasetName::FashionMnist => ("fashion-mnist", 28, 255),
        DatasetName::Mnist => ("mnist", 28, 255),
        DatasetName::Digits => ("digits", 8, 16),
    };
    ImageDto { dataset: name.to_owned(), side, max_value }
}

/// Task `task`'s model as a compute service, described for a model on `image` (when known).
fn metadata_of(task: u64, image: Option<&ImageDto>) -> ServiceMetadata {
    let (en, zh) = match image {
        Some(i) => {
            let n = i.side * i.side;
            (
                format!(
                    "Classifies a {s}×{s} {d} image with the model federated task {task} trained. Input: \
                     {{\"pixels\":[…]}} with {n} grey values from 0 to {m}, row by row.",
                    s = i.side,
                    d = i.dataset,
                    m = i.max_value
                ),
                format!(
                    "用联邦学习任务 {task} 训练出的模型识别一张 {s}×{s} 的 {d} 图像。输入：\
                     {{\"pixels\":[…]}}，按行排列的 {n} 个 0 到 {m} 的灰度值。",
                    s = i.side,
                    d = i.dataset,
                    m = i.max_value
                ),
            )
        }
        None => (
            format!("Classifies an image with the model federated task {task} trained."),
            format!("用联邦学习任务 {task} 训练出的模型识别图像。"),
        ),
    };
    ServiceMetadata {
        kind: ServiceKind::AiInference,
        runtime: Some(Runtime::Local { app: service_app(task) }),
        name: Localized::new(&format!("Federated model #{task}"), &format!("联邦模型 #{task}")),
        description: Localized { en, zh_cn: zh },
    }
}

/// Why a task's model may not be listed, as the API's 409.
fn refusal(task: &FlTaskRow) -> Option<ApiError> {
    if task.mode == FlMode::Shareholding {
        return Some(ApiError::Rejected {
            code: "shareholding_model",
            message: format!(
                "task {} is in shareholding mode: its model earns for its shareholders through paid predictions, \
                 and the compute market would pay one provider",
                task.task_id
            ),
        });
    }
    if task.state != FlTaskState::Finished {
        return Some(ApiError::Rejected {
            code: "not_finished",
            message: format!("task {} has no model to list until it is finished", task.task_id),
        });
    }
    None
}

/// The data set of a task's spec, when this node's content store holds the spec.
async fn dataset_of(s: &AppState, spec: &str) -> Option<DatasetName> {
    let cid: Cid = spec.parse().ok()?;
    let bytes = s.content.get(&cid).await.ok()??;
    TaskSpec::from_bytes(&bytes).ok().map(|spec| spec.dataset)
}

/// How to list a finished model on the compute market
#[utoipa::path(get, path = "/api/fl/tasks/{id}/listing", tag = "fl", operation_id = "fl_model_listing",
    summary = "What the investor sends to list a finished reward-pool task's model as an AI-inference service, and the services already listed with it",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = ListingDto),
        (status = 400, description = "malformed id", body = ErrorBody),
        (status = 404, description = "unknown task", body = ErrorBody),
        (status = 409, description = "not finished (`not_finished`) or a shareholding-mode model (`shareholding_model`)", body = ErrorBody),
    ),
)]
async fn listing(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ListingDto>, ApiError> {
    let Path(raw) = id?;
    let task = known_task(&s, &raw).await?;
    if let Some(refused) = refusal(&task) {
        return Err(refused);
    }
    let image = dataset_of(&s, &task.spec).await.map(image_of);
    let metadata = metadata_of(task.task_id, image.as_ref());
    let app = service_app(task.task_id);
    let listed = s
        .store
        .services(s.network.chain_id)
        .await?
        .into_iter()
        .filter(|r| {
            r.metadata
                .as_ref()
                .and_then(|m| m.runtime.as_ref())
                .is_some_and(|rt| matches!(rt, Runtime::Local { app: a } if *a == app))
        })
        .map(|r| ListedDto {
            id: r.service_id,
            provider: lower_hex(r.provider),
            runs: r.provider == task.investor,
            active: r.active,
        })
        .collect();
    Ok(Json(ListingDto {
        task_id: task.task_id,
        compute_market: lower_hex(s.network.compute_market),
        investor: lower_hex(task.investor),
        token: lower_hex(task.token),
        input: metadata.input().into(),
        metadata_uri: metadata.to_uri(),
        metadata: metadata.into(),
        image,
        listed,
    }))
}
