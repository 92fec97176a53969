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
