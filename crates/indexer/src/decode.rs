//! Contract logs → storage events.

use agora_chain::bindings::ComputeMarket::ComputeMarketEvents as Ev;
use agora_store::MarketEvent;
use alloy::primitives::{Address, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;

fn addr(a: Address) -> String {
    a.to_string().to_ascii_lowercase()
}

/// Ids in Agora's contracts count up from 1; anything beyond u64 cannot come from them.
fn id(v: U256) -> Option<u64> {
    u64::try_from(v).ok()
}

/// Decodes a ComputeMarket log the indexer tracks; `None` for events it does not (ownership,
/// operators, fees, withdrawals) and for data that does not decode.
pub fn decode_log(log: &Log) -> Option<MarketEvent> {
    let ev = Ev::decode_raw_log(log.topics(), &log.data().data).ok()?;
    Some(match ev {
        Ev::ServiceListed(e) => MarketEvent::ServiceListed {
            service_id: id(e.serviceId)?,
            provider: addr(e.provider),
            token: addr(e.token),
            price: e.price.to_string(),
            max_run_time: e.maxRunTime,
            metadata_uri: e.metadataURI,
        },
        Ev::ServiceUpdated(e) => MarketEvent::ServiceUpdated {
            service_id: id(e.serviceId)?,
            price: e.price.to_string(),
            max_run_time: e.maxRunTime,
            metadata_uri: e.metadataURI,
        },
        Ev::ServiceDelisted(e) => MarketEvent::ServiceDelisted { service_id: id(e.serviceId)? },
        Ev::TaskCreated(e) => MarketEvent::TaskCreated {
            task_id: id(e.taskId)?,
            user: addr(e.user),
            service_id: id(e.serviceId)?,
            amount: e.amount.to_string(),
        },
        Ev::TaskInput(e) => MarketEvent::TaskInput { task_id: id(e.taskId)?, deadline: e.deadline, input: e.input },
        Ev::TaskStarted(e) => MarketEvent::TaskStarted { task_id: id(e.taskId)? },
        Ev::TaskCompleted(e) => MarketEvent::TaskCompleted { task_id: id(e.taskId)?, result_hash: e.resultHash },
        Ev::TaskFailed(e) => MarketEvent::TaskFailed { task_id: id(e.taskId)?, reason: e.reason },
        Ev::TaskRefunded(e) => MarketEvent::TaskRefunded { task_id: id(e.taskId)? },
        _ => return None,
    })
}
