//! The FederatedMarket contract's events in the store's vocabulary (one [`MarketEvent::Fl`] each):
//! addresses lower-case hex, amounts decimal strings, ids and times numbers.
//!
//! [`MarketEvent::Fl`]: crate::MarketEvent::Fl

/// A FederatedMarket event. Its name ([`FlEvent::kind`], also the stored `kind`) is the contract's
/// event name prefixed with `Fl`: ComputeMarket already has a `TaskCreated` and a `TaskStarted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlEvent {
    /// An investor created a task (in reward-pool mode its pool is now held).
    TaskCreated {
        /// The new task's id.
        task_id: u64,
        /// Who created it and pays for it.
        investor: String,
        /// Who starts it and posts its results.
        coordinator: String,
        /// `RewardPool` or `Shareholding` (the contract's `Mode`).
        mode: String,
        /// The pool's and the prediction fees' token (zero address: ETH).
        token: String,
        /// The reward pool, smallest unit (0 in shareholding mode).
        pool: String,
        /// The fee per paid prediction (0: not offered).
        prediction_fee: String,
        /// Where the task's description lives.
        spec: String,
    },
    /// The rest of a new task's terms (emitted right after `TaskCreated`).
    TaskTerms {
        /// The task.
        task_id: u64,
        /// The token data blocks are paid in (zero address: ETH).
        block_token: String,
        /// The price of one block (0: blocks are not sold).
        block_price: String,
        /// How many blocks the training set is cut into.
        total_blocks: u64,
        /// Members needed to start.
        min_participants: u64,
        /// Unix seconds: training must start before it.
        start_deadline: u64,
        /// Unix seconds: results must be posted before it.
        finish_deadline: u64,
    },
    /// An account joined a task.
    MemberJoined {
        /// The task.
        task_id: u64,
        /// Who joined.
        account: String,
        /// The task's members now.
        members: u64,
    },
    /// An account left a task (before the start, its block payments came back to it).
    MemberLeft {
        /// The task.
        task_id: u64,
        /// Who left.
        account: String,
        /// The task's members now.
        members: u64,
        /// What it got back for its blocks.
        refunded: String,
    },
    /// A member bought data blocks.
    BlocksBought {
        /// The task.
        task_id: u64,
        /// Who bought.
        buyer: String,
        /// How many blocks.
        count: u64,
        /// What they cost, in the task's block token.
        cost: String,
        /// The task's blocks sold now.
        blocks_sold: u64,
    },
    /// The coordinator started training; the block payments held went to the investor.
    TaskStarted {
        /// The task.
        task_id: u64,
        /// Its members at the start.
        members: u64,
        /// The block payments paid to the investor.
        block_payments: String,
    },
    /// A task was cancelled (never started) or abandoned (no results in time); the pool went back.
    TaskCancelled {
        /// The task.
        task_id: u64,
        /// Who cancelled it.
        by: String,
        /// `Cancelled` or `Abandoned` (the contract's `TaskState`).
        state: String,
        /// The part of the pool paid back to the investor.
        refunded: String,
    },
    /// A member of a cancelled task got back what it paid for blocks.
    BlockPaymentRefunded {
        /// The task.
        task_id: u64,
        /// The member.
        account: String,
        /// What it got back.
        amount: String,
    },
    /// The coordinator ended a reward-pool task with the root rewards are claimed against.
    RewardsPosted {
        /// The task.
        task_id: u64,
        /// The Merkle root of (account, amount) (`0x` hex of 32 bytes).
        root: String,
        /// The contribution record's content id.
        record_cid: String,
        /// Unix seconds: claims are possible until then.
        claim_deadline: u64,
    },
    /// The coordinator ended a shareholding task (one `SharesAssigned` per holder came before).
    SharesPosted {
        /// The task.
        task_id: u64,
        /// How many accounts received shares.
        holders: u64,
        /// The contribution record's content id.
        record_cid: String,
    },
    /// An account received shares of a task's model when the results were posted.
    SharesAssigned {
        /// The task.
        task_id: u64,
        /// The holder.
        account: String,
        /// Its shares (out of 10^18).
        shares: String,
    },
    /// An account claimed its reward from a task's pool.
    RewardClaimed {
        /// The task.
        task_id: u64,
        /// Who was paid.
        account: String,
        /// What it was paid.
        amount: String,
    },
    /// After the claim period, the unclaimed rest of the pool went back to the investor.
    UnclaimedReclaimed {
        /// The task.
        task_id: u64,
        /// What went back.
        amount: String,
    },
    /// A payer paid for a prediction on a finished task's model.
    PredictionRequested {
        /// The request's id (1, 2, … across tasks).
        request_id: u64,
        /// The task.
        task_id: u64,
        /// Who paid.
        payer: String,
        /// What was paid.
        fee: String,
        /// The content hash of the input (`0x` hex of 32 bytes).
        input_hash: String,
    },
    /// The fee receiver of predictions paid by vouchers forwarded `count` of a task's fees at once
    /// (`amount` = `count` × the fee), divided as `count` paid requests would be.
    PredictionFeesPaid {
        /// The task.
        task_id: u64,
        /// Who paid (the node's fee receiver).
        payer: String,
        /// How many predictions' fees.
        count: u64,
        /// What was paid.
        amount: String,
    },
    /// A holder moved shares of a task's model to another account.
    SharesTransferred {
        /// The task.
        task_id: u64,
        /// The sender.
        from: String,
        /// The receiver.
        to: String,
        /// How many shares.
        shares: String,
    },
    /// A shareholder was paid its accrued prediction fees.
    DividendsWithdrawn {
        /// The task.
        task_id: u64,
        /// The holder.
        account: String,
        /// What it was paid.
        amount: String,
    },
}

impl FlEvent {
    /// The event's name: the contract's, prefixed with `Fl`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TaskCreated { .. } => "FlTaskCreated",
            Self::TaskTerms { .. } => "FlTaskTerms",
            Self::MemberJoined { .. } => "FlMemberJoined",
            Self::MemberLeft { .. } => "FlMemberLeft",
            Self::BlocksBought { .. } => "FlBlocksBought",
            Self::TaskStarted { .. } => "FlTaskStarted",
            Self::TaskCancelled { .. } => "FlTaskCancelled",
            Self::BlockPaymentRefunded { .. } => "FlBlockPaymentRefunded",
            Self::RewardsPosted { .. } => "FlRewardsPosted",
            Self::SharesPosted { .. } => "FlSharesPosted",
            Self::SharesAssigned { .. } => "FlSharesAssigned",
            Self::RewardClaimed { .. } => "FlRewardClaimed",
            Self::UnclaimedReclaimed { .. } => "FlUnclaimedReclaimed",
            Self::PredictionRequested { .. } => "FlPredictionRequested",
            Self::PredictionFeesPaid { .. } => "FlPredictionFeesPaid",
            Self::SharesTransferred { .. } => "FlSharesTransferred",
            Self::DividendsWithdrawn { .. } => "FlDividendsWithdrawn",
        }
    }

    /// The task the event is about.
    pub fn task_id(&self) -> u64 {
        match self {
            Self::TaskCreated { task_id, .. }
            | Self::TaskTerms { task_id, .. }
            | Self::MemberJoined { task_id, .. }
            | Self::MemberLeft { task_id, .. }
            | Self::BlocksBought { task_id, .. }
            | Self::TaskStarted { task_id, .. }
            | Self::TaskCancelled { task_id, .. }
            | Self::BlockPaymentRefunded { task_id, .. }
            | Self::RewardsPosted { task_id, .. }
            | Self::SharesPosted { task_id, .. }
            | Self::SharesAssigned { task_id, .. }
            | Self::RewardClaimed { task_id, .. }
            | Self::UnclaimedReclaimed { task_id, .. }
            | Self::PredictionRequested { task_id, .. }
            | Self::PredictionFeesPaid { task_id, .. }
            | Self::SharesTransferred { task_id, .. }
            | Self::DividendsWithdrawn { task_id, .. } => *task_id,
        }
    }
}
