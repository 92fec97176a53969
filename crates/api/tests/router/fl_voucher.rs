//! Predictions paid by vouchers, through the router with the node's real ledger: a channel to the
//! fee receiver (indexed from its `ChannelOpened`) pays a finished task's fee with EIP-712 vouchers
//! signed by its session key; a retried key is answered without a second charge; a reused key for
//! another input, a replayed voucher, a forged one and one over the deposit are refused with their
//! codes; the fees the receiver owes each task shrink by what an indexed `PredictionFeesPaid`
//! forwarded.

use agora_channels::{ChannelParams, Ledger, LedgerConfig, VoucherDomain};
use agora_content::ContentStore as _;
use agora_federated::TaskSpec;
use agora_store::testing::TestDb;
use agora_store::{BlockRef, FlEvent, MarketEvent};
use alloy::primitives::{Address, B256, U256, hex};
use alloy::signers::local::PrivateKeySigner;
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{CHAIN, apply_block, call, state};

const ZERO: &str = "0x0000000000000000000000000000000000000000";

#[tokio::test]
async fn a_voucher_pays_each_prediction_once() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let provider = agora_chain::read_provider("http://127.0.0.1:1")?;
    let (mut st, _) = state(db.store.clone(), provider).await;
    let receiver = PrivateKeySigner::random().address();
    let session = PrivateKeySigner::random();
    let payer = Address::repeat_byte(0x42);
    let mut cfg = LedgerConfig::new(CHAIN, st.network.payment_channel);
    cfg.payees = vec![receiver];
    st.ledger = Some(Ledger::start(db.store.clone(), cfg).await?);

    // A finished digits task charging 5 wei per prediction, with its spec and model stored.
    let spec = TaskSpec::digits_demo(14_101);
    st.content.put(spec.to_bytes()?).await?;
    let params = spec.mlp().init(14_101);
    let model_cid = st.content.put(params.iter().flat_map(|p| p.to_le_bytes()).collect::<Vec<u8>>()).await?;
    let channel =
        ChannelParams { payer, payee: receiver, token: Address::ZERO, signer: session.address(), salt: B256::ZERO };
    let channel_id = channel.channel_id(CHAIN, st.network.payment_channel);
    let expiry = agora_channels::ledger::unix_now() + 86_400;
    let fl = |e| MarketEvent::Fl(e);
    let investor = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    db.store
        .init_cursor(CHAIN, &BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 })
        .await?;
    apply_block(
        &db.store,
        1,
        vec![
            fl(FlEvent::TaskCreated {
                task_id: 1,
                investor: investor.into(),
                coordinator: investor.into(),
                mode: "RewardPool".into(),
                token: ZERO.into(),
                pool: "1000".into(),
                prediction_fee: "5".into(),
                spec: spec.cid()?.to_string(),
            }),
            fl(FlEvent::TaskTerms {
                task_id: 1,
                block_token: ZERO.into(),
                block_price: "10".into(),
                total_blocks: 10,
                min_participants: 1,
                start_deadline: 1_700_100_000,
                finish_deadline: 1_700_200_000,
            }),
            fl(FlEvent::MemberJoined { task_id: 1, account: investor.into(), members: 1 }),
            fl(FlEvent::TaskStarted { task_id: 1, members: 1, block_payments: "0".into() }),
            fl(FlEvent::RewardsPosted {
                task_id: 1,
                root: format!("0x{}", "55".repeat(32)),
                record_cid: "bafyrec".into(),
                claim_deadline: 1_707_876_000,
            }),
            MarketEvent::ChannelOpened {
                channel_id: channel_id.to_string(),
                payer: format!("{payer:#x}"),
                payee: format!("{receiver:#x}"),
                token: ZERO.into(),
                signer: format!("{:#x}", session.address()),
                salt: B256::ZERO.to_string(),
                deposit: "12".into(),
                expiry,
            },
        ],
    )
    .await?;
    db.store
        .fl_save_result(
            CHAIN,
            &agora_store::FlResultRow {
                task_id: 1,
                record_cid: "bafyrec".into(),
                model_cid: Some(model_cid.to_string()),
                kind: agora_store::FlResultKind::Rewards,
                root: None,
                entries: Vec::new(),
                posted_tx: None,
                saved_at: 1_700_000_070,
            },
        )
        .await?;
    let app = agora_api::router(st.clone());
    let domain = VoucherDomain::new(CHAIN, st.network.payment_channel);
    let pixels: Vec<u8> = (0..64u32).map(|i| (i * 7 % 17) as u8).collect();
    let other: Vec<u8> = (0..64u32).map(|i| (i * 3 % 17) as u8).collect();
    let b64 = |p: &[u8]| base64::engine::general_purpose::STANDARD.encode(p);
    let ask = |key: &str, amount: u64, signer: &PrivateKeySigner, input: &[u8]| {
        let sig = domain.sign(signer, channel_id, U256::from(amount)).expect("sign");
        let body = json!({"pixels": b64(input), "voucher": {
            "channelId": channel_id.to_string(), "cumulativeAmount": amount.to_string(),
            "signature": hex::encode_prefixed(sig), "key": key}});
        let app = app.clone();
        async move { call(&app, "POST", "/api/fl/tasks/1/predict", Some(body)).await }
    };
    let code = |r: &(StatusCode, Value)| (r.0, r.1["error"]["code"].as_str().map(str::to_owned));
    let rejected = |c: &str| (StatusCode::CONFLICT, Some(c.to_owned()));

    // The first prediction: billed 0 before it, so the voucher is for the fee.
    let first = ask("p-1", 5, &session, &pixels).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first.1["requestId"], "p-1");
    assert_eq!(first.1["payment"]["charged"], true);
    assert_eq!(first.1["payment"]["cumulative"], "5");
    let expected = agora_fl::Model::new(spec.mlp(), &params)?.predict(&spec.scaling().apply(&pixels))?.remove(0);
    assert_eq!(first.1["probabilities"].as_array().map(Vec::len), Some(expected.len()));

    // Retried (a lost response): the same answer, nothing charged.
    let again = ask("p-1", 5, &session, &pixels).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    assert_eq!(again.1["payment"]["charged"], false);
    assert_eq!(again.1["probabilities"], first.1["probabilities"]);
    // The key reused for another input.
    assert_eq!(code(&ask("p-1", 10, &session, &other).await), rejected("idempotency_conflict"));
    // The first voucher replayed for a new prediction: it does not cover the new total.
    let replay = ask("p-2", 5, &session, &other).await;
    assert_eq!(code(&replay), rejected("wrong_amount"));
    assert!(
        replay.1["error"]["message"].as_str().unwrap_or_default().contains("sign a voucher for 10"),
        "{}",
        replay.1
    );
    // Signed by someone else's key.
    assert_eq!(code(&ask("p-2", 10, &PrivateKeySigner::random(), &other).await), rejected("bad_signature"));
    // A good one.
    let second = ask("p-2", 10, &session, &other).await;
    assert_eq!(second.0, StatusCode::OK, "{}", second.1);
    // The next would need 15, above the deposit of 12.
    let over = ask("p-3", 15, &session, &pixels).await;
    assert_eq!(code(&over), rejected("over_deposit"), "{}", over.1);

    let (status, account) = call(&app, "GET", &format!("/api/fl/channels/{channel_id}/predictions"), None).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!((account["billed"].as_str(), account["accepted"].as_str()), (Some("10"), Some("10")), "{account}");
    assert_eq!(account["predictions"].as_array().map(Vec::len), Some(2));

    // What the receiver owes task 1, before and after it forwards the two fees on chain.
    let (status, fees) = call(&app, "GET", "/api/fl/fees", None).await;
    assert_eq!(status, StatusCode::OK, "{fees}");
    assert_eq!(fees["feeReceiver"], format!("{receiver:#x}"));
    assert_eq!(fees["tasks"][0]["recorded"], 2);
    assert_eq!(fees["tasks"][0]["recordedAmount"], "10");
    assert_eq!(fees["tasks"][0]["owed"], 2);
    let paid =
        FlEvent::PredictionFeesPaid { task_id: 1, payer: format!("{receiver:#x}"), count: 2, amount: "10".into() };
    apply_block(&db.store, 2, vec![fl(paid)]).await?;
    let (_, fees) = call(&app, "GET", "/api/fl/fees", None).await;
    assert_eq!(
        (fees["tasks"][0]["forwarded"].as_u64(), fees["tasks"][0]["owed"].as_u64()),
        (Some(2), Some(0)),
        "{fees}"
    );
    assert_eq!(fees["indexedBlock"], 2, "the figures are those of the blocks indexed up to 2: {fees}");
    assert_eq!(db.store.fl_prediction_totals(CHAIN, 1).await?, (2, U256::from(10)), "usage and revenue from the chain");
    Ok(())
}
