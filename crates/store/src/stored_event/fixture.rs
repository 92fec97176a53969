//! One history that uses every event kind once or more, in an order `apply` accepts: the fixture
//! of the encoding tests and of the rebuild test.

use crate::MarketEvent;

const PROVIDER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const USER: &str = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const TOKEN: &str = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const CHANNEL_A: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const CHANNEL_B: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

pub(super) fn history() -> Vec<MarketEvent> {
    use MarketEvent::*;
    let opened = |channel_id: &str, salt: &str| ChannelOpened {
        channel_id: channel_id.into(),
        payer: USER.into(),
        payee: PROVIDER.into(),
        token: TOKEN.into(),
        signer: USER.into(),
        salt: salt.into(),
        deposit: "1000000000000000000".into(),
        expiry: 1_700_086_400,
    };
    let created = |task_id| TaskCreated {
        task_id,
        user: USER.into(),
        service_id: 1,
        amount: "115792089237316195423570985008687907853269984665640564039457584007913129639935".into(),
    };
    vec![
        ServiceListed {
            service_id: 1,
            provider: PROVIDER.into(),
            token: TOKEN.into(),
            price: "10000000000000000".into(),
            max_run_time: 300,
            metadata_uri: r#"data:application/json,{"kind":"wordcount","name":{"en":"Word count"}}"#.into(),
        },
        ServiceUpdated {
            service_id: 1,
            price: "20000000000000000".into(),
            max_run_time: 600,
            metadata_uri: "ipfs://bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi".into(),
        },
        created(1),
        TaskInput {
            task_id: 1,
            deadline: 1_700_000_900,
            input: "{\"text\":\"héllo \\\"wörld\\\"\\n\",\"tab\":\"\t\"} 你好".into(),
        },
        TaskStarted { task_id: 1 },
        TaskCompleted { task_id: 1, result_hash: "bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi".into() },
        created(9_007_199_254_740_993),
        TaskInput { task_id: 9_007_199_254_740_993, deadline: 1_700_000_950, input: String::new() },
        TaskFailed { task_id: 9_007_199_254_740_993, reason: "input: not a CID — «refused»".into() },
        TaskRefunded { task_id: 9_007_199_254_740_993 },
        ServiceDelisted { service_id: 1 },
        opened(CHANNEL_A, "0x0000000000000000000000000000000000000000000000000000000000000001"),
        ChannelToppedUp { channel_id: CHANNEL_A.into(), amount: "500".into(), deposit: "1000000000000000500".into() },
        ChannelExtended { channel_id: CHANNEL_A.into(), expiry: 1_700_172_800 },
        ChannelClosed {
            channel_id: CHANNEL_A.into(),
            paid_to_payee: "250".into(),
            refunded_to_payer: "1000000000000000250".into(),
        },
        opened(CHANNEL_B, "0x0000000000000000000000000000000000000000000000000000000000000002"),
        ChannelReclaimed { channel_id: CHANNEL_B.into(), refunded_to_payer: "1000000000000000000".into() },
    ]
}

const SELLER: &str = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
const SIGNER: &str = "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc";
const ORDER_A: &str = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ORDER_B: &str = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const ORDER_C: &str = "0xcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const MENU: &str = "0x3333333333333333333333333333333333333333333333333333333333333333";
const COMMENT: &str = "0x4444444444444444444444444444444444444444444444444444444444444444";

/// The data market's history, every kind once or more, in an order `apply` accepts: a seller
/// registers and updates; an escrowed order is ended, challenged, settled and rated both ways; an
/// off-chain order is confirmed paid, another expires; the seller leaves. (These kinds were
/// stored in version 1 from the start, so they have no form from before versions.)
pub(super) fn data_history() -> Vec<MarketEvent> {
    use MarketEvent::*;
    let opened = |order_id: &str, method: &str, nonce: &str| OrderOpened {
        order_id: order_id.into(),
        buyer: USER.into(),
        seller: SELLER.into(),
        token: TOKEN.into(),
        price: "1000000000000000001".into(),
        total_bytes: 10_485_760,
        deadline: 1_700_003_600,
        started_from: 1_700_000_000,
        nonce: nonce.into(),
        ack_signer: SIGNER.into(),
        method: method.into(),
    };
    let rated = |rater: &str, rated: &str, score| OrderRated {
        order_id: ORDER_A.into(),
        rater: rater.into(),
        rated: rated.into(),
        score,
        comment_hash: COMMENT.into(),
    };
    vec![
        SellerRegistered {
            seller: SELLER.into(),
            endpoint: "127.0.0.1:7070".into(),
            message_signer: SELLER.into(),
            menu_hash: MENU.into(),
            menu_uri: "ipfs://bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi".into(),
        },
        SellerUpdated {
            seller: SELLER.into(),
            endpoint: "data.example:7070".into(),
            message_signer: SIGNER.into(),
            menu_hash: MENU.into(),
            menu_uri: "https://data.example/menu.json".into(),
        },
        opened(ORDER_A, "Escrow", "1"),
        OrderEnded { order_id: ORDER_A.into(), by: USER.into(), received: 1_048_576, settle_at: 1_700_004_000 },
        OrderChallenged { order_id: ORDER_A.into(), by: SELLER.into(), received: 5_242_880 },
        OrderSettled {
            order_id: ORDER_A.into(),
            received: 5_242_880,
            paid_to_seller: "500000000000000000".into(),
            refunded_to_buyer: "500000000000000001".into(),
        },
        rated(USER, SELLER, 4),
        rated(SELLER, USER, 5),
        opened(ORDER_B, "OffChain", "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
        OrderConfirmedPaid { order_id: ORDER_B.into() },
        opened(ORDER_C, "OffChain", "3"),
        OrderExpired { order_id: ORDER_C.into() },
        SellerDeregistered { seller: SELLER.into() },
    ]
}

const INVESTOR: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const COORDINATOR: &str = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const TRAINER_A: &str = "0x976ea74026e726554db657fa54763abd0c3a0aa9";
const TRAINER_B: &str = "0x14dc79964da2c08b23698b3d3cc7ca32193d9955";
const ROOT: &str = "0x5555555555555555555555555555555555555555555555555555555555555555";
const INPUT: &str = "0x6666666666666666666666666666666666666666666666666666666666666666";
const ZERO: &str = "0x0000000000000000000000000000000000000000";

/// The federated-learning market's history, every kind once or more, in an order `apply` accepts:
/// a reward-pool task (three join, one leaves before the start and its purchase is voided, a
/// purchase during training, rewards posted, one claim, a paid prediction, two fees forwarded by the
/// fee receiver, the rest reclaimed); a
/// shareholding task (a member leaves during training, shares posted, a prediction, a transfer, a
/// withdrawal); a task cancelled before its start with a block refund; a task abandoned.
pub(super) fn fl_history() -> Vec<MarketEvent> {
    use crate::FlEvent::*;
    let created = |task_id, mode: &str, token: &str, pool: &str, fee: &str| TaskCreated {
        task_id,
        investor: INVESTOR.into(),
        coordinator: COORDINATOR.into(),
        mode: mode.into(),
        token: token.into(),
        pool: pool.into(),
        prediction_fee: fee.into(),
        spec: format!("ipfs://bafkreispec{task_id}"),
    };
    let terms = |task_id, price: &str, total_blocks, min_participants| TaskTerms {
        task_id,
        block_token: TOKEN.into(),
        block_price: price.into(),
        total_blocks,
        min_participants,
        start_deadline: 1_700_100_000,
        finish_deadline: 1_700_200_000,
    };
    let joined = |task_id, account: &str, members| MemberJoined { task_id, account: account.into(), members };
    let left = |task_id, account: &str, members, refunded: &str| MemberLeft {
        task_id,
        account: account.into(),
        members,
        refunded: refunded.into(),
    };
    let bought = |task_id, buyer: &str, count, cost: &str, blocks_sold| BlocksBought {
        task_id,
        buyer: buyer.into(),
        count,
        cost: cost.into(),
        blocks_sold,
    };
    let started = |task_id, members, block_payments: &str| TaskStarted {
        task_id,
        members,
        block_payments: block_payments.into(),
    };
    let predicted = |request_id, task_id, fee: &str| PredictionRequested {
        request_id,
        task_id,
        payer: USER.into(),
        fee: fee.into(),
        input_hash: INPUT.into(),
    };
    let assigned =
        |account: &str, shares: &str| SharesAssigned { task_id: 2, account: account.into(), shares: shares.into() };
    [
        created(1, "RewardPool", ZERO, "1000", "5"),
        terms(1, "10", 100, 2),
        joined(1, TRAINER_A, 1),
        joined(1, TRAINER_B, 2),
        bought(1, TRAINER_A, 3, "30", 3),
        joined(1, USER, 3),
        bought(1, USER, 2, "20", 5),
        left(1, USER, 2, "20"),
        started(1, 2, "30"),
        bought(1, TRAINER_B, 1, "10", 4),
        RewardsPosted {
            task_id: 1,
            root: ROOT.into(),
            record_cid: "bafyreirecord1".into(),
            claim_deadline: 1_707_876_000,
        },
        RewardClaimed { task_id: 1, account: TRAINER_A.into(), amount: "600".into() },
        predicted(1, 1, "5"),
        // The fee receiver forwards two fees paid to it by vouchers.
        PredictionFeesPaid { task_id: 1, payer: PROVIDER.into(), count: 2, amount: "10".into() },
        UnclaimedReclaimed { task_id: 1, amount: "400".into() },
        created(2, "Shareholding", TOKEN, "0", "1000000"),
        terms(2, "0", 10, 1),
        joined(2, TRAINER_A, 1),
        joined(2, TRAINER_B, 2),
        started(2, 2, "0"),
        left(2, TRAINER_B, 1, "0"),
        assigned(TRAINER_A, "700000000000000000"),
        assigned(TRAINER_B, "300000000000000000"),
        SharesPosted { task_id: 2, holders: 2, record_cid: "bafyreirecord2".into() },
        predicted(2, 2, "1000000"),
        SharesTransferred { task_id: 2, from: TRAINER_A.into(), to: USER.into(), shares: "200000000000000000".into() },
        DividendsWithdrawn { task_id: 2, account: TRAINER_A.into(), amount: "700000".into() },
        created(3, "RewardPool", ZERO, "1", "0"),
        terms(3, "7", 1, 1),
        joined(3, TRAINER_B, 1),
        bought(3, TRAINER_B, 1, "7", 1),
        TaskCancelled { task_id: 3, by: INVESTOR.into(), state: "Cancelled".into(), refunded: "1".into() },
        BlockPaymentRefunded { task_id: 3, account: TRAINER_B.into(), amount: "7".into() },
        created(4, "Shareholding", ZERO, "0", "1"),
        terms(4, "0", 1, 1),
        joined(4, TRAINER_A, 1),
        started(4, 1, "0"),
        TaskCancelled { task_id: 4, by: USER.into(), state: "Abandoned".into(), refunded: "0".into() },
    ]
    .into_iter()
    .map(MarketEvent::Fl)
    .collect()
}
