//! FederatedMarket's events in version 1 (see the parent module): the kind is the contract's event
//! name prefixed with `Fl`, then the fields in the order written here.

use super::{Fields, Writer};
use crate::FlEvent;

/// The object for one FederatedMarket event, not yet closed.
pub(super) fn encode(event: &FlEvent) -> Writer {
    use FlEvent::*;
    let o = |event: &FlEvent| Writer::new(event.kind()).num("task_id", event.task_id());
    match event {
        TaskCreated { investor, coordinator, mode, token, pool, prediction_fee, spec, .. } => o(event)
            .str("investor", investor)
            .str("coordinator", coordinator)
            .str("mode", mode)
            .str("token", token)
            .str("pool", pool)
            .str("prediction_fee", prediction_fee)
            .str("spec", spec),
        TaskTerms {
            block_token, block_price, total_blocks, min_participants, start_deadline, finish_deadline, ..
        } => o(event)
            .str("block_token", block_token)
            .str("block_price", block_price)
            .num("total_blocks", *total_blocks)
            .num("min_participants", *min_participants)
            .num("start_deadline", *start_deadline)
            .num("finish_deadline", *finish_deadline),
        MemberJoined { account, members, .. } => o(event).str("account", account).num("members", *members),
        MemberLeft { account, members, refunded, .. } => {
            o(event).str("account", account).num("members", *members).str("refunded", refunded)
        }
        BlocksBought { buyer, count, cost, blocks_sold, .. } => {
            o(event).str("buyer", buyer).num("count", *count).str("cost", cost).num("blocks_sold", *blocks_sold)
        }
        TaskStarted { members, block_payments, .. } => {
            o(event).num("members", *members).str("block_payments", block_payments)
        }
        TaskCancelled { by, state, refunded, .. } => {
            o(event).str("by", by).str("state", state).str("refunded", refunded)
        }
        BlockPaymentRefunded { account, amount, .. } => o(event).str("account", account).str("amount", amount),
        RewardsPosted { root, record_cid, claim_deadline, .. } => {
            o(event).str("root", root).str("record_cid", record_cid).num("claim_deadline", *claim_deadline)
        }
        SharesPosted { holders, record_cid, .. } => o(event).num("holders", *holders).str("record_cid", record_cid),
        SharesAssigned { account, shares, .. } => o(event).str("account", account).str("shares", shares),
        RewardClaimed { account, amount, .. } => o(event).str("account", account).str("amount", amount),
        UnclaimedReclaimed { amount, .. } => o(event).str("amount", amount),
        PredictionRequested { request_id, payer, fee, input_hash, .. } => {
            o(event).num("request_id", *request_id).str("payer", payer).str("fee", fee).str("input_hash", input_hash)
        }
        PredictionFeesPaid { payer, count, amount, .. } => {
            o(event).str("payer", payer).num("count", *count).str("amount", amount)
        }
        SharesTransferred { from, to, shares, .. } => o(event).str("from", from).str("to", to).str("shares", shares),
        DividendsWithdrawn { account, amount, .. } => o(event).str("account", account).str("amount", amount),
    }
}

/// The FederatedMarket event `f.kind` from its fields; `Ok(None)` when the kind is not one of them.
pub(super) fn read(f: &mut Fields<'_>) -> Result<Option<FlEvent>, String> {
    use FlEvent::*;
    let Some(kind) = f.kind.strip_prefix("Fl") else { return Ok(None) };
    let task_id = match kind {
        "TaskCreated"
        | "TaskTerms"
        | "MemberJoined"
        | "MemberLeft"
        | "BlocksBought"
        | "TaskStarted"
        | "TaskCancelled"
        | "BlockPaymentRefunded"
        | "RewardsPosted"
        | "SharesPosted"
        | "SharesAssigned"
        | "RewardClaimed"
        | "UnclaimedReclaimed"
        | "PredictionRequested"
        | "PredictionFeesPaid"
        | "SharesTransferred"
        | "DividendsWithdrawn" => f.num("task_id")?,
        _ => return Ok(None),
    };
    Ok(Some(match kind {
        "TaskCreated" => TaskCreated {
            task_id,
            investor: f.str("investor")?,
            coordinator: f.str("coordinator")?,
            mode: f.str("mode")?,
            token: f.str("token")?,
            pool: f.str("pool")?,
            prediction_fee: f.str("prediction_fee")?,
            spec: f.str("spec")?,
        },
        "TaskTerms" => TaskTerms {
            task_id,
            block_token: f.str("block_token")?,
            block_price: f.str("block_price")?,
            total_blocks: f.num("total_blocks")?,
            min_participants: f.num("min_participants")?,
            start_deadline: f.num("start_deadline")?,
            finish_deadline: f.num("finish_deadline")?,
        },
        "MemberJoined" => MemberJoined { task_id, account: f.str("account")?, members: f.num("members")? },
        "MemberLeft" => {
            MemberLeft { task_id, account: f.str("account")?, members: f.num("members")?, refunded: f.str("refunded")? }
        }
        "BlocksBought" => BlocksBought {
            task_id,
            buyer: f.str("buyer")?,
            count: f.num("count")?,
            cost: f.str("cost")?,
            blocks_sold: f.num("blocks_sold")?,
        },
        "TaskStarted" => TaskStarted { task_id, members: f.num("members")?, block_payments: f.str("block_payments")? },
        "TaskCancelled" => {
            TaskCancelled { task_id, by: f.str("by")?, state: f.str("state")?, refunded: f.str("refunded")? }
        }
        "BlockPaymentRefunded" => {
            BlockPaymentRefunded { task_id, account: f.str("account")?, amount: f.str("amount")? }
        }
        "RewardsPosted" => RewardsPosted {
            task_id,
            root: f.str("root")?,
            record_cid: f.str("record_cid")?,
            claim_deadline: f.num("claim_deadline")?,
        },
        "SharesPosted" => SharesPosted { task_id, holders: f.num("holders")?, record_cid: f.str("record_cid")? },
        "SharesAssigned" => SharesAssigned { task_id, account: f.str("account")?, shares: f.str("shares")? },
        "RewardClaimed" => RewardClaimed { task_id, account: f.str("account")?, amount: f.str("amount")? },
        "UnclaimedReclaimed" => UnclaimedReclaimed { task_id, amount: f.str("amount")? },
        "PredictionRequested" => PredictionRequested {
            request_id: f.num("request_id")?,
            task_id,
            payer: f.str("payer")?,
            fee: f.str("fee")?,
            input_hash: f.str("input_hash")?,
        },
        "PredictionFeesPaid" => {
            PredictionFeesPaid { task_id, payer: f.str("payer")?, count: f.num("count")?, amount: f.str("amount")? }
        }
        "SharesTransferred" => {
            SharesTransferred { task_id, from: f.str("from")?, to: f.str("to")?, shares: f.str("shares")? }
        }
        "DividendsWithdrawn" => DividendsWithdrawn { task_id, account: f.str("account")?, amount: f.str("amount")? },
        _ => return Ok(None),
    }))
}
