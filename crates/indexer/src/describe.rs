//! The one line a person reads in the node's log for each newly indexed event.

use agora_store::IndexedLog;

/// The line a person reads in the log for a newly indexed event.
pub fn describe(log: &IndexedLog) -> String {
    use agora_store::MarketEvent as M;
    match &log.event {
        M::TaskCreated { task_id, user, service_id, amount } => {
            format!("TaskCreated: taskId={task_id} user={user} service={service_id} amount={amount}")
        }
        M::TaskInput { task_id, deadline, input } => {
            format!("TaskInput: taskId={task_id} deadline={deadline} input={input}")
        }
        M::TaskStarted { task_id } => format!("TaskStarted: taskId={task_id}"),
        M::TaskCompleted { task_id, result_hash } => format!("TaskCompleted: taskId={task_id} result={result_hash}"),
        M::TaskFailed { task_id, reason } => format!("TaskFailed: taskId={task_id} reason={reason}"),
        M::TaskRefunded { task_id } => format!("TaskRefunded: taskId={task_id}"),
        M::ServiceListed { service_id, provider, token, price, .. } => {
            format!("ServiceListed: service={service_id} provider={provider} token={token} price={price}")
        }
        M::ServiceUpdated { service_id, price, .. } => format!("ServiceUpdated: service={service_id} price={price}"),
        M::ServiceDelisted { service_id } => format!("ServiceDelisted: service={service_id}"),
        M::ChannelOpened { channel_id, payer, payee, deposit, expiry, .. } => {
            format!("ChannelOpened: channel={channel_id} payer={payer} payee={payee} deposit={deposit} expiry={expiry}")
        }
        M::ChannelToppedUp { channel_id, deposit, .. } => {
            format!("ChannelToppedUp: channel={channel_id} deposit={deposit}")
        }
        M::ChannelExtended { channel_id, expiry } => format!("ChannelExtended: channel={channel_id} expiry={expiry}"),
        M::ChannelClosed { channel_id, paid_to_payee, refunded_to_payer } => {
            format!("ChannelClosed: channel={channel_id} payee+={paid_to_payee} payer+={refunded_to_payer}")
        }
        M::ChannelReclaimed { channel_id, refunded_to_payer } => {
            format!("ChannelReclaimed: channel={channel_id} payer+={refunded_to_payer}")
        }
        M::SellerRegistered { seller, endpoint, .. } => {
            format!("SellerRegistered: seller={seller} endpoint={endpoint}")
        }
        M::SellerUpdated { seller, endpoint, .. } => format!("SellerUpdated: seller={seller} endpoint={endpoint}"),
        M::SellerDeregistered { seller } => format!("SellerDeregistered: seller={seller}"),
        M::OrderOpened { order_id, buyer, seller, price, total_bytes, method, .. } => format!(
            "OrderOpened: order={order_id} buyer={buyer} seller={seller} price={price} bytes={total_bytes} method={method}"
        ),
        M::OrderEnded { order_id, by, received, settle_at } => {
            format!("OrderEnded: order={order_id} by={by} received={received} settleAt={settle_at}")
        }
        M::OrderChallenged { order_id, by, received } => {
            format!("OrderChallenged: order={order_id} by={by} received={received}")
        }
        M::OrderSettled { order_id, received, paid_to_seller, refunded_to_buyer } => format!(
            "OrderSettled: order={order_id} received={received} seller+={paid_to_seller} buyer+={refunded_to_buyer}"
        ),
        M::OrderConfirmedPaid { order_id } => format!("OrderConfirmedPaid: order={order_id}"),
        M::OrderExpired { order_id } => format!("OrderExpired: order={order_id}"),
        M::OrderRated { order_id, rater, rated, score, .. } => {
            format!("OrderRated: order={order_id} rater={rater} rated={rated} score={score}")
        }
        M::Fl(e) => describe_fl(e),
        M::Board(e) => describe_board(e),
        M::Community(e) => describe_community(e),
    }
}

/// [`describe`] for a FederatedMarket event.
fn describe_fl(e: &agora_store::FlEvent) -> String {
    use agora_store::FlEvent as F;
    let kind = e.kind();
    let task = e.task_id();
    let what = match e {
        F::TaskCreated { investor, mode, pool, .. } => format!("investor={investor} mode={mode} pool={pool}"),
        F::TaskTerms { block_price, total_blocks, min_participants, .. } => {
            format!("blockPrice={block_price} blocks={total_blocks} minParticipants={min_participants}")
        }
        F::MemberJoined { account, members, .. } => format!("account={account} members={members}"),
        F::MemberLeft { account, members, refunded, .. } => {
            format!("account={account} members={members} refunded={refunded}")
        }
        F::BlocksBought { buyer, count, cost, blocks_sold, .. } => {
            format!("buyer={buyer} count={count} cost={cost} sold={blocks_sold}")
        }
        F::TaskStarted { members, block_payments, .. } => format!("members={members} investor+={block_payments}"),
        F::TaskCancelled { by, state, refunded, .. } => format!("by={by} state={state} investor+={refunded}"),
        F::BlockPaymentRefunded { account, amount, .. } => format!("account={account} amount={amount}"),
        F::RewardsPosted { root, record_cid, .. } => format!("root={root} record={record_cid}"),
        F::SharesPosted { holders, record_cid, .. } => format!("holders={holders} record={record_cid}"),
        F::SharesAssigned { account, shares, .. } => format!("account={account} shares={shares}"),
        F::RewardClaimed { account, amount, .. } => format!("account={account} amount={amount}"),
        F::UnclaimedReclaimed { amount, .. } => format!("investor+={amount}"),
        F::PredictionRequested { request_id, payer, fee, .. } => {
            format!("request={request_id} payer={payer} fee={fee}")
        }
        F::PredictionFeesPaid { payer, count, amount, .. } => {
            format!("payer={payer} count={count} amount={amount}")
        }
        F::SharesTransferred { from, to, shares, .. } => format!("from={from} to={to} shares={shares}"),
        F::DividendsWithdrawn { account, amount, .. } => format!("account={account} amount={amount}"),
    };
    format!("{kind}: task={task} {what}")
}

/// [`describe`] for a TaskBoard event.
fn describe_board(e: &agora_store::BoardEvent) -> String {
    use agora_store::BoardEvent as B;
    let kind = e.kind();
    let what = match e {
        B::TaskPublished { publisher, community_id, token, reward, slots, points, deadline, .. } => format!(
            "publisher={publisher} community={community_id} token={token} reward={reward} slots={slots} \
             points={points} deadline={deadline}"
        ),
        B::DeadlineExtended { deadline, .. } => format!("deadline={deadline}"),
        B::TaskAccepted { worker, free_slots, .. } => format!("worker={worker} freeSlots={free_slots}"),
        B::WorkSubmitted { worker, revision, deliverable, .. } => {
            format!("worker={worker} revision={revision} deliverable={deliverable}")
        }
        B::SubmissionApproved { worker, by, lapsed, amount, points, .. } => {
            format!("worker={worker} by={by} lapsed={lapsed} amount={amount} points={points}")
        }
        B::SubmissionRejected { worker, revisions_left, .. } => {
            format!("worker={worker} revisionsLeft={revisions_left}")
        }
        B::DisputeOpened { worker, arbiter, .. } => format!("worker={worker} arbiter={arbiter}"),
        B::DisputeResolved { worker, worker_bps, to_worker, to_publisher, .. } => {
            format!("worker={worker} bps={worker_bps} worker+={to_worker} publisher+={to_publisher}")
        }
        B::WorkerRemoved { worker, .. } => format!("worker={worker}"),
        B::RejectionClosed { worker, refunded, .. } => format!("worker={worker} publisher+={refunded}"),
        B::TaskCancelled { slots, refunded, .. } | B::TaskRefunded { slots, refunded, .. } => {
            format!("slots={slots} publisher+={refunded}")
        }
        B::PlatformArbiterSet { arbiter } => return format!("{kind}: arbiter={arbiter}"),
    };
    format!("{kind}: task={} {what}", e.task_id().unwrap_or_default())
}

/// [`describe`] for a Communities event or a points transfer.
fn describe_community(e: &agora_store::CommunityEvent) -> String {
    use agora_store::CommunityEvent as C;
    let what = match e {
        C::CommunityCreated { owner, points_token, name, symbol, .. } => {
            format!("owner={owner} points={points_token} name={name} symbol={symbol}")
        }
        C::OwnershipTransferStarted { new_owner, .. } => format!("offeredTo={new_owner}"),
        C::OwnershipTransferred { new_owner, .. } => format!("owner={new_owner}"),
        C::ArbiterSet { arbiter, .. } => format!("arbiter={arbiter}"),
        C::MetadataUriSet { metadata_uri, .. } => format!("metadata={metadata_uri}"),
        C::AdminAdded { account, .. } | C::AdminRemoved { account, .. } => format!("account={account}"),
        C::MemberJoined { account, member_count, .. } | C::MemberLeft { account, member_count, .. } => {
            format!("account={account} members={member_count}")
        }
        C::PointsTransfersSet { enabled, .. } => format!("enabled={enabled}"),
        C::PointsMinted { to, by, amount, .. } => format!("to={to} by={by} amount={amount}"),
        C::MinterAllowanceSet { minter, allowance, .. } => format!("minter={minter} allowance={allowance}"),
        C::MintReserved { minter, amount, .. } | C::MintReleased { minter, amount, .. } => {
            format!("minter={minter} amount={amount}")
        }
        C::PointsTransfer { from, to, amount, .. } => format!("from={from} to={to} amount={amount}"),
    };
    format!("{}: community={} {what}", e.kind(), e.community_id())
}
