//! Contract bindings generated from the committed artifacts in `crates/chain/artifacts/`
//! (`scripts/export-artifacts.sh` writes them from a `forge build`; the test command fails if they
//! are stale).
// Generated code only: `sol!` documents what it generates from the artifacts' ABI, except one struct
// for each contract whose ABI uses Solidity structs (Communities, ComputeMarket, DataMarket,
// FederatedMarket, PaymentChannel, TaskBoard).
#![allow(missing_docs)]
#![allow(clippy::too_many_arguments)] // PaymentChannel's functions and DataMarket's openOrder take many

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    Communities,
    "artifacts/Communities.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    CommunityPoints,
    "artifacts/CommunityPoints.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ComputeMarket,
    "artifacts/ComputeMarket.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    DataMarket,
    "artifacts/DataMarket.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    FederatedMarket,
    "artifacts/FederatedMarket.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    MarketToken,
    "artifacts/MarketToken.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    PaymentChannel,
    "artifacts/PaymentChannel.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TaskBoard,
    "artifacts/TaskBoard.json"
);
