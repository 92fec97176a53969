//! The dev chain's faucet: a new wallet (a fresh MetaMask account) takes test ETH and MarketToken
//! once, so a person can try every market without a dev key — the seed's coins at sign-up. Only a
//! node running its own embedded chain has one; everywhere else the endpoint answers 403.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use agora_chain::Sender;
use agora_chain::bindings::MarketToken;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::rpc::types::TransactionRequest;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

/// Gives each address, once, `eth` wei and `tokens` of MarketToken from the dev chain's owner (the
/// token's minter). Cheap to clone.
#[derive(Clone)]
pub struct Faucet {
    sender: Sender,
    token: Address,
    eth: U256,
    tokens: U256,
    /// Addresses served or being served; the chain is the embedded one, fresh at every start, so
    /// memory is the right lifetime.
    served: Arc<Mutex<HashSet<Address>>>,
}

impl Faucet {
    /// A faucet paying from `sender`, which must be MarketToken's minter at `token`.
    pub fn new(sender: Sender, token: Address, eth: U256, tokens: U256) -> Self {
        Self { sender, token, eth, tokens, served: Arc::default() }
    }

    /// The seed's amounts: 1 ETH and 100 MarketToken (18 decimals).
    pub fn dev(sender: Sender, token: Address) -> Self {
        let one = U256::from(10u64).pow(U256::from(18u64));
        Self::new(sender, token, one, one * U256::from(100u64))
    }

    /// Sends the ETH, then mints the tokens; refuses an address served before. An address whose
    /// transfer failed may ask again.
    pub async fn give(&self, to: Address) -> Result<FaucetDto, ApiError> {
        if to == Address::ZERO {
            return Err(ApiError::Rejected {
                code: "zero_address",
                message: "the zero address cannot hold anything".into(),
            });
        }
        if !self.served.lock().map_err(|_| ApiError::Internal("faucet lock poisoned".into()))?.insert(to) {
            return Err(ApiError::Rejected {
                code: "already_served",
                message: format!("{to:#x} has already taken its test ETH and MarketToken"),
            });
        }
        let result = self.transfer(to).await;
        if result.is_err()
            && let Ok(mut served) = self.served.lock()
        {
            served.remove(&to);
        }
        result
    }

    async fn transfer(&self, to: Address) -> Result<FaucetDto, ApiError> {
        // A recipient that refuses ETH (a contract without `receive`) reverts the estimate: that is
        // an answer about the address, not the chain being away.
        let chain = |e: agora_chain::Error| match e {
            agora_chain::Error::Contract(_) | agora_chain::Error::Reverted { .. } => ApiError::Rejected {
                code: "transfer_refused",
                message: format!("{to:#x} cannot take this transfer: {e}"),
            },
            e => ApiError::ChainUnavailable(e.to_string()),
        };
        let eth_tx = TransactionRequest::default().with_to(to).with_value(self.eth);
        let eth = self.sender.send_request(eth_tx).await.map_err(chain)?;
        let token = MarketToken::new(self.token, self.sender.provider());
        let mint = self.sender.send(token.mint(to, self.tokens)).await.map_err(chain)?;
        Ok(FaucetDto {
            address: format!("{to:#x}"),
            eth: self.eth.to_string(),
            token: self.tokens.to_string(),
            txs: vec![format!("{:#x}", eth.transaction_hash), format!("{:#x}", mint.transaction_hash)],
        })
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/faucet", post(give))
}

/// Who asks.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = FaucetRequest)]
pub(crate) struct FaucetRequest {
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    address: String,
}

/// What was given, in the smallest units, and the two transactions.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FaucetGift)]
pub struct FaucetDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    /// Wei sent.
    eth: String,
    /// MarketToken minted (18 decimals).
    token: String,
    /// The ETH transfer's and the mint's hashes.
    txs: Vec<String>,
}

/// Test ETH and MarketToken for a new wallet (embedded dev chain only)
#[utoipa::path(post, path = "/api/faucet", tag = "node", request_body = FaucetRequest, responses(
    (status = 200, description = "sent", body = FaucetDto),
    (status = 400, description = "not an address", body = ErrorBody),
    (status = 403, description = "this node runs no dev chain", body = ErrorBody),
    (status = 409, description = "this address was served before, is the zero address, or refuses ETH", body = ErrorBody),
    (status = 502, description = "the chain node could not be reached", body = ErrorBody),
))]
pub(crate) async fn give(
    State(s): State<AppState>,
    body: Result<Json<FaucetRequest>, JsonRejection>,
) -> Result<Json<FaucetDto>, ApiError> {
    let Json(body) = body?;
    let Some(faucet) = &s.faucet else {
        return Err(ApiError::Forbidden {
            code: "no_faucet",
            message: "the faucet serves the embedded dev chain only; fund this wallet on its own chain".into(),
        });
    };
    let to = params::address("address", &body.address)?;
    Ok(Json(faucet.give(to).await?))
}
