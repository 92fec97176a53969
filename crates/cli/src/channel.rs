//! `agora channel open|top-up|extend|show|settle|reclaim`: a payment channel's steps, sent through
//! the key's one `Sender`; the node's API says where the contracts are and what it has accepted.

use std::path::PathBuf;

use agora_node::client::{
    Address, B256, ChannelParams, ChannelTx, NodeApi, PrivateKeySigner, Sender, U256, hex, signer_from_key,
};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::local::ChannelFile;
use crate::out::{Failure, Out, Outcome};

/// Flags every client command takes.
#[derive(Args, Clone)]
pub(crate) struct ClientFlags {
    /// The node's API.
    #[arg(long, global = true, env = "AGORA_API", default_value = "http://127.0.0.1:8080")]
    pub(crate) api: String,
    /// The chain's JSON-RPC URL; default: the one the node's API names.
    #[arg(long, global = true)]
    pub(crate) rpc_url: Option<String>,
    /// Where channel records (`channels/<id>.json`, with their session keys) are kept.
    #[arg(long, global = true, default_value = ".agora")]
    pub(crate) data_dir: PathBuf,
    /// One JSON object per line, errors included.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The key that signs: the payer's (open, top-up, extend, reclaim, chat) or the payee's (settle).
#[derive(Args, Clone)]
pub(crate) struct KeyFlag {
    /// Private key, 0x hex.
    #[arg(long, env = "AGORA_KEY", hide_env_values = true)]
    pub(crate) key: String,
}

#[derive(Subcommand)]
pub(crate) enum ChannelCmd {
    /// Open a channel to the assistant's payee (approving the token first if needed) with a fresh
    /// session key as its signer, recorded under the data dir.
    Open {
        #[command(flatten)]
        key: KeyFlag,
        /// The deposit, in the token's smallest unit.
        #[arg(long)]
        amount: U256,
        /// `eth`, `market` (MarketToken) or an ERC-20 address; default: the assistant's price token.
        #[arg(long)]
        token: Option<String>,
        /// Default: the assistant's payee.
        #[arg(long)]
        payee: Option<Address>,
        /// Seconds until expiry, on the chain's clock.
        #[arg(long, default_value_t = 86_400)]
        expires_in: u64,
        /// Sign vouchers with this key instead of a fresh session key.
        #[arg(long, hide_env_values = true)]
        signer_key: Option<String>,
        /// Default: random.
        #[arg(long)]
        salt: Option<B256>,
    },
    /// Add to the deposit.
    TopUp {
        id: B256,
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        amount: U256,
    },
    /// Move the expiry later: to now + --expires-in seconds (chain clock).
    Extend {
        id: B256,
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        expires_in: u64,
    },
    /// The channel as the node and the chain see it.
    Show { id: B256 },
    /// The payee closes the channel with the highest voucher the node accepted.
    Settle {
        id: B256,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// The payer takes the deposit back, from the expiry on.
    Reclaim {
        id: B256,
        #[command(flatten)]
        key: KeyFlag,
    },
}

/// The node's network, read once.
pub(crate) struct Ctx {
    pub(crate) api: NodeApi,
    pub(crate) chain_id: u64,
    pub(crate) rpc_url: String,
    pub(crate) market_token: Address,
    pub(crate) contract: Address,
    pub(crate) flags: ClientFlags,
}

fn field<T: std::str::FromStr>(v: &Value, name: &str) -> Outcome<T> {
    v[name]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure::new("protocol", format!("the node's answer has no usable {name}: {v}")))
}

impl Ctx {
    pub(crate) async fn load(flags: &ClientFlags) -> Outcome<Self> {
        let api = NodeApi::new(&flags.api)?;
        let net = api.get_json("/api/network").await?;
        Ok(Self {
            chain_id: net["chainId"]
                .as_u64()
                .ok_or_else(|| Failure::new("protocol", format!("no chainId in {net}")))?,
            rpc_url: match &flags.rpc_url {
                Some(url) => url.clone(),
                None => field(&net, "rpcUrl")?,
            },
            market_token: field(&net, "marketToken")?,
            contract: field(&net, "paymentChannel")?,
            api,
            flags: flags.clone(),
        })
    }

    pub(crate) async fn sender(&self, key: &PrivateKeySigner) -> Outcome<Sender> {
        Ok(agora_node::client::sender(&self.rpc_url, key).await?)
    }

    pub(crate) async fn tx(&self, key: &PrivateKeySigner) -> Outcome<ChannelTx> {
        Ok(ChannelTx::new(self.sender(key).await?, self.contract))
    }

    /// A channel's parameters: from this machine's record, else from the node's index.
    pub(crate) async fn params(&self, id: B256) -> Outcome<ChannelParams> {
        if let Some(file) = ChannelFile::load(&self.flags.data_dir, id)? {
            return Ok(file.params());
        }
        let ch = self.api.get_json(&format!("/api/channels/{id}")).await?;
        Ok(ChannelParams {
            payer: field(&ch, "payer")?,
            payee: field(&ch, "payee")?,
            token: field(&ch, "token")?,
            signer: field(&ch, "signer")?,
            salt: field(&ch, "salt")?,
        })
    }
}

/// 32 random bytes (a fresh key's, which the signer library draws from the system's randomness).
pub(crate) fn random_b256() -> B256 {
    PrivateKeySigner::random().to_bytes()
}

pub(crate) fn key(text: &str) -> Outcome<PrivateKeySigner> {
    Ok(signer_from_key(text)?)
}

pub(crate) async fn run(cmd: ChannelCmd, flags: &ClientFlags, out: Out) -> Outcome {
    let ctx = Ctx::load(flags).await?;
    match cmd {
        ChannelCmd::Open { key: k, amount, token, payee, expires_in, signer_key, salt } => {
            let payer = key(&k.key)?;
            let (default_payee, default_token) = match ctx.api.models().await {
                Ok(m) => (Some(m.payee), m.models.first().map(|m| m.pricing.token)),
                Err(_) => (None, None),
            };
            let payee = payee.or(default_payee).ok_or_else(|| {
                Failure::new("no_payee", "the node runs no assistant: name the channel's payee with --payee")
            })?;
            let token = match token.as_deref().map(str::trim) {
                None => default_token.unwrap_or(ctx.market_token),
                Some(t) if t.eq_ignore_ascii_case("eth") => Address::ZERO,
                Some(t) if t.eq_ignore_ascii_case("market") => ctx.market_token,
                Some(t) => t
                    .parse()
                    .map_err(|_| Failure::new("bad_token", format!("{t:?} is not eth, market or an address")))?,
            };
            let session = match &signer_key {
                Some(text) => key(text)?,
                None => PrivateKeySigner::random(),
            };
            let salt = salt.unwrap_or_else(random_b256);
            let params = ChannelParams { payer: payer.address(), payee, token, signer: session.address(), salt };
            let tx = ctx.tx(&payer).await?;
            let expiry = tx.chain_now().await? + expires_in;
            let id = tx.channel_id(&params);
            // Recorded before the transaction, so the session key is never lost with a deposit behind it.
            let file = ChannelFile::new(&params, id, ctx.chain_id, ctx.contract, &session);
            let path = file.save(&flags.data_dir)?;
            let opened = tx.open(&params, amount, expiry).await?;
            out.result(
                &json!({
                    "channelId": id, "payer": params.payer, "payee": payee, "token": token, "signer": params.signer,
                    "salt": salt, "deposit": amount.to_string(), "expiry": expiry, "approveTx": opened.approve_tx,
                    "openTx": opened.open_tx, "file": path.display().to_string(),
                }),
                &format!(
                    "opened channel {id}\n  deposit {amount} of {}, expires at {expiry}\n  session key {} recorded in {}",
                    token_name(token, ctx.market_token),
                    params.signer,
                    path.display()
                ),
            );
        }
        ChannelCmd::TopUp { id, key: k, amount } => {
            let params = payer_params(&ctx, id, &k).await?;
            let tx = ctx.tx(&key(&k.key)?).await?;
            let hash = tx.top_up(&params, amount).await?;
            let now = tx.read(id).await?;
            out.result(
                &json!({ "channelId": id, "tx": hash, "deposit": now.deposit.to_string() }),
                &format!("topped up channel {id} by {amount}: the deposit is {} ({hash})", now.deposit),
            );
        }
        ChannelCmd::Extend { id, key: k, expires_in } => {
            let params = payer_params(&ctx, id, &k).await?;
            let tx = ctx.tx(&key(&k.key)?).await?;
            let expiry = tx.chain_now().await? + expires_in;
            let hash = tx.extend(&params, expiry).await?;
            out.result(
                &json!({ "channelId": id, "tx": hash, "expiry": expiry }),
                &format!("channel {id} now expires at {expiry} ({hash})"),
            );
        }
        ChannelCmd::Show { id } => show(&ctx, id, out).await?,
        ChannelCmd::Settle { id, key: k } => {
            let payee = key(&k.key)?;
            let ch = ctx.api.get_json(&format!("/api/channels/{id}")).await?;
            let params = ctx.params(id).await?;
            if params.payee != payee.address() {
                return Err(Failure::new("not_payee", format!("{} is not the payee of channel {id}", payee.address())));
            }
            let voucher = &ch["lastVoucher"];
            let (amount, signature) = if voucher.is_null() {
                (U256::ZERO, Vec::new())
            } else {
                let amount: U256 = field(voucher, "cumulativeAmount")?;
                let sig = voucher["signature"].as_str().and_then(|s| hex::decode(s).ok());
                (
                    amount,
                    sig.ok_or_else(|| Failure::new("protocol", format!("a voucher without a signature: {voucher}")))?,
                )
            };
            let tx = ctx.tx(&payee).await?;
            let hash = tx.close(&params, amount, &signature).await?;
            out.result(
                &json!({ "channelId": id, "tx": hash, "paidToPayee": amount.to_string() }),
                &format!("settled channel {id}: {amount} paid to {} ({hash})", payee.address()),
            );
        }
        ChannelCmd::Reclaim { id, key: k } => {
            let params = payer_params(&ctx, id, &k).await?;
            let tx = ctx.tx(&key(&k.key)?).await?;
            let hash = tx.reclaim(&params).await?;
            out.result(&json!({ "channelId": id, "tx": hash }), &format!("reclaimed channel {id} ({hash})"));
        }
    }
    Ok(())
}

/// The parameters of a channel the key pays from.
async fn payer_params(ctx: &Ctx, id: B256, k: &KeyFlag) -> Outcome<ChannelParams> {
    let params = ctx.params(id).await?;
    let who = key(&k.key)?.address();
    if params.payer != who {
        return Err(Failure::new("not_payer", format!("{who} is not the payer of channel {id}")));
    }
    Ok(params)
}

fn token_name(token: Address, market: Address) -> String {
    if token == Address::ZERO {
        "ETH (wei)".into()
    } else if token == market {
        format!("MarketToken {token}")
    } else {
        format!("token {token}")
    }
}

async fn show(ctx: &Ctx, id: B256, out: Out) -> Outcome {
    let indexed = match ctx.api.get_json(&format!("/api/channels/{id}")).await {
        Ok(v) => v,
        Err(agora_node::client::ClientError::Api { status: 404, .. }) => Value::Null,
        Err(e) => return Err(e.into()),
    };
    let account = ctx.api.get_json(&format!("/api/assistant/channels/{id}")).await.ok();
    let provider_key = PrivateKeySigner::random(); // reads only: any key's sender can read
    let on_chain = ctx.tx(&provider_key).await?.read(id).await?;
    let file = ChannelFile::load(&ctx.flags.data_dir, id)?;
    let file_path = file.as_ref().map(|_| ChannelFile::path(&ctx.flags.data_dir, id).display().to_string());
    let billed = account.as_ref().and_then(|a| a["billed"].as_str().map(str::to_owned));
    let accepted = account.as_ref().and_then(|a| a["accepted"].as_str().map(str::to_owned));
    if out.json {
        out.object(&json!({
            "channelId": id,
            "chain": { "deposit": on_chain.deposit.to_string(), "expiry": on_chain.expiry, "state": on_chain.state },
            "node": indexed,
            "assistant": account.map(|mut a| { a.as_object_mut().map(|o| o.remove("replies")); a }),
            "billed": billed,
            "accepted": accepted,
            "highestSigned": file.as_ref().map(|f| f.highest_signed.clone()),
            "file": file_path,
        }));
        return Ok(());
    }
    out.say(&format!("channel {id}"));
    out.say(&format!("  on chain: {}, deposit {}, expires at {}", on_chain.state, on_chain.deposit, on_chain.expiry));
    if !indexed.is_null() {
        let s = |k: &str| indexed[k].as_str().unwrap_or("-").to_owned();
        out.say(&format!(
            "  payer {} → payee {}, token {}, signer {}",
            s("payer"),
            s("payee"),
            s("token"),
            s("signer")
        ));
        out.say(&format!("  indexed state {}, highest voucher {}", s("state"), s("spent")));
    }
    if let (Some(b), Some(a)) = (billed, accepted) {
        out.say(&format!("  assistant: billed {b}, accepted {a}"));
    }
    if let Some(p) = file_path {
        out.say(&format!("  session key recorded in {p}"));
    }
    Ok(())
}
