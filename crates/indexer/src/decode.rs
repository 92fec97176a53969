//! Contract logs → storage events.

use agora_chain::bindings::ComputeMarket::ComputeMarketEvents as Ev;
use agora_chain::bindings::DataMarket::DataMarketEvents as Dm;
use agora_chain::bindings::FederatedMarket::FederatedMarketEvents as Fm;
use agora_chain::bindings::PaymentChannel::PaymentChannelEvents as Ch;
use agora_store::{FlEvent, MarketEvent};
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;

fn addr(a: Address) -> String {
    a.to_string().to_ascii_lowercase()
}

/// Ids in Agora's contracts count up from 1; anything beyond u64 cannot come from them.
fn id(v: U256) -> Option<u64> {
    u64::try_from(v).ok()
}

fn hex(h: B256) -> String {
    h.to_string()
}

/// Decodes a ComputeMarket, PaymentChannel, DataMarket or FederatedMarket log the indexer tracks;
/// `None` for events it does not (ownership, operators, fees, withdrawals) and for data that does not
/// decode. The tracked events of the four contracts have distinct signatures (FederatedMarket's
/// `TaskCreated` and `TaskStarted` carry other fields than ComputeMarket's). The TaskBoard's,
/// Communities' and the points tokens' logs never come here: the indexer routes them by address to
/// `decode_board` (Communities' `MemberJoined` has FederatedMarket's very signature).
pub fn decode_log(log: &Log) -> Option<MarketEvent> {
    if let Ok(ev) = Ch::decode_raw_log(log.topics(), &log.data().data) {
        return decode_channel(ev);
    }
    if let Ok(ev) = Dm::decode_raw_log(log.topics(), &log.data().data) {
        return decode_data(ev);
    }
    if let Ok(ev) = Fm::decode_raw_log(log.topics(), &log.data().data) {
        return decode_fl(ev).map(MarketEvent::Fl);
    }
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

fn decode_channel(ev: Ch) -> Option<MarketEvent> {
    Some(match ev {
        Ch::ChannelOpened(e) => MarketEvent::ChannelOpened {
            channel_id: hex(e.channelId),
            payer: addr(e.payer),
            payee: addr(e.payee),
            token: addr(e.token),
            signer: addr(e.signer),
            salt: hex(e.salt),
            deposit: e.deposit.to_string(),
            expiry: e.expiry,
        },
        Ch::ChannelToppedUp(e) => MarketEvent::ChannelToppedUp {
            channel_id: hex(e.channelId),
            amount: e.amount.to_string(),
            deposit: e.deposit.to_string(),
        },
        Ch::ChannelExtended(e) => MarketEvent::ChannelExtended { channel_id: hex(e.channelId), expiry: e.expiry },
        Ch::ChannelClosed(e) => MarketEvent::ChannelClosed {
            channel_id: hex(e.channelId),
            paid_to_payee: e.paidToPayee.to_string(),
            refunded_to_payer: e.refundedToPayer.to_string(),
        },
        Ch::ChannelReclaimed(e) => MarketEvent::ChannelReclaimed {
            channel_id: hex(e.channelId),
            refunded_to_payer: e.refundedToPayer.to_string(),
        },
        _ => return None,
    })
}

fn decode_data(ev: Dm) -> Option<MarketEvent> {
    Some(match ev {
        Dm::SellerRegistered(e) => MarketEvent::SellerRegistered {
            seller: addr(e.seller),
            endpoint: e.endpoint,
            message_signer: addr(e.messageSigner),
            menu_hash: hex(e.menuHash),
            menu_uri: e.menuUri,
        },
        Dm::SellerUpdated(e) => MarketEvent::SellerUpdated {
            seller: addr(e.seller),
            endpoint: e.endpoint,
            message_signer: addr(e.messageSigner),
            menu_hash: hex(e.menuHash),
            menu_uri: e.menuUri,
        },
        Dm::SellerDeregistered(e) => MarketEvent::SellerDeregistered { seller: addr(e.seller) },
        Dm::OrderOpened(e) => MarketEvent::OrderOpened {
            order_id: hex(e.orderId),
            buyer: addr(e.buyer),
            seller: addr(e.seller),
            token: addr(e.token),
            price: e.price.to_string(),
            total_bytes: e.totalBytes,
            deadline: e.deadline,
            started_from: e.startedFrom,
            nonce: e.nonce.to_string(),
            ack_signer: addr(e.ackSigner),
            // The contract's `PaymentMethod`, in declaration order.
            method: match e.method {
                0 => "Escrow",
                1 => "OffChain",
                _ => return None,
            }
            .to_owned(),
        },
        Dm::OrderEnded(e) => MarketEvent::OrderEnded {
            order_id: hex(e.orderId),
            by: addr(e.by),
            received: e.received,
            settle_at: e.settleAt,
        },
        Dm::OrderChallenged(e) => {
            MarketEvent::OrderChallenged { order_id: hex(e.orderId), by: addr(e.by), received: e.received }
        }
        Dm::OrderSettled(e) => MarketEvent::OrderSettled {
            order_id: hex(e.orderId),
            received: e.received,
            paid_to_seller: e.paidToSeller.to_string(),
            refunded_to_buyer: e.refundedToBuyer.to_string(),
        },
        Dm::OrderConfirmedPaid(e) => MarketEvent::OrderConfirmedPaid { order_id: hex(e.orderId) },
        Dm::OrderExpired(e) => MarketEvent::OrderExpired { order_id: hex(e.orderId) },
        Dm::OrderRated(e) => MarketEvent::OrderRated {
            order_id: hex(e.orderId),
            rater: addr(e.rater),
            rated: addr(e.rated),
            score: u64::from(e.score),
            comment_hash: hex(e.commentHash),
        },
        _ => return None,
    })
}

fn decode_fl(ev: Fm) -> Option<FlEvent> {
    Some(match ev {
        Fm::TaskCreated(e) => FlEvent::TaskCreated {
            task_id: id(e.taskId)?,
            investor: addr(e.investor),
            coordinator: addr(e.coordinator),
            // The contract's `Mode`, in declaration order.
            mode: match e.mode {
                0 => "RewardPool",
                1 => "Shareholding",
                _ => return None,
            }
            .to_owned(),
            token: addr(e.token),
            pool: e.pool.to_string(),
            prediction_fee: e.predictionFee.to_string(),
            spec: e.spec,
        },
        Fm::TaskTerms(e) => FlEvent::TaskTerms {
            task_id: id(e.taskId)?,
            block_token: addr(e.blockToken),
            block_price: e.blockPrice.to_string(),
            total_blocks: u64::from(e.totalBlocks),
            min_participants: u64::from(e.minParticipants),
            start_deadline: e.startDeadline,
            finish_deadline: e.finishDeadline,
        },
        Fm::MemberJoined(e) => {
            FlEvent::MemberJoined { task_id: id(e.taskId)?, account: addr(e.account), members: u64::from(e.members) }
        }
        Fm::MemberLeft(e) => FlEvent::MemberLeft {
            task_id: id(e.taskId)?,
            account: addr(e.account),
            members: u64::from(e.members),
            refunded: e.refunded.to_string(),
        },
        Fm::BlocksBought(e) => FlEvent::BlocksBought {
            task_id: id(e.taskId)?,
            buyer: addr(e.buyer),
            count: u64::from(e.count),
            cost: e.cost.to_string(),
            blocks_sold: u64::from(e.blocksSold),
        },
        Fm::TaskStarted(e) => FlEvent::TaskStarted {
            task_id: id(e.taskId)?,
            members: u64::from(e.members),
            block_payments: e.blockPayments.to_string(),
        },
        Fm::TaskCancelled(e) => FlEvent::TaskCancelled {
            task_id: id(e.taskId)?,
            by: addr(e.by),
            // The contract's `TaskState`: only these two end a task by cancelling it.
            state: match e.state {
                4 => "Cancelled",
                5 => "Abandoned",
                _ => return None,
            }
            .to_owned(),
            refunded: e.refunded.to_string(),
        },
        Fm::BlockPaymentRefunded(e) => FlEvent::BlockPaymentRefunded {
            task_id: id(e.taskId)?,
            account: addr(e.account),
            amount: e.amount.to_string(),
        },
        Fm::RewardsPosted(e) => FlEvent::RewardsPosted {
            task_id: id(e.taskId)?,
            root: hex(e.root),
            record_cid: e.recordCid,
            claim_deadline: e.claimDeadline,
        },
        Fm::SharesPosted(e) => {
            FlEvent::SharesPosted { task_id: id(e.taskId)?, holders: id(e.holders)?, record_cid: e.recordCid }
        }
        Fm::SharesAssigned(e) => {
            FlEvent::SharesAssigned { task_id: id(e.taskId)?, account: addr(e.account), shares: e.shares.to_string() }
        }
        Fm::RewardClaimed(e) => {
            FlEvent::RewardClaimed { task_id: id(e.taskId)?, account: addr(e.account), amount: e.amount.to_string() }
        }
        Fm::UnclaimedReclaimed(e) => {
            FlEvent::UnclaimedReclaimed { task_id: id(e.taskId)?, amount: e.amount.to_string() }
        }
        Fm::PredictionRequested(e) => FlEvent::PredictionRequested {
            request_id: id(e.requestId)?,
            task_id: id(e.taskId)?,
            payer: addr(e.payer),
            fee: e.fee.to_string(),
            input_hash: hex(e.inputHash),
        },
        Fm::PredictionFeesPaid(e) => FlEvent::PredictionFeesPaid {
            task_id: id(e.taskId)?,
            payer: addr(e.payer),
            count: u64::from(e.count),
            amount: e.amount.to_string(),
        },
        Fm::SharesTransferred(e) => FlEvent::SharesTransferred {
            task_id: id(e.taskId)?,
            from: addr(e.from),
            to: addr(e.to),
            shares: e.shares.to_string(),
        },
        Fm::DividendsWithdrawn(e) => FlEvent::DividendsWithdrawn {
            task_id: id(e.taskId)?,
            account: addr(e.account),
            amount: e.amount.to_string(),
        },
        _ => return None,
    })
}
