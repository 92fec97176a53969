//! Channels on a real anvil: the payee ledger's checks, its durability across a restart, auto-settle
//! closing with the highest voucher, and byte-for-byte interop with viem.

use std::process::Command;

use agora_chain::anvil::Anvil;
use agora_chain::bindings::PaymentChannel;
use agora_chain::deploy::Deployments;
use agora_chain::testing::send;
use agora_chain::testing::{BUYER, OWNER, PROVIDER, TestChain};
use agora_channels::settle::{Settler, SettlerConfig};
use agora_channels::voucher::SignatureError;
use agora_channels::{ChannelParams, Ledger, LedgerConfig, PayerChannel, VoucherDomain, VoucherError};
use agora_indexer::{Indexer, IndexerConfig};
use agora_store::testing::TestDb;
use agora_store::{ChannelState, SettlementOutcome};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;

const DEPOSIT: u64 = 1_000_000_000_000_000_000;

struct Env {
    anvil: Anvil,
    d: Deployments,
    payer: DynProvider,
    payer_addr: Address,
    payee: DynProvider,
    payee_addr: Address,
}

async fn env() -> anyhow::Result<Env> {
    let c = TestChain::start().await?;
    let (payer, payer_addr) = (c.provider(BUYER), c.address(BUYER));
    let (payee, payee_addr) = (c.provider(PROVIDER), c.address(PROVIDER));
    Ok(Env { anvil: c.anvil, d: c.d, payer, payer_addr, payee, payee_addr })
}

/// Opens an ETH channel payer → payee with a fresh session key; returns its params, id and key.
async fn open(e: &Env, expiry_in: u64) -> anyhow::Result<(ChannelParams, B256, PrivateKeySigner)> {
    let session = PrivateKeySigner::random();
    let now =
        e.payer.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?.expect("block").header.timestamp;
    let params = ChannelParams {
        payer: e.payer_addr,
        payee: e.payee_addr,
        token: Address::ZERO,
        signer: session.address(),
        salt: alloy::primitives::keccak256(session.address()),
    };
    let contract = PaymentChannel::new(e.d.payment_channel, e.payer.clone());
    send(
        contract
            .open(params.payee, params.token, U256::from(DEPOSIT), now + expiry_in, params.salt, params.signer)
            .value(U256::from(DEPOSIT)),
    )
    .await?;
    Ok((params, params.channel_id(e.d.chain_id, e.d.payment_channel), session))
}

fn indexer(e: &Env, db: &TestDb) -> Indexer {
    let cfg = IndexerConfig::new(e.d.chain_id, e.d.indexed_contracts(), e.d.deploy_block);
    Indexer::new(agora_chain::read_provider(e.anvil.url()).expect("url"), db.store.clone(), cfg)
}

async fn sync(e: &Env, db: &TestDb) -> anyhow::Result<()> {
    indexer(e, db).sync_to(e.payer.get_block_number().await?).await?;
    Ok(())
}

fn ledger_config(e: &Env) -> LedgerConfig {
    let mut cfg = LedgerConfig::new(e.d.chain_id, e.d.payment_channel);
    cfg.payees = vec![e.payee_addr];
    cfg
}

#[tokio::test]
async fn the_ledger_accepts_only_good_increasing_vouchers_and_remembers_them() -> anyhow::Result<()> {
    let e = env().await?;
    let (_, id, session) = open(&e, 3600).await?;
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    let sign = |amount: u64| domain.sign(&session, id, U256::from(amount)).expect("sign");

    for db in TestDb::both().await? {
        sync(&e, &db).await?;
        let channel = db.store.channel(e.d.chain_id, id).await?.expect("indexed");
        assert_eq!(channel.state, ChannelState::Open);
        assert_eq!(channel.deposit, U256::from(DEPOSIT));

        let ledger = Ledger::start(db.store.clone(), ledger_config(&e)).await?;
        assert_eq!(ledger.submit(id, U256::from(10), &sign(10)).await, Ok(U256::from(10)));
        assert_eq!(
            ledger.submit(id, U256::from(10), &sign(10)).await,
            Err(VoucherError::Stale { amount: U256::from(10), accepted: U256::from(10) }),
            "{}: a replayed voucher",
            db.label
        );
        assert!(matches!(ledger.submit(id, U256::from(5), &sign(5)).await, Err(VoucherError::Stale { .. })));
        let over = DEPOSIT + 1;
        assert_eq!(
            ledger.submit(id, U256::from(over), &sign(over)).await,
            Err(VoucherError::OverDeposit { amount: U256::from(over), deposit: U256::from(DEPOSIT) })
        );
        // Signed by someone else, or for another amount than claimed.
        let stranger = PrivateKeySigner::random();
        let forged = domain.sign(&stranger, id, U256::from(20))?;
        assert!(matches!(ledger.submit(id, U256::from(20), &forged).await, Err(VoucherError::WrongSigner { .. })));
        assert!(matches!(ledger.submit(id, U256::from(21), &sign(20)).await, Err(VoucherError::WrongSigner { .. })));
        // Signed for another chain.
        let other_chain = VoucherDomain::new(1, e.d.payment_channel).sign(&session, id, U256::from(20))?;
        assert!(matches!(ledger.submit(id, U256::from(20), &other_chain).await, Err(VoucherError::WrongSigner { .. })));
        assert_eq!(
            ledger.submit(id, U256::from(20), &sign(20)[..64]).await,
            Err(VoucherError::BadSignature(SignatureError::Length(64)))
        );
        assert_eq!(
            ledger.submit(B256::repeat_byte(0xab), U256::from(1), &sign(1)).await,
            Err(VoucherError::UnknownChannel(B256::repeat_byte(0xab)))
        );
        // Too close to expiry: inside the safety margin, the payer may still extend it.
        let expiry = channel.expiry;
        let expiring = ledger.submit_at(id, U256::from(30), &sign(30), expiry - 15 * 60).await.expect_err("expiring");
        assert_eq!(expiring, VoucherError::Expiring { channel: id, expiry, now: expiry - 15 * 60, margin: 15 * 60 });
        assert!(expiring.to_string().contains("unless its payer extends it"), "{expiring}");
        // From the expiry on the payee can no longer close it: what is left is the payer's reclaim.
        for now in [expiry, expiry + 3600] {
            let expired = ledger.submit_at(id, U256::from(30), &sign(30), now).await.expect_err("expired");
            assert_eq!(expired, VoucherError::Expired { channel: id, expiry, now });
            let text = expired.to_string();
            assert!(text.contains(&format!("expired at {expiry}")) && text.contains("reclaim"), "{text}");
            assert!(!text.contains("extend"), "an expired channel is not offered an extension: {text}");
        }

        // Concurrent vouchers: all stored in order, the highest wins.
        let results = futures_join(&ledger, id, &sign, 100..200).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");

        // A restarted ledger remembers what it acknowledged.
        drop(ledger);
        let ledger = Ledger::start(db.store.clone(), ledger_config(&e)).await?;
        assert!(matches!(ledger.submit(id, U256::from(199), &sign(199)).await, Err(VoucherError::Stale { .. })));
        assert_eq!(ledger.submit(id, U256::from(200), &sign(200)).await, Ok(U256::from(200)));
        let stored = db.store.channel(e.d.chain_id, id).await?.expect("channel").voucher.expect("voucher");
        assert_eq!(stored.cumulative_amount, U256::from(200));
        assert_eq!(stored.vouchers_accepted, 1 + 100 + 1, "{}", db.label);
        db.finish().await?;
    }

    // Another node that does not collect for this payee refuses the voucher.
    let db = TestDb::sqlite().await?;
    sync(&e, &db).await?;
    let mut cfg = ledger_config(&e);
    cfg.payees = vec![Address::repeat_byte(0x77)];
    let ledger = Ledger::start(db.store.clone(), cfg).await?;
    assert!(matches!(ledger.submit(id, U256::from(300), &sign(300)).await, Err(VoucherError::NotPayee { .. })));
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_ledger_judges_expiry_by_the_chains_clock() -> anyhow::Result<()> {
    let e = env().await?;
    let (_, id, session) = open(&e, 3600).await?;
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    let sign = |amount: u64| domain.sign(&session, id, U256::from(amount)).expect("sign");
    let db = TestDb::sqlite().await?;
    sync(&e, &db).await?;
    let expiry = db.store.channel(e.d.chain_id, id).await?.expect("indexed").expiry;
    // As the node wires it: the ledger follows the chain it reads contract signers from.
    let mut cfg = ledger_config(&e);
    cfg.contract_signers = Some(e.payee.clone());
    cfg.clock_every = std::time::Duration::from_millis(50);
    let ledger = Ledger::start(db.store.clone(), cfg).await?;
    assert_eq!(ledger.submit(id, U256::from(10), &sign(10)).await, Ok(U256::from(10)));

    // The dev chain's time moves two hours on; the machine's clock does not.
    e.payer.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (7200u64,)).await?;
    e.payer.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    let head = e.payer.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?.expect("block");
    assert!(
        head.header.timestamp >= expiry && agora_channels::ledger::unix_now() < expiry,
        "the chain, not the wall clock, is past the expiry"
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while ledger.chain_now() < head.header.timestamp {
        assert!(tokio::time::Instant::now() < deadline, "the ledger's clock never saw the new block");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // It keeps running ahead of the wall clock while no block comes.
    assert!(ledger.chain_now() >= agora_channels::ledger::unix_now() + 7000);
    match ledger.submit(id, U256::from(20), &sign(20)).await {
        Err(VoucherError::Expired { expiry: at, now, .. }) => assert!(at == expiry && now >= head.header.timestamp),
        other => panic!("a voucher for a channel past its expiry on chain: {other:?}"),
    }
    // The contract agrees: the payer can reclaim it.
    let contract = PaymentChannel::new(e.d.payment_channel, e.payer.clone());
    let ch = db.store.channel(e.d.chain_id, id).await?.expect("indexed");
    send(contract.reclaim(ch.payee, ch.token, ch.signer, ch.salt)).await?;

    // A ledger started on a chain already ahead reads its time at once.
    let db2 = TestDb::sqlite().await?;
    let mut cfg = ledger_config(&e);
    cfg.contract_signers = Some(e.payee.clone());
    let late = Ledger::start(db2.store.clone(), cfg).await?;
    assert!(late.chain_now() >= head.header.timestamp);
    db2.finish().await?;
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}

async fn futures_join(
    ledger: &Ledger,
    id: B256,
    sign: &impl Fn(u64) -> [u8; 65],
    amounts: std::ops::Range<u64>,
) -> Vec<Result<U256, VoucherError>> {
    let mut handles = Vec::new();
    for a in amounts {
        let l = ledger.clone();
        let sig = sign(a);
        handles.push(tokio::spawn(async move { l.submit(id, U256::from(a), &sig).await }));
        // Submit in order: spawned tasks reach the writer in spawn order on this runtime.
        tokio::task::yield_now().await;
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn auto_settle_closes_with_the_highest_voucher_before_expiry() -> anyhow::Result<()> {
    let e = env().await?;
    let (_, id, session) = open(&e, 3600).await?;
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    let db = TestDb::sqlite().await?;
    sync(&e, &db).await?;
    let ledger = Ledger::start(db.store.clone(), ledger_config(&e)).await?;
    let mut payer = PayerChannel::new(id, U256::from(DEPOSIT), session);
    let mut last = U256::ZERO;
    for _ in 0..3 {
        let v = payer.pay(&domain, U256::from(1_000_000_000_000_000u64))?;
        last = ledger.submit(id, v.cumulative_amount, &v.signature).await?;
    }
    assert_eq!(last, U256::from(3_000_000_000_000_000u64));

    let payee_sender = agora_chain::Sender::connect(
        e.anvil.url(),
        agora_chain::signer_from_key(&e.anvil.accounts()[PROVIDER].private_key)?,
        agora_chain::SendPolicy::dev(),
    )
    .await?;
    let settler = Settler::new(
        db.store.clone(),
        payee_sender,
        SettlerConfig {
            chain_id: e.d.chain_id,
            contract: e.d.payment_channel,
            payee: e.payee_addr,
            margin_secs: 15 * 60,
            interval: std::time::Duration::from_secs(1),
        },
    );
    // An hour from expiry: nothing is due.
    let run = settler.run_once().await?;
    assert_eq!(run.channels_touched, 0);

    // Ten minutes before expiry: inside the 15-minute margin.
    e.payer.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (3000u64,)).await?;
    e.payer.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    let payer_before = e.payer.get_balance(e.payer_addr).await?;
    let run = settler.run_once().await?;
    assert_eq!(run.channels_touched, 1, "{:?}", run.errors);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    // The payer got exactly the unspent rest, without paying any gas.
    let payer_after = e.payer.get_balance(e.payer_addr).await?;
    assert_eq!(payer_after - payer_before, U256::from(DEPOSIT) - last);

    sync(&e, &db).await?;
    let ch = db.store.channel(e.d.chain_id, id).await?.expect("channel");
    assert_eq!(ch.state, ChannelState::Closed);
    assert_eq!(ch.paid_to_payee, Some(last));
    let settled = db.store.settlement(e.d.chain_id, id).await?.expect("settlement recorded");
    assert_eq!((settled.cumulative_amount, settled.outcome), (last, SettlementOutcome::Closed));
    assert!(settled.tx_hash.is_some(), "the close transaction is recorded");
    let stored = PaymentChannel::new(e.d.payment_channel, e.payer.clone()).getChannel(id).call().await?;
    assert_eq!(stored.deposit, DEPOSIT as u128, "a finished channel keeps its deposit figure");

    // Running again (or after a restart) closes nothing twice.
    let again = settler.run_once().await?;
    assert_eq!(again.channels_touched, 0);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let runs = db.store.background_runs(10).await?;
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.name == agora_channels::settle::JOB_NAME));
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}

fn viem(args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/viem_voucher.mjs");
    let out = Command::new("node").arg(script).args(args).output()?;
    anyhow::ensure!(out.status.success(), "viem script failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[test]
fn vouchers_match_viem_byte_for_byte_both_ways() -> anyhow::Result<()> {
    let contract: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3".parse()?;
    let domain = VoucherDomain::new(31337, contract);
    let id = B256::repeat_byte(0x42);
    let key = PrivateKeySigner::random();
    let amount = U256::from(123_456_789_000_000_000u64);

    // Ours signs, viem verifies.
    let sig = domain.sign(&key, id, amount)?;
    let verdict = viem(&[
        "verify",
        &key.address().to_string(),
        "31337",
        &contract.to_string(),
        &id.to_string(),
        &amount.to_string(),
        &alloy::primitives::hex::encode_prefixed(sig),
    ])?;
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["digest"].as_str(), Some(domain.digest(id, amount).to_string().as_str()));

    // viem signs, ours verifies — and the signature bytes are identical (RFC 6979 on both sides).
    let key_hex = alloy::primitives::hex::encode_prefixed(key.to_bytes());
    let theirs = viem(&["sign", &key_hex, "31337", &contract.to_string(), &id.to_string(), &amount.to_string()])?;
    let their_sig: alloy::primitives::Bytes = theirs["signature"].as_str().expect("signature").parse()?;
    assert_eq!(domain.recover(id, amount, &their_sig), Ok(key.address()));
    assert_eq!(their_sig.as_ref(), sig.as_slice(), "same key, same data: same signature");

    // A tampered amount is refused by both.
    let verdict = viem(&[
        "verify",
        &key.address().to_string(),
        "31337",
        &contract.to_string(),
        &id.to_string(),
        "1",
        &alloy::primitives::hex::encode_prefixed(sig),
    ])?;
    assert_eq!(verdict["valid"], false);
    assert_ne!(domain.recover(id, U256::from(1), &sig), Ok(key.address()));
    Ok(())
}

#[tokio::test]
async fn open_and_close_in_a_token_fit_the_gas_budget() -> anyhow::Result<()> {
    let e = env().await?;
    let amt = U256::from(10u64).pow(U256::from(21u64));
    let owner = agora_chain::Sender::connect(
        e.anvil.url(),
        agora_chain::signer_from_key(&e.anvil.accounts()[OWNER].private_key)?,
        agora_chain::SendPolicy::dev(),
    )
    .await?;
    agora_chain::deploy::mint_tokens(&owner, e.d.market_token, &[e.payer_addr, e.payee_addr], amt).await?;
    let token = agora_chain::bindings::MarketToken::new(e.d.market_token, e.payer.clone());
    send(token.approve(e.d.payment_channel, amt)).await?;
    let contract = PaymentChannel::new(e.d.payment_channel, e.payer.clone());
    let now =
        e.payer.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?.expect("block").header.timestamp;
    let session = PrivateKeySigner::random();
    let open_one = |salt: u8| {
        contract.open(
            e.payee_addr,
            e.d.market_token,
            U256::from(DEPOSIT),
            now + 3600,
            B256::repeat_byte(salt),
            session.address(),
        )
    };
    // Another channel already holds the contract's token balance, as in a market in use.
    send(open_one(1)).await?;
    let opened = send(open_one(2)).await?;
    let params = ChannelParams {
        payer: e.payer_addr,
        payee: e.payee_addr,
        token: e.d.market_token,
        signer: session.address(),
        salt: B256::repeat_byte(2),
    };
    let id = params.channel_id(e.d.chain_id, e.d.payment_channel);
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    let amount = U256::from(DEPOSIT / 4);
    let (r, vs) = agora_channels::settle::compact(&domain.sign(&session, id, amount)?).expect("compact");
    let as_payee = PaymentChannel::new(e.d.payment_channel, e.payee.clone());
    let closed =
        send(as_payee.closeCompact(params.payer, params.token, params.signer, params.salt, amount, r, vs)).await?;
    println!("gas (receipts, intrinsic included): ERC-20 open {} / closeCompact {}", opened.gas_used, closed.gas_used);
    assert!(opened.gas_used <= 100_000, "open used {}", opened.gas_used);
    assert!(closed.gas_used <= 60_000, "close used {}", closed.gas_used);
    e.anvil.stop().await?;
    Ok(())
}

/// Runtime code of a contract wallet whose `isValidSignature` answers `magic` to every call:
/// `PUSH4 magic; PUSH1 224; SHL; PUSH1 0; MSTORE; PUSH1 32; PUSH1 0; RETURN`.
fn wallet_code(magic: [u8; 4]) -> alloy::primitives::Bytes {
    let mut code = vec![0x63];
    code.extend_from_slice(&magic);
    code.extend_from_slice(&[0x60, 0xe0, 0x1b, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    code.into()
}

#[tokio::test]
async fn a_contract_signer_decides_off_chain_as_it_does_on_chain() -> anyhow::Result<()> {
    let e = env().await?;
    // Two contract wallets as channel signers: one approves every signature (ERC-1271's magic
    // value), the other none.
    let (approving, refusing) = (Address::repeat_byte(0x12), Address::repeat_byte(0x13));
    e.payer.raw_request::<_, ()>("anvil_setCode".into(), (approving, wallet_code([0x16, 0x26, 0xba, 0x7e]))).await?;
    e.payer.raw_request::<_, ()>("anvil_setCode".into(), (refusing, wallet_code([0xff; 4]))).await?;
    let now =
        e.payer.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?.expect("block").header.timestamp;
    let contract = PaymentChannel::new(e.d.payment_channel, e.payer.clone());
    let mut ids = Vec::new();
    for signer in [approving, refusing] {
        let params =
            ChannelParams { payer: e.payer_addr, payee: e.payee_addr, token: Address::ZERO, signer, salt: B256::ZERO };
        send(
            contract
                .open(params.payee, params.token, U256::from(DEPOSIT), now + 3600, params.salt, signer)
                .value(U256::from(DEPOSIT)),
        )
        .await?;
        ids.push(params.channel_id(e.d.chain_id, e.d.payment_channel));
    }
    let db = TestDb::sqlite().await?;
    sync(&e, &db).await?;
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    // Whatever key signed: the wallet decides.
    let sig = |id: B256, amount: u64| domain.sign(&PrivateKeySigner::random(), id, U256::from(amount)).expect("sign");

    let ecdsa_only = Ledger::start(db.store.clone(), ledger_config(&e)).await?;
    assert!(matches!(
        ecdsa_only.submit(ids[0], U256::from(5), &sig(ids[0], 5)).await,
        Err(VoucherError::WrongSigner { .. })
    ));
    let mut cfg = ledger_config(&e);
    cfg.contract_signers = Some(e.payer.clone());
    let ledger = Ledger::start(db.store.clone(), cfg).await?;
    assert_eq!(ledger.submit(ids[0], U256::from(7), &sig(ids[0], 7)).await, Ok(U256::from(7)));
    assert!(matches!(
        ledger.submit(ids[1], U256::from(7), &sig(ids[1], 7)).await,
        Err(VoucherError::WrongSigner { expected, .. }) if expected == refusing
    ));

    // Settling asks the wallet on chain too: the channel closes with the voucher the ledger took.
    let payee_sender = agora_chain::Sender::connect(
        e.anvil.url(),
        agora_chain::signer_from_key(&e.anvil.accounts()[PROVIDER].private_key)?,
        agora_chain::SendPolicy::dev(),
    )
    .await?;
    let cfg = SettlerConfig {
        chain_id: e.d.chain_id,
        contract: e.d.payment_channel,
        payee: e.payee_addr,
        margin_secs: 3600,
        interval: std::time::Duration::from_secs(1),
    };
    let run = Settler::new(db.store.clone(), payee_sender, cfg).run_once().await?;
    assert_eq!((run.channels_touched, run.errors.len()), (1, 0), "{:?}", run.errors);
    sync(&e, &db).await?;
    let closed = db.store.channel(e.d.chain_id, ids[0]).await?.expect("indexed");
    assert_eq!((closed.state, closed.paid_to_payee), (ChannelState::Closed, Some(U256::from(7))));
    Ok(())
}

#[tokio::test]
async fn background_jobs_run_now_pause_settle_one_channel_and_mark_expired_ones() -> anyhow::Result<()> {
    use agora_channels::jobs::{EXPIRY_JOB, Jobs};
    let e = env().await?;
    let (_, paid, session) = open(&e, 7200).await?;
    let (_, lapsing, _) = open(&e, 1000).await?;
    let db = TestDb::sqlite().await?;
    sync(&e, &db).await?;
    let domain = VoucherDomain::new(e.d.chain_id, e.d.payment_channel);
    let ledger = Ledger::start(db.store.clone(), ledger_config(&e)).await?;
    ledger.submit(paid, U256::from(9), &domain.sign(&session, paid, U256::from(9))?).await?;
    let sender = agora_chain::Sender::connect(
        e.anvil.url(),
        agora_chain::signer_from_key(&e.anvil.accounts()[PROVIDER].private_key)?,
        agora_chain::SendPolicy::dev(),
    )
    .await?;
    let cfg = SettlerConfig {
        chain_id: e.d.chain_id,
        contract: e.d.payment_channel,
        payee: e.payee_addr,
        margin_secs: 60,
        interval: std::time::Duration::from_secs(60),
    };
    let jobs = Jobs::new(Settler::new(db.store.clone(), sender, cfg));

    // An admin settles one channel now, long before its expiry.
    let run = jobs.settle_channel(paid).await?.expect("known channel");
    assert_eq!((run.channels_touched, run.errors.len()), (1, 0), "{:?}", run.errors);
    sync(&e, &db).await?;
    assert_eq!(db.store.channel(e.d.chain_id, paid).await?.expect("indexed").paid_to_payee, Some(U256::from(9)));

    // Past the other channel's expiry, the expiry job marks it once.
    e.payer.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (1100u64,)).await?;
    e.payer.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    assert_eq!(jobs.run_now(EXPIRY_JOB).await?.expect("a job").channels_touched, 1);
    assert_eq!(jobs.run_now(EXPIRY_JOB).await?.expect("a job").channels_touched, 0);
    let mark = db.store.settlement(e.d.chain_id, lapsing).await?.expect("marked");
    assert_eq!(mark.outcome, SettlementOutcome::Expired);
    assert!(jobs.run_now("no-such-job").await?.is_none());

    // Paused jobs say so, and survive in the store.
    assert!(jobs.set_paused(EXPIRY_JOB, true).await?);
    assert!(!jobs.set_paused("no-such-job", true).await?);
    let status = jobs.status().await?;
    assert_eq!(
        status.iter().map(|j| (j.name, j.paused)).collect::<Vec<_>>(),
        [("channel-auto-settle", false), (EXPIRY_JOB, true)]
    );
    Ok(())
}
