//! A community with its owner, admins and members, arranged as the indexer records one: the
//! Communities contract's events applied through the store's one apply path, a block at a time.

use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, CommunityEvent, IndexedLog, LogMeta, MarketEvent, Store};
use alloy::primitives::Address;

pub(crate) const CHAIN: u64 = 31337;

/// Applies `events` in a block of their own after the cursor (started at block 0 the first time).
pub(crate) async fn apply(store: &Store, events: Vec<CommunityEvent>) -> anyhow::Result<()> {
    let cursor = match store.cursor(CHAIN).await? {
        Some(c) => c,
        None => {
            let genesis = BlockRef { number: 0, hash: format!("0x{:064x}", 0), parent_hash: "0x".into(), timestamp: 1 };
            store.init_cursor(CHAIN, &genesis).await?
        }
    };
    let number = cursor.block_number + 1;
    let block = BlockRef {
        number,
        hash: format!("0x{number:064x}"),
        parent_hash: cursor.block_hash,
        timestamp: 1_700_000_000 + number,
    };
    let logs = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| IndexedLog {
            meta: LogMeta {
                block_number: number,
                block_hash: block.hash.clone(),
                block_timestamp: block.timestamp,
                tx_hash: format!("0x{:064x}", number * 1000 + i as u64),
                log_index: i as u64,
                address: format!("{:#x}", Address::repeat_byte(0xcc)),
            },
            event: MarketEvent::Community(e),
        })
        .collect();
    store
        .apply_batch(&Batch { chain_id: CHAIN, expected_cursor: cursor.block_number, blocks: vec![block], logs })
        .await?;
    Ok(())
}

/// The events that make community `id` owned by `owner`, with `admins` and `members` (list the
/// owner among the members: the contract makes its creator the first member).
pub(crate) fn community_events(
    id: u64,
    owner: Address,
    admins: &[Address],
    members: &[Address],
) -> Vec<CommunityEvent> {
    let hex = |a: Address| format!("{a:#x}");
    let mut events = vec![CommunityEvent::CommunityCreated {
        community_id: id,
        owner: hex(owner),
        points_token: hex(Address::repeat_byte(0xd0 + (id % 16) as u8)),
        arbiter: hex(owner),
        name: format!("Community {id}"),
        symbol: "PTS".into(),
        metadata_uri: String::new(),
    }];
    events.extend(admins.iter().map(|a| CommunityEvent::AdminAdded { community_id: id, account: hex(*a) }));
    events.extend(members.iter().enumerate().map(|(i, a)| CommunityEvent::MemberJoined {
        community_id: id,
        account: hex(*a),
        member_count: i as u64 + 1,
    }));
    events
}

/// Community `id` owned by `owner`, with `admins` and `members`.
pub(crate) async fn community(
    db: &TestDb,
    id: u64,
    owner: Address,
    admins: &[Address],
    members: &[Address],
) -> anyhow::Result<()> {
    apply(&db.store, community_events(id, owner, admins, members)).await
}
