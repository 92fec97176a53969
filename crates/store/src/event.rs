//! The contract events the indexer hands the store, in the store's own vocabulary.

/// A contract event: addresses lower-case hex, amounts decimal strings. What `chain_logs` stores
/// is not this enum's shape but the encoding of the `stored_event` module, which a change here
/// must extend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A provider listed a service.
    ServiceListed {
        /// The new service's id.
        service_id: u64,
        /// Who is paid for its tasks.
        provider: String,
        /// Its payment token (zero address: ETH).
        token: String,
        /// Its price per task, smallest unit.
        price: String,
        /// The longest a task may run, seconds.
        max_run_time: u64,
        /// Where its metadata lives.
        metadata_uri: String,
    },
    /// A provider changed a service's terms.
    ServiceUpdated {
        /// The service.
        service_id: u64,
        /// Its new price.
        price: String,
        /// Its new maximum run time, seconds.
        max_run_time: u64,
        /// Its new metadata URI.
        metadata_uri: String,
    },
    /// A provider delisted a service; its tasks go on.
    ServiceDelisted {
        /// The service.
        service_id: u64,
    },
    /// A buyer bought a task and escrowed its price.
    TaskCreated {
        /// The new task's id.
        task_id: u64,
        /// The buyer.
        user: String,
        /// The service bought.
        service_id: u64,
        /// What was escrowed, smallest unit.
        amount: String,
    },
    /// A task's deadline and input (emitted right after `TaskCreated`).
    TaskInput {
        /// The task.
        task_id: u64,
        /// Unix seconds after which the buyer may take a refund.
        deadline: u64,
        /// The buyer's input (text or a CID).
        input: String,
    },
    /// The operator started a task.
    TaskStarted {
        /// The task.
        task_id: u64,
    },
    /// The operator completed a task; the provider is paid.
    TaskCompleted {
        /// The task.
        task_id: u64,
        /// The result's reference (a CID).
        result_hash: String,
    },
    /// The operator failed a task (a refund follows).
    TaskFailed {
        /// The task.
        task_id: u64,
        /// Why, in words.
        reason: String,
    },
    /// A task's escrow went back to its buyer.
    TaskRefunded {
        /// The task.
        task_id: u64,
    },
    /// A payer opened a payment channel.
    ChannelOpened {
        /// The channel's id (`0x` hex of 32 bytes), computed from its parameters.
        channel_id: String,
        /// Who deposited.
        payer: String,
        /// Who may close it with a voucher.
        payee: String,
        /// The deposit's token (zero address: ETH).
        token: String,
        /// Whose signature vouchers carry.
        signer: String,
        /// The payer's salt, part of the id.
        salt: String,
        /// The deposit, smallest unit.
        deposit: String,
        /// Unix seconds from which the payer may reclaim.
        expiry: u64,
    },
    /// A payer added to a channel's deposit.
    ChannelToppedUp {
        /// The channel.
        channel_id: String,
        /// What was added.
        amount: String,
        /// The deposit now.
        deposit: String,
    },
    /// A payer moved a channel's expiry later.
    ChannelExtended {
        /// The channel.
        channel_id: String,
        /// The new expiry, unix seconds.
        expiry: u64,
    },
    /// The payee closed a channel with a voucher.
    ChannelClosed {
        /// The channel.
        channel_id: String,
        /// What the payee received.
        paid_to_payee: String,
        /// What went back to the payer.
        refunded_to_payer: String,
    },
    /// The payer took a channel's deposit back after its expiry.
    ChannelReclaimed {
        /// The channel.
        channel_id: String,
        /// What went back to the payer.
        refunded_to_payer: String,
    },
    /// A data seller joined the registry (or rejoined after leaving it).
    SellerRegistered {
        /// The seller's account.
        seller: String,
        /// Where buyers reach it (`host:port` or a URL).
        endpoint: String,
        /// The key its protocol messages are signed with.
        message_signer: String,
        /// The hash of its menu.
        menu_hash: String,
        /// Where its menu is found.
        menu_uri: String,
    },
    /// A data seller replaced its registration.
    SellerUpdated {
        /// The seller's account.
        seller: String,
        /// Where buyers reach it now.
        endpoint: String,
        /// The key its messages are signed with now.
        message_signer: String,
        /// The hash of its menu now.
        menu_hash: String,
        /// Where its menu is found now.
        menu_uri: String,
    },
    /// A data seller left the registry; its orders go on.
    SellerDeregistered {
        /// The seller's account.
        seller: String,
    },
    /// A buyer opened a data order (for an escrowed order, its price is now held).
    OrderOpened {
        /// The order's id (`0x` hex of 32 bytes).
        order_id: String,
        /// The buyer.
        buyer: String,
        /// The seller.
        seller: String,
        /// The payment token (zero address: ETH).
        token: String,
        /// The price of the whole, smallest unit.
        price: String,
        /// How many bytes the whole has.
        total_bytes: u64,
        /// Unix seconds by which the transfer should be done.
        deadline: u64,
        /// Unix seconds the buyer started the order at (part of the id).
        started_from: u64,
        /// The buyer's nonce (part of the id), decimal.
        nonce: String,
        /// The key that signs the buyer's ACKs.
        ack_signer: String,
        /// `Escrow` or `OffChain`.
        method: String,
    },
    /// A party ended an order with a figure on record; ACKs may still come until `settle_at`.
    OrderEnded {
        /// The order.
        order_id: String,
        /// Who ended it.
        by: String,
        /// The bytes on record.
        received: u64,
        /// Unix seconds from which it may be settled.
        settle_at: u64,
    },
    /// A party presented a higher figure during the challenge window.
    OrderChallenged {
        /// The order.
        order_id: String,
        /// Who presented it.
        by: String,
        /// The bytes on record now.
        received: u64,
    },
    /// An escrowed order was paid out in proportion to what was delivered.
    OrderSettled {
        /// The order.
        order_id: String,
        /// The bytes it was settled on.
        received: u64,
        /// What the seller received.
        paid_to_seller: String,
        /// What went back to the buyer.
        refunded_to_buyer: String,
    },
    /// The seller confirmed an off-chain order paid.
    OrderConfirmedPaid {
        /// The order.
        order_id: String,
    },
    /// An off-chain order was never confirmed in time; it is finished.
    OrderExpired {
        /// The order.
        order_id: String,
    },
    /// A party rated the other after the order finished.
    OrderRated {
        /// The order.
        order_id: String,
        /// Who rated.
        rater: String,
        /// Who was rated.
        rated: String,
        /// From 1 to 5.
        score: u64,
        /// The hash of the comment, kept off chain.
        comment_hash: String,
    },
    /// A FederatedMarket event (its own enum: the contract reuses ComputeMarket's event names).
    Fl(crate::FlEvent),
    /// A TaskBoard event (its own enum: the contract reuses other markets' event names).
    Board(crate::BoardEvent),
    /// A Communities event or a transfer of a community's points.
    Community(crate::CommunityEvent),
}

impl MarketEvent {
    /// The event's name, as in the contract.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ServiceListed { .. } => "ServiceListed",
            Self::ServiceUpdated { .. } => "ServiceUpdated",
            Self::ServiceDelisted { .. } => "ServiceDelisted",
            Self::TaskCreated { .. } => "TaskCreated",
            Self::TaskInput { .. } => "TaskInput",
            Self::TaskStarted { .. } => "TaskStarted",
            Self::TaskCompleted { .. } => "TaskCompleted",
            Self::TaskFailed { .. } => "TaskFailed",
            Self::TaskRefunded { .. } => "TaskRefunded",
            Self::ChannelOpened { .. } => "ChannelOpened",
            Self::ChannelToppedUp { .. } => "ChannelToppedUp",
            Self::ChannelExtended { .. } => "ChannelExtended",
            Self::ChannelClosed { .. } => "ChannelClosed",
            Self::ChannelReclaimed { .. } => "ChannelReclaimed",
            Self::SellerRegistered { .. } => "SellerRegistered",
            Self::SellerUpdated { .. } => "SellerUpdated",
            Self::SellerDeregistered { .. } => "SellerDeregistered",
            Self::OrderOpened { .. } => "OrderOpened",
            Self::OrderEnded { .. } => "OrderEnded",
            Self::OrderChallenged { .. } => "OrderChallenged",
            Self::OrderSettled { .. } => "OrderSettled",
            Self::OrderConfirmedPaid { .. } => "OrderConfirmedPaid",
            Self::OrderExpired { .. } => "OrderExpired",
            Self::OrderRated { .. } => "OrderRated",
            Self::Fl(e) => e.kind(),
            Self::Board(e) => e.kind(),
            Self::Community(e) => e.kind(),
        }
    }

    /// What the event is about: `task:3`, `service:1`, `channel:0x…`, `seller:0x…`, `order:0x…` or
    /// `fl-task:3`; `board-task:3` (or `board`) and `community:3`.
    pub fn subject(&self) -> String {
        match self {
            Self::ServiceListed { service_id, .. }
            | Self::ServiceUpdated { service_id, .. }
            | Self::ServiceDelisted { service_id } => format!("service:{service_id}"),
            Self::TaskCreated { task_id, .. }
            | Self::TaskInput { task_id, .. }
            | Self::TaskStarted { task_id }
            | Self::TaskCompleted { task_id, .. }
            | Self::TaskFailed { task_id, .. }
            | Self::TaskRefunded { task_id } => format!("task:{task_id}"),
            Self::ChannelOpened { channel_id, .. }
            | Self::ChannelToppedUp { channel_id, .. }
            | Self::ChannelExtended { channel_id, .. }
            | Self::ChannelClosed { channel_id, .. }
            | Self::ChannelReclaimed { channel_id, .. } => format!("channel:{channel_id}"),
            Self::SellerRegistered { seller, .. }
            | Self::SellerUpdated { seller, .. }
            | Self::SellerDeregistered { seller } => format!("seller:{seller}"),
            Self::OrderOpened { order_id, .. }
            | Self::OrderEnded { order_id, .. }
            | Self::OrderChallenged { order_id, .. }
            | Self::OrderSettled { order_id, .. }
            | Self::OrderConfirmedPaid { order_id }
            | Self::OrderExpired { order_id }
            | Self::OrderRated { order_id, .. } => format!("order:{order_id}"),
            Self::Fl(e) => format!("fl-task:{}", e.task_id()),
            Self::Board(e) => e.subject(),
            Self::Community(e) => format!("community:{}", e.community_id()),
        }
    }
}
