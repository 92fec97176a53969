//! The OpenAI-compatible API, paid through a channel: `POST /v1/chat/completions` (streamed as
//! server-sent events or not) and `GET /v1/models`. Errors are OpenAI-shaped; payment metadata goes
//! where the official clients ignore it (a response header, SSE comment lines, extra fields).

use std::convert::Infallible;

use agora_assistant::openai::{
    BILLED_HEADER, ChatRequest, HeaderVoucher, Usage, VOUCHER_HEADER, error_body, models_body, status_of,
};
use agora_assistant::protocol::{ErrorCode, FinishReason, Refusal, ServerMsg};
use alloy::primitives::B256;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;

use crate::AppState;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/models", get(models)).route("/v1/chat/completions", post(completions))
}

fn refused(r: &Refusal, channel: Option<B256>) -> Response {
    let status = StatusCode::from_u16(status_of(r.code)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(error_body(r, channel))).into_response()
}

fn no_assistant() -> Response {
    refused(&Refusal::new(ErrorCode::UnknownModel, "this node runs no assistant"), None)
}

async fn models(State(s): State<AppState>) -> Response {
    match &s.assistant {
        Some(a) => axum::Json(models_body(&a.models())).into_response(),
        None => no_assistant(),
    }
}

async fn completions(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(a) = s.assistant.clone() else { return no_assistant() };
    let request: ChatRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refused(&Refusal::new(ErrorCode::BadMessage, format!("the request body is not valid: {e}")), None);
        }
    };
    let Some(raw) = headers.get(VOUCHER_HEADER).and_then(|v| v.to_str().ok()) else {
        return refused(
            &Refusal::new(
                ErrorCode::Owed,
                "payment required: send Agora-Voucher: <channelId>:<cumulativeAmount>:<signature> (see /v1/models for prices)",
            ),
            None,
        );
    };
    let voucher: HeaderVoucher = match raw.parse() {
        Ok(v) => v,
        Err(r) => return refused(&r, None),
    };
    let request_id = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() && key.len() <= 64 => key.to_string(),
        _ => match crate::auth::random_hex::<16>() {
            Ok(id) => id,
            Err(e) => return e.into_response(),
        },
    };
    let rx = match a.complete(&voucher, &request, request_id.clone()).await {
        Ok(rx) => rx,
        Err(r) => {
            // A refusal for lack of payment says what the channel owes, so the program can sign it.
            let mut r = r;
            if r.owed.is_none() && status_of(r.code) == 402 {
                r.owed = a.billed(voucher.channel_id).await.ok();
            }
            return refused(&r, Some(voucher.channel_id));
        }
    };
    let id = format!("chatcmpl-{request_id}");
    let created =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    if request.stream {
        let usage = request.stream_options.as_ref().is_some_and(|o| o.include_usage);
        stream(rx, Meta { id, created, model: request.model, usage })
    } else {
        whole(rx, Meta { id, created, model: request.model, usage: true }, voucher.channel_id).await
    }
}

struct Meta {
    id: String,
    created: u64,
    model: String,
    usage: bool,
}

fn finish_name(f: FinishReason) -> &'static str {
    match f {
        FinishReason::Length => "length",
        FinishReason::Stop | FinishReason::Stopped => "stop",
    }
}

/// Collects the reply into one `chat.completion`.
async fn whole(mut rx: mpsc::Receiver<ServerMsg>, meta: Meta, channel: B256) -> Response {
    let mut text = String::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            ServerMsg::Chunk { text: t, .. } => text.push_str(&t),
            ServerMsg::Done { finish, prompt_tokens, completion_tokens, cumulative, .. } => {
                let usage = Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
                let body = serde_json::json!({
                    "id": meta.id, "object": "chat.completion", "created": meta.created, "model": meta.model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": finish_name(finish), "logprobs": null}],
                    "usage": usage,
                });
                let mut response = axum::Json(body).into_response();
                if let Ok(v) = HeaderValue::from_str(&cumulative.to_string()) {
                    response.headers_mut().insert(BILLED_HEADER, v);
                }
                return response;
            }
            ServerMsg::Error { code, message, owed, deposit, expiry, .. } => {
                return refused(&Refusal { code, message, owed, deposit, expiry }, Some(channel));
            }
            ServerMsg::Started { .. } | ServerMsg::Paid { .. } => {}
        }
    }
    refused(&Refusal::new(ErrorCode::Internal, "the reply ended without finishing"), Some(channel))
}

fn event(value: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn chunk_event(meta: &Meta, delta: serde_json::Value, finish: Option<&str>) -> Bytes {
    event(&serde_json::json!({
        "id": meta.id, "object": "chat.completion.chunk", "created": meta.created, "model": meta.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
    }))
}

/// Streams the reply as `chat.completion.chunk` events, the usage chunk when asked, then `[DONE]`.
fn stream(rx: mpsc::Receiver<ServerMsg>, meta: Meta) -> Response {
    let state = (rx, meta, false);
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let (mut rx, meta, mut opened) = state?;
        loop {
            let Some(msg) = rx.recv().await else {
                let err = serde_json::json!({"error": {"message": "the reply ended without finishing", "type": "server_error"}});
                let out = Bytes::from(format!("data: {err}\n\ndata: [DONE]\n\n"));
                return Some((Ok::<_, Infallible>(out), None));
            };
            match msg {
                ServerMsg::Started { .. } | ServerMsg::Paid { .. } => continue,
                ServerMsg::Chunk { text, cumulative, .. } => {
                    let delta = if opened {
                        serde_json::json!({"content": text})
                    } else {
                        serde_json::json!({"role": "assistant", "content": text})
                    };
                    opened = true;
                    let mut out = chunk_event(&meta, delta, None).to_vec();
                    out.extend_from_slice(format!(": agora billed={cumulative}\n\n").as_bytes());
                    return Some((Ok(Bytes::from(out)), Some((rx, meta, opened))));
                }
                ServerMsg::Done { finish, prompt_tokens, completion_tokens, cumulative, .. } => {
                    let mut out = chunk_event(&meta, serde_json::json!({}), Some(finish_name(finish))).to_vec();
                    if meta.usage {
                        let usage =
                            Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
                        out.extend_from_slice(&event(&serde_json::json!({
                            "id": meta.id, "object": "chat.completion.chunk", "created": meta.created,
                            "model": meta.model, "choices": [], "usage": usage,
                        })));
                    }
                    out.extend_from_slice(format!(": agora billed={cumulative}\n\ndata: [DONE]\n\n").as_bytes());
                    return Some((Ok(Bytes::from(out)), None));
                }
                ServerMsg::Error { code, message, .. } => {
                    let r = Refusal::new(code, message);
                    let mut out = event(&error_body(&r, None)).to_vec();
                    out.extend_from_slice(b"data: [DONE]\n\n");
                    return Some((Ok(Bytes::from(out)), None));
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
