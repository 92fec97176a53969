//! The assistant on a real anvil, a real channel, the real payee ledger and the real local model
//! (SmolLM2 through llama.cpp; `make model` fetches it): replies paid chunk by chunk, every refusal
//! the protocol names, a resumed reply after a dropped connection and after a restart, the
//! OpenAI door's credit of one reply, and a channel closed on chain mid-reply.

use std::sync::Arc;
use std::time::Duration;

use agora_assistant::openai::{ChatRequest, HeaderVoucher};
use agora_assistant::protocol::{ErrorCode, FinishReason, SeenPrices, ServerMsg, StartMsg, VoucherMsg};
use agora_assistant::{Assistant, AssistantConfig, Caller, Offer, Pricing};
use agora_chain::bindings::PaymentChannel;
use agora_chain::deploy::Deployments;
use agora_chain::testing::{BUYER, OWNER, PROVIDER, TestChain, send};
use agora_channels::{ChannelParams, Ledger, LedgerConfig, VoucherDomain};
use agora_indexer::{Indexer, IndexerConfig};
use agora_llm::{ChatMessage, LocalModel, LocalOptions, Model, Role};
use agora_store::testing::TestDb;
use agora_store::{ReplyStatus, Store};
use alloy::primitives::{Address, B256, U256, hex};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use tokio::sync::mpsc;

const DEPOSIT: u64 = 1_000_000_000_000_000_000;
/// Per 1,000 tokens: a 40-token reply to a short prompt costs a few hundred thousand units.
const PROMPT_PER_1K: u64 = 1_000_000;
const COMPLETION_PER_1K: u64 = 3_000_000;

fn model_path() -> std::path::PathBuf {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
    let path = home.join(".cache/agora/models").join(agora_llm::MODEL_FILE);
    assert!(path.exists(), "the model {} is missing: run `make model`", path.display());
    path
}

struct Rig {
    chain: TestChain,
    db: TestDb,
    domain: VoucherDomain,
    ledger: Ledger,
    model: Arc<dyn Model>,
    payer: Address,
    session: PrivateKeySigner,
    params: ChannelParams,
    channel: B256,
}

impl Rig {
    async fn start() -> anyhow::Result<Self> {
        let chain = TestChain::start().await?;
        let db = TestDb::sqlite().await?;
        let session = PrivateKeySigner::random();
        let params = ChannelParams {
            payer: chain.address(BUYER),
            payee: chain.address(PROVIDER),
            token: Address::ZERO,
            signer: session.address(),
            salt: alloy::primitives::keccak256(session.address()),
        };
        let payer = chain.provider(BUYER);
        let now =
            payer.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?.expect("block").header.timestamp;
        send(
            PaymentChannel::new(chain.d.payment_channel, payer.clone())
                .open(params.payee, params.token, U256::from(DEPOSIT), now + 7200, params.salt, params.signer)
                .value(U256::from(DEPOSIT)),
        )
        .await?;
        let channel = params.channel_id(chain.d.chain_id, chain.d.payment_channel);
        let mut cfg = LedgerConfig::new(chain.d.chain_id, chain.d.payment_channel);
        cfg.payees = vec![params.payee];
        // As the node wires it: the ledger's clock follows the chain's blocks.
        cfg.contract_signers = Some(chain.provider(OWNER));
        cfg.clock_every = Duration::from_millis(50);
        let ledger = Ledger::start(db.store.clone(), cfg).await?;
        let model: Arc<dyn Model> =
            Arc::new(LocalModel::load(model_path(), LocalOptions { threads: 1, ..LocalOptions::default() }).await?);
        let rig = Self {
            domain: VoucherDomain::new(chain.d.chain_id, chain.d.payment_channel),
            payer: params.payer,
            chain,
            db,
            ledger,
            model,
            session,
            params,
            channel,
        };
        rig.sync().await?;
        Ok(rig)
    }

    fn deployments(&self) -> &Deployments {
        &self.chain.d
    }

    fn store(&self) -> &Store {
        &self.db.store
    }

    fn indexer(&self) -> Indexer {
        let d = self.deployments();
        let cfg = IndexerConfig::new(d.chain_id, d.indexed_contracts(), d.deploy_block);
        Indexer::new(agora_chain::read_provider(self.chain.url()).expect("url"), self.store().clone(), cfg)
    }

    async fn sync(&self) -> anyhow::Result<()> {
        let head = self.chain.provider(OWNER).get_block_number().await?;
        self.indexer().sync_to(head).await?;
        Ok(())
    }

    fn pricing(&self) -> Pricing {
        Pricing {
            token: Address::ZERO,
            prompt_per_1k: U256::from(PROMPT_PER_1K),
            completion_per_1k: U256::from(COMPLETION_PER_1K),
        }
    }

    fn assistant(&self, payment_timeout: Duration) -> Assistant {
        let mut cfg = AssistantConfig::new(self.deployments().chain_id, self.params.payee);
        cfg.payment_timeout = payment_timeout;
        cfg.chunk_max_tokens = 4;
        let offer = Offer { model: self.model.clone(), pricing: self.pricing() };
        Assistant::new(self.store().clone(), self.ledger.clone(), vec![offer], cfg)
    }

    fn start_msg(&self, request_id: &str, max_tokens: u32) -> StartMsg {
        StartMsg {
            request_id: request_id.into(),
            channel_id: self.channel,
            model: self.model.id().into(),
            messages: vec![ChatMessage::new(Role::User, "Tell me a long story about a lighthouse keeper.")],
            max_tokens,
            prices: SeenPrices { prompt: U256::from(PROMPT_PER_1K), completion: U256::from(COMPLETION_PER_1K) },
            voucher: None,
        }
    }

    fn voucher(&self, amount: U256) -> String {
        hex::encode_prefixed(self.domain.sign(&self.session, self.channel, amount).expect("sign"))
    }

    fn caller(&self) -> Caller {
        Caller::Wallet(self.payer)
    }
}

async fn next(rx: &mut mpsc::Receiver<ServerMsg>) -> ServerMsg {
    tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.expect("a message within a minute").expect("open")
}

/// Pays every chunk as it comes until the reply is done; returns the chunks' (seq, cumulative) and
/// the final `done`.
async fn pay_through(
    rig: &Rig,
    a: &Assistant,
    id: &str,
    rx: &mut mpsc::Receiver<ServerMsg>,
) -> (Vec<(u32, U256)>, ServerMsg) {
    let mut chunks = Vec::new();
    loop {
        match next(rx).await {
            ServerMsg::Chunk { seq, cumulative, .. } => {
                if chunks.last().is_some_and(|(s, _)| *s >= seq) {
                    continue; // a replayed chunk
                }
                chunks.push((seq, cumulative));
                let accepted = a.pay_reply(rig.caller(), id, cumulative, &rig.voucher(cumulative)).await.expect("paid");
                assert_eq!(accepted, cumulative);
            }
            ServerMsg::Paid { .. } | ServerMsg::Started { .. } => {}
            done @ ServerMsg::Done { .. } => return (chunks, done),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_reply_is_paid_chunk_by_chunk_and_every_wei_is_accounted_for() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let a = rig.assistant(Duration::from_secs(60));
    let (tx, mut rx) = mpsc::channel(64);
    a.start(rig.caller(), rig.start_msg("r1", 24), tx).await.expect("started");
    let ServerMsg::Started { base, prompt_tokens, max_cost, .. } = next(&mut rx).await else { panic!("no started") };
    assert_eq!(base, U256::ZERO);
    assert!(prompt_tokens > 0);
    assert_eq!(max_cost, rig.pricing().cost(prompt_tokens, 24));
    let (chunks, done) = pay_through(&rig, &a, "r1", &mut rx).await;
    let ServerMsg::Done { finish, completion_tokens, cost, cumulative, .. } = done else { unreachable!() };
    assert!(matches!(finish, FinishReason::Stop | FinishReason::Length));
    assert!(completion_tokens > 0 && completion_tokens <= 24);
    // The chunks' amounts are the price formula over the tokens delivered, strictly increasing.
    assert_eq!(cost, rig.pricing().cost(prompt_tokens, completion_tokens));
    assert_eq!(cumulative, base + cost);
    assert_eq!(chunks.last().map(|c| c.1), Some(cumulative));
    assert!(chunks.windows(2).all(|w| w[0].1 < w[1].1 || w[0].1 == w[1].1 && w[0].0 < w[1].0));
    assert_eq!(chunks.iter().map(|c| c.0).collect::<Vec<_>>(), (1..=chunks.len() as u32).collect::<Vec<_>>());
    // Billed, paid and recorded agree.
    assert_eq!(a.billed(rig.channel).await?, cumulative);
    assert_eq!(a.accepted(rig.channel).await?, cumulative);
    let recorded = rig.store().reply_chunks(rig.deployments().chain_id, "r1", 0).await?;
    assert_eq!(recorded.iter().map(|c| c.tokens).sum::<u32>(), completion_tokens);
    let row = a.reply("r1").await?.expect("stored");
    assert_eq!(row.status, ReplyStatus::Done);
    assert_eq!(row.cost, cost);

    // The same request id again replays the reply and pays nothing more.
    let (tx, mut rx) = mpsc::channel(64);
    a.start(rig.caller(), rig.start_msg("r1", 24), tx).await.expect("replayed");
    let mut replayed = 0;
    loop {
        match next(&mut rx).await {
            ServerMsg::Chunk { .. } => replayed += 1,
            ServerMsg::Done { cumulative: c, .. } => {
                assert_eq!(c, cumulative);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(replayed, chunks.len());
    assert_eq!(a.billed(rig.channel).await?, cumulative);
    Ok(())
}

#[tokio::test]
async fn no_chunk_goes_out_unpaid_and_every_bad_request_is_refused_with_its_reason() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let a = rig.assistant(Duration::from_millis(1500));
    let refused = |r: Result<(), agora_assistant::Refusal>| r.expect_err("refused").code;

    // Terms: another price, another model, a wallet that is not the payer.
    let (tx, _rx) = mpsc::channel(64);
    let mut cheaper = rig.start_msg("t1", 8);
    cheaper.prices.completion = U256::from(1);
    assert_eq!(refused(a.start(rig.caller(), cheaper, tx.clone()).await), ErrorCode::TermsChanged);
    let mut unknown = rig.start_msg("t2", 8);
    unknown.model = "gpt-9".into();
    assert_eq!(refused(a.start(rig.caller(), unknown, tx.clone()).await), ErrorCode::UnknownModel);
    let stranger = Caller::Wallet(Address::repeat_byte(9));
    assert_eq!(refused(a.start(stranger, rig.start_msg("t3", 8), tx.clone()).await), ErrorCode::NotYourChannel);
    assert_eq!(refused(a.start(rig.caller(), rig.start_msg("t4", 100_000), tx.clone()).await), ErrorCode::BadMessage);

    // A payer who stops paying costs one chunk: the next message after chunk 1 is the timeout.
    let (tx, mut rx) = mpsc::channel(64);
    a.start(rig.caller(), rig.start_msg("r1", 24), tx).await.expect("started");
    assert!(matches!(next(&mut rx).await, ServerMsg::Started { .. }));
    let ServerMsg::Chunk { seq: 1, cumulative: first, .. } = next(&mut rx).await else { panic!("no chunk 1") };
    let ServerMsg::Error { code, owed, .. } = next(&mut rx).await else { panic!("a second chunk went out unpaid") };
    assert_eq!((code, owed), (ErrorCode::PaymentTimeout, Some(first)));
    assert_eq!(a.billed(rig.channel).await?, first);

    // The next reply is refused until what is owed is paid, then paid with the start message.
    let (tx, mut rx) = mpsc::channel(64);
    let err = a.start(rig.caller(), rig.start_msg("r2", 8), tx.clone()).await.expect_err("owed");
    assert_eq!((err.code, err.owed), (ErrorCode::Owed, Some(first)));
    // A forged voucher (another key), a replay below the accepted amount, and one over the deposit.
    let forged = hex::encode_prefixed(rig.domain.sign(&PrivateKeySigner::random(), rig.channel, first)?);
    assert_eq!(a.pay(rig.channel, first, &forged).await.expect_err("forged").code, ErrorCode::VoucherRefused);
    let over = U256::from(DEPOSIT) + U256::from(1);
    assert_eq!(a.pay(rig.channel, over, &rig.voucher(over)).await.expect_err("over").code, ErrorCode::DepositSpent);
    let mut paying = rig.start_msg("r2", 8);
    paying.voucher = Some(VoucherMsg { amount: first, signature: rig.voucher(first) });
    a.start(rig.caller(), paying, tx).await.expect("started after paying");
    let ServerMsg::Started { base, .. } = next(&mut rx).await else { panic!("no started") };
    assert_eq!(base, first);
    let half = first - U256::from(1);
    assert_eq!(a.pay(rig.channel, half, &rig.voucher(half)).await.expect_err("replay").code, ErrorCode::VoucherRefused);
    // A second reply on the same channel while this one streams.
    let (tx2, _rx2) = mpsc::channel(64);
    assert_eq!(refused(a.start(rig.caller(), rig.start_msg("r3", 8), tx2).await), ErrorCode::Busy);
    let (_, done) = pay_through(&rig, &a, "r2", &mut rx).await;
    let ServerMsg::Done { cumulative, .. } = done else { unreachable!() };
    assert_eq!(a.accepted(rig.channel).await?, cumulative);

    // The same request id for a different request.
    let (tx, _rx) = mpsc::channel(64);
    let mut other = rig.start_msg("r2", 9);
    other.messages[0].content = "Something else".into();
    assert_eq!(refused(a.start(rig.caller(), other, tx.clone()).await), ErrorCode::IdempotencyConflict);

    // A reply that could cost more than the deposit left.
    let mut greedy = Rig::pricing(&rig);
    greedy.completion_per_1k = U256::from(DEPOSIT);
    let pricey = Assistant::new(
        rig.store().clone(),
        rig.ledger.clone(),
        vec![Offer { model: rig.model.clone(), pricing: greedy }],
        AssistantConfig::new(rig.deployments().chain_id, rig.params.payee),
    );
    let mut big = rig.start_msg("r4", 1024);
    big.prices.completion = U256::from(DEPOSIT);
    let err = pricey.start(rig.caller(), big, tx).await.expect_err("too dear");
    assert_eq!(err.code, ErrorCode::DepositSpent);
    assert_eq!(err.deposit, Some(U256::from(DEPOSIT)));
    Ok(())
}

/// Moves the dev chain's clock to `to` (a block with that timestamp) and waits for the ledger's
/// clock to see it. The machine's clock stays where it is.
async fn chain_time(rig: &Rig, to: u64) -> anyhow::Result<()> {
    let owner = rig.chain.provider(OWNER);
    owner.raw_request::<_, serde_json::Value>("evm_setNextBlockTimestamp".into(), (to,)).await?;
    owner.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rig.ledger.chain_now() < to {
        assert!(tokio::time::Instant::now() < deadline, "the ledger's clock never saw the block at {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_channel_near_or_past_its_expiry_on_chain_is_refused_with_the_way_out() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let a = rig.assistant(Duration::from_secs(60));
    let expiry = rig.store().channel(rig.deployments().chain_id, rig.channel).await?.expect("indexed").expiry;
    let one = U256::from(1);

    // Ten minutes before the expiry by the chain's clock (its time moved on; the machine's did
    // not): inside the 15-minute margin, the payer may still extend the channel.
    chain_time(&rig, expiry - 600).await?;
    assert!(wall_now() + 3600 < expiry, "only the chain's clock is near the expiry");
    let (tx, _rx) = mpsc::channel(64);
    let err = a.start(rig.caller(), rig.start_msg("e1", 8), tx).await.expect_err("expiring");
    assert_eq!((err.code, err.expiry), (ErrorCode::Expiring, Some(expiry)));
    assert!(
        err.message.contains(&format!("expires at {expiry}")) && err.message.contains("extends"),
        "{}",
        err.message
    );
    let err = a.pay(rig.channel, one, &rig.voucher(one)).await.expect_err("expiring voucher");
    assert_eq!((err.code, err.expiry), (ErrorCode::Expiring, Some(expiry)));
    assert!(err.message.contains("extends"), "{}", err.message);

    // Past the expiry: the payee can no longer close it, so nothing offers to extend; the payer's
    // reclaim is what is left.
    chain_time(&rig, expiry + 5).await?;
    let (tx, _rx) = mpsc::channel(64);
    let err = a.start(rig.caller(), rig.start_msg("e2", 8), tx).await.expect_err("expired");
    assert_eq!((err.code, err.expiry), (ErrorCode::Expired, Some(expiry)));
    assert!(
        err.message.contains(&format!("expired at {expiry}")) && err.message.contains("reclaim"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("extend"), "{}", err.message);
    let err = a.pay(rig.channel, one, &rig.voucher(one)).await.expect_err("expired voucher");
    assert_eq!((err.code, err.expiry), (ErrorCode::Expired, Some(expiry)));
    assert!(err.message.contains("reclaim") && !err.message.contains("extend"), "{}", err.message);
    assert_eq!(a.accepted(rig.channel).await?, U256::ZERO);
    // The OpenAI door answers it as a payment problem.
    assert_eq!(agora_assistant::openai::status_of(ErrorCode::Expired), 402);
    Ok(())
}

/// The machine's clock, unix seconds.
fn wall_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

#[tokio::test]
async fn a_reply_resumes_after_a_dropped_connection_and_after_a_restart_without_paying_twice() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    // The first node never times out: it stands for a process that died with the reply unfinished.
    let first_node = rig.assistant(Duration::from_secs(3600));
    let (tx, mut rx) = mpsc::channel(64);
    first_node.start(rig.caller(), rig.start_msg("r1", 32), tx).await.expect("started");
    assert!(matches!(next(&mut rx).await, ServerMsg::Started { .. }));
    let ServerMsg::Chunk { seq: 1, cumulative, .. } = next(&mut rx).await else { panic!("no chunk 1") };
    first_node.pay_reply(rig.caller(), "r1", cumulative, &rig.voucher(cumulative)).await.expect("paid");
    // The connection drops; the reply waits. A new connection resumes from chunk 1.
    drop(rx);
    let ServerMsg::Chunk { seq: 2, cumulative: second, text: second_text, .. } = ({
        let (tx, mut rx) = mpsc::channel(64);
        first_node.resume(rig.caller(), "r1", 1, None, tx).await.expect("resumed");
        let mut msg = next(&mut rx).await;
        while matches!(msg, ServerMsg::Paid { .. }) {
            msg = next(&mut rx).await;
        }
        msg
    }) else {
        panic!("no chunk 2 after the resume")
    };
    assert!(second > cumulative && !second_text.is_empty());

    // The node restarts (a second one on the same database); the client resumes holding chunk 2
    // and its voucher, which the node never acknowledged.
    let second_node = rig.assistant(Duration::from_secs(60));
    let (tx, mut rx) = mpsc::channel(64);
    let voucher = VoucherMsg { amount: second, signature: rig.voucher(second) };
    second_node.resume(rig.caller(), "r1", 2, Some(voucher.clone()), tx).await.expect("resumed after restart");
    let ServerMsg::Paid { accepted, .. } = next(&mut rx).await else { panic!("the voucher was not acknowledged") };
    assert_eq!(accepted, second);
    // The same voucher again is harmless.
    assert_eq!(second_node.pay(rig.channel, second, &voucher.signature).await.expect("same voucher"), second);
    let (chunks, done) = pay_through(&rig, &second_node, "r1", &mut rx).await;
    assert!(chunks.first().is_none_or(|c| c.0 == 3), "generation went on after chunk 2: {chunks:?}");
    let ServerMsg::Done { cumulative: total, completion_tokens, .. } = done else { unreachable!() };
    assert_eq!(second_node.accepted(rig.channel).await?, total);
    assert_eq!(second_node.billed(rig.channel).await?, total);
    let recorded = rig.store().reply_chunks(rig.deployments().chain_id, "r1", 0).await?;
    assert_eq!(recorded.iter().map(|c| c.tokens).sum::<u32>(), completion_tokens);
    assert!(completion_tokens <= 32);
    Ok(())
}

#[tokio::test]
async fn the_openai_door_gives_one_reply_of_credit_and_then_asks_for_it() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let a = rig.assistant(Duration::from_secs(60));
    let request: ChatRequest = serde_json::from_value(serde_json::json!({
        "model": rig.model.id(), "max_tokens": 12,
        "messages": [{"role": "user", "content": "Say hello."}],
    }))?;
    let header = |amount: U256| HeaderVoucher { channel_id: rig.channel, amount, signature: rig.voucher(amount) };
    // No voucher was ever stored: a voucher for 0 proves the caller holds the signer.
    let mut rx = a.complete(&header(U256::ZERO), &request, "o1".into()).await.expect("served");
    let billed = loop {
        if let ServerMsg::Done { cumulative, .. } = next(&mut rx).await {
            break cumulative;
        }
    };
    assert!(billed > U256::ZERO);
    assert_eq!(a.accepted(rig.channel).await?, U256::ZERO);
    // The next request must pay the first reply.
    let err = a.complete(&header(U256::ZERO), &request, "o2".into()).await.expect_err("owed");
    assert_eq!((err.code, err.owed), (ErrorCode::Owed, Some(billed)));
    let forged = HeaderVoucher { signature: hex::encode_prefixed([7u8; 65]), ..header(billed) };
    assert_eq!(a.complete(&forged, &request, "o3".into()).await.expect_err("forged").code, ErrorCode::VoucherRefused);
    let mut rx = a.complete(&header(billed), &request, "o4".into()).await.expect("served after paying");
    while !matches!(next(&mut rx).await, ServerMsg::Done { .. }) {}
    assert_eq!(a.accepted(rig.channel).await?, billed);
    Ok(())
}

#[tokio::test]
async fn a_channel_closed_on_chain_stops_its_reply_and_is_never_paid_again() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let a = rig.assistant(Duration::from_secs(60));
    let (tx, mut rx) = mpsc::channel(64);
    a.start(rig.caller(), rig.start_msg("r1", 32), tx).await.expect("started");
    assert!(matches!(next(&mut rx).await, ServerMsg::Started { .. }));
    let ServerMsg::Chunk { cumulative, .. } = next(&mut rx).await else { panic!("no chunk") };
    a.pay_reply(rig.caller(), "r1", cumulative, &rig.voucher(cumulative)).await.expect("paid");
    // The payee closes the channel with the voucher it holds.
    let payee: DynProvider = rig.chain.provider(PROVIDER);
    let p = &rig.params;
    let sig = rig.domain.sign(&rig.session, rig.channel, cumulative)?;
    send(PaymentChannel::new(rig.deployments().payment_channel, payee).close(
        p.payer,
        p.token,
        p.signer,
        p.salt,
        cumulative,
        sig.to_vec().into(),
    ))
    .await?;
    let indexer = rig.indexer();
    let mut applied = indexer.subscribe();
    indexer.sync_to(rig.chain.provider(OWNER).get_block_number().await?).await?;
    rig.ledger.forget_all();
    while let Ok(log) = applied.try_recv() {
        a.on_event(&log.event);
    }
    loop {
        match next(&mut rx).await {
            ServerMsg::Error { code, .. } => {
                assert_eq!(code, ErrorCode::ChannelClosed);
                break;
            }
            ServerMsg::Chunk { cumulative: c, .. } => {
                // Generated before the close was seen: its voucher is refused as the channel is closed.
                let err = a.pay_reply(rig.caller(), "r1", c, &rig.voucher(c)).await.expect_err("closed");
                assert_eq!(err.code, ErrorCode::ChannelClosed);
            }
            ServerMsg::Paid { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let (tx, _rx) = mpsc::channel(64);
    let err = a.start(rig.caller(), rig.start_msg("r2", 8), tx).await.expect_err("closed");
    assert_eq!(err.code, ErrorCode::ChannelClosed);
    Ok(())
}
