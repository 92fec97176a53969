//! Payment channels: the channels as indexed (derived from the `PaymentChannel` contract's logs),
//! the payee ledger's highest voucher per channel, and the auto-settle job's settlement attempts.
//! The last two are the node's own state, which no reorg touches.

use alloy::primitives::{Address, B256, U256, hex};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, amount, amount_opt, i64_of, parsed, stored_enum, u64_of};
use crate::{Error, Result, Store};

stored_enum! {
    /// A channel's state on chain.
    pub enum ChannelState {
        /// Vouchers may be given and the payee may close it (until its expiry).
        Open => "Open",
        /// The payee closed it with a voucher.
        Closed => "Closed",
        /// The payer took the deposit back after the expiry.
        Reclaimed => "Reclaimed",
    }
}

/// A channel as indexed, with the payee ledger's highest voucher when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    /// Its id, `keccak256` of its parameters.
    pub channel_id: B256,
    /// Who deposited.
    pub payer: Address,
    /// Who may close it with a voucher.
    pub payee: Address,
    /// The deposit's token; `Address::ZERO` for ETH.
    pub token: Address,
    /// Whose signature a voucher must carry.
    pub signer: Address,
    /// The payer's salt, part of the id.
    pub salt: B256,
    /// The deposit, smallest unit: no voucher may exceed it.
    pub deposit: U256,
    /// Unix seconds (chain time) from which the payer may reclaim.
    pub expiry: u64,
    /// Where it stands on chain.
    pub state: ChannelState,
    /// What the payee received, once closed.
    pub paid_to_payee: Option<U256>,
    /// What went back to the payer, once closed or reclaimed.
    pub refunded_to_payer: Option<U256>,
    /// The block it was opened in.
    pub opened_block: u64,
    /// The block of its latest change.
    pub updated_block: u64,
    /// The highest voucher this node's ledger accepted for it.
    pub voucher: Option<VoucherRow>,
}

/// The highest voucher the payee ledger accepted for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherRow {
    /// The total the payer has signed over, smallest unit.
    pub cumulative_amount: U256,
    /// The payer's EIP-712 signature, `r || s || v`.
    pub signature: [u8; 65],
    /// How many vouchers the ledger accepted for the channel in all.
    pub vouchers_accepted: u64,
    /// When the latest was stored, unix seconds.
    pub updated_at: u64,
}

/// A voucher the ledger accepted and must store before acknowledging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoucher {
    /// Its channel.
    pub channel_id: B256,
    /// The total it signs over, above every voucher stored for the channel before.
    pub cumulative_amount: U256,
    /// The payer's EIP-712 signature, `r || s || v`.
    pub signature: [u8; 65],
    /// How many vouchers this one stands for (a group commit stores only the highest of a channel's).
    pub count: u64,
}

/// Which channels to list: `None` matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelFilter {
    /// Only channels this address paid into.
    pub payer: Option<Address>,
    /// Only channels that pay this address.
    pub payee: Option<Address>,
}

stored_enum! {
    /// How the latest attempt to settle a channel ended.
    pub enum SettlementOutcome {
        /// Recorded before the transaction is sent; still so after a crash mid-send.
        Sending => "sending",
        /// The close transaction was mined.
        Closed => "closed",
        /// The contract said the channel was no longer open (closed or reclaimed meanwhile).
        AlreadyFinished => "already-finished",
        /// The transaction failed; the next run tries again.
        Failed => "failed",
        /// The channel's expiry passed while it was still open (the expiry job marks it): the node
        /// can no longer close it, and its payer may reclaim the deposit.
        Expired => "expired",
    }
}

/// The latest attempt to settle a channel (one per channel, updated in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The voucher total it closed, or tried to close, with.
    pub cumulative_amount: U256,
    /// The close transaction, once mined.
    pub tx_hash: Option<B256>,
    /// How it ended.
    pub outcome: SettlementOutcome,
}

const CHANNEL_SELECT: &str = "SELECT c.channel_id, c.payer, c.payee, c.token, c.signer, c.salt, c.deposit, c.expiry, \
     c.state, c.paid_to_payee, c.refunded_to_payer, c.opened_block, c.updated_block, v.cumulative_amount, v.signature, \
     v.vouchers_accepted, v.updated_at FROM channels c LEFT JOIN channel_vouchers v \
     ON v.chain_id = c.chain_id AND v.channel_id = c.channel_id";

fn channel_row(r: &AnyRow) -> Result<ChannelRow> {
    let voucher = match amount_opt(r, 13, "voucher amount")? {
        Some(cumulative_amount) => Some(VoucherRow {
            cumulative_amount,
            signature: signature(&r.try_get::<String, _>(14)?)?,
            vouchers_accepted: u64_of(r.try_get(15)?),
            updated_at: u64_of(r.try_get(16)?),
        }),
        None => None,
    };
    Ok(ChannelRow {
        channel_id: parsed(r, 0, "channel id")?,
        payer: parsed(r, 1, "channel payer")?,
        payee: parsed(r, 2, "channel payee")?,
        token: parsed(r, 3, "channel token")?,
        signer: parsed(r, 4, "channel signer")?,
        salt: parsed(r, 5, "channel salt")?,
        deposit: amount(r, 6, "channel deposit")?,
        expiry: u64_of(r.try_get(7)?),
        state: parsed(r, 8, "channel state")?,
        paid_to_payee: amount_opt(r, 9, "channel payout")?,
        refunded_to_payer: amount_opt(r, 10, "channel refund")?,
        opened_block: u64_of(r.try_get(11)?),
        updated_block: u64_of(r.try_get(12)?),
        voucher,
    })
}

/// A stored signature (`0x` hex of 65 bytes) as its bytes.
fn signature(text: &str) -> Result<[u8; 65]> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| Error::Inconsistent(format!("stored voucher signature {text:?} is not 65 bytes of hex")))
}

impl Store {
    /// One channel, with its highest accepted voucher.
    pub async fn channel(&self, chain_id: u64, channel_id: B256) -> Result<Option<ChannelRow>> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("{CHANNEL_SELECT} WHERE c.chain_id = $1 AND c.channel_id = $2")))
                .bind(i64_of(chain_id)?)
                .bind(column::hex(channel_id))
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(channel_row).transpose()
    }

    /// Channels by payer and/or payee, newest first.
    pub async fn channels(&self, chain_id: u64, filter: ChannelFilter, limit: u32) -> Result<Vec<ChannelRow>> {
        let sql = format!(
            "{CHANNEL_SELECT} WHERE c.chain_id = $1 AND ($2 = '' OR c.payer = $2) AND ($3 = '' OR c.payee = $3) \
             ORDER BY c.opened_block DESC, c.channel_id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(filter.payer.map(column::hex).unwrap_or_default())
            .bind(filter.payee.map(column::hex).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Open channels of `payee` whose expiry falls in `(now, now + margin]`, soonest first.
    pub async fn channels_expiring(
        &self,
        chain_id: u64,
        payee: Address,
        now: u64,
        margin: u64,
    ) -> Result<Vec<ChannelRow>> {
        let sql = format!(
            "{CHANNEL_SELECT} WHERE c.chain_id = $1 AND c.payee = $2 AND c.state = 'Open' AND c.expiry > $3 \
             AND c.expiry <= $4 ORDER BY c.expiry"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(payee))
            .bind(i64_of(now)?)
            .bind(i64_of(now.saturating_add(margin))?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Channels paying `payee` still open on chain whose expiry is at or before `now` (chain time):
    /// the payer may reclaim them.
    pub async fn channels_expired(&self, chain_id: u64, payee: Address, now: u64) -> Result<Vec<ChannelRow>> {
        let sql = format!(
            "{CHANNEL_SELECT} WHERE c.chain_id = $1 AND c.payee = $2 AND c.state = 'Open' AND c.expiry <= $3 \
             ORDER BY c.expiry"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(payee))
            .bind(i64_of(now)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Stores accepted vouchers in one transaction (the ledger's group commit): each replaces the
    /// channel's previous highest voucher. The caller has already checked that each amount is higher.
    pub async fn store_vouchers(&self, chain_id: u64, vouchers: &[NewVoucher], now: u64) -> Result<()> {
        self.store_payments(chain_id, vouchers, &[], now).await
    }

    /// The payee's group commit: accepted vouchers (each replacing its channel's previous highest;
    /// the caller has checked that each amount is higher) and the assistant's chunks about to be
    /// sent (see [`Store::record_chunks`]), all in one transaction, a few multi-row statements per
    /// table however many streams the batch serves. Nothing is kept if anything fails.
    pub async fn store_payments(
        &self,
        chain_id: u64,
        vouchers: &[NewVoucher],
        chunks: &[crate::NewChunk],
        now: u64,
    ) -> Result<()> {
        if vouchers.is_empty() && chunks.is_empty() {
            return Ok(());
        }
        let chain = i64_of(chain_id)?;
        let now = i64_of(now)?;
        let sqlite = self.pool().connect_options().database_url.scheme().starts_with("sqlite");
        if chunks.is_empty() && vouchers.len() <= ROWS_PER_STATEMENT {
            // One statement is atomic by itself: no BEGIN and COMMIT round trips (a lone payer's
            // voucher waits for exactly one statement and its commit).
            let mut conn = self.pool().acquire().await?;
            return write_vouchers(&mut conn, sqlite, chain, now, vouchers).await;
        }
        let mut tx = self.begin().await?;
        write_vouchers(&mut tx, sqlite, chain, now, vouchers).await?;
        crate::assistant::write_chunks(&mut tx, sqlite, chain, now, chunks).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stored highest voucher of `chain_id`, as (channel, amount): the ledger loads these at start.
    pub async fn best_vouchers(&self, chain_id: u64) -> Result<Vec<(B256, U256)>> {
        let rows = sqlx::query("SELECT channel_id, cumulative_amount FROM channel_vouchers WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((parsed(r, 0, "voucher channel")?, amount(r, 1, "voucher amount")?))).collect()
    }

    /// Records a settlement attempt for a channel, replacing the previous one.
    pub async fn record_settlement(
        &self,
        chain_id: u64,
        channel_id: B256,
        attempt: &Settlement,
        now: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO channel_settlements (chain_id, channel_id, cumulative_amount, tx_hash, outcome, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, channel_id) DO UPDATE SET \
             cumulative_amount = excluded.cumulative_amount, tx_hash = excluded.tx_hash, outcome = excluded.outcome, \
             updated_at = excluded.updated_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(column::hex(channel_id))
        .bind(attempt.cumulative_amount.to_string())
        .bind(attempt.tx_hash.map(column::hex))
        .bind(attempt.outcome.as_str())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The latest settlement attempt for a channel.
    pub async fn settlement(&self, chain_id: u64, channel_id: B256) -> Result<Option<Settlement>> {
        let row = sqlx::query(
            "SELECT cumulative_amount, tx_hash, outcome FROM channel_settlements WHERE chain_id = $1 AND channel_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(column::hex(channel_id))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Settlement {
                cumulative_amount: amount(&r, 0, "settlement amount")?,
                tx_hash: column::parsed_opt(&r, 1, "settlement transaction")?,
                outcome: parsed(&r, 2, "settlement outcome")?,
            })
        })
        .transpose()
    }
}

/// Most rows in one multi-row statement. A batch is cut into statements of 128 rows, then of the
/// binary digits of what is left (64, 32, … 1), so a table sees at most eight distinct statements,
/// all kept prepared by sqlx's per-connection statement cache.
const ROWS_PER_STATEMENT: usize = 128;
const SIZES: usize = ROWS_PER_STATEMENT.trailing_zeros() as usize + 1;

/// The row counts `n` rows are written in (largest first).
pub(crate) fn statement_sizes(n: usize) -> impl Iterator<Item = usize> {
    let rest = n % ROWS_PER_STATEMENT;
    std::iter::repeat_n(ROWS_PER_STATEMENT, n / ROWS_PER_STATEMENT)
        .chain((0..SIZES - 1).rev().map(|b| 1usize << b).filter(move |s| rest & s != 0))
}

/// A multi-row statement: `head`, then `row` once per row joined by commas, then `tail`; each `?`
/// is one parameter, bound in the order they appear. Its text for each row count is built once.
/// SQLite gets anonymous `?` placeholders: sqlx looks up the name of every numbered one, and
/// SQLite finds a name by walking the statement's list of names, which made binding a statement
/// of n parameters cost n² steps. PostgreSQL gets `$1`, `$2`, ….
pub(crate) struct MultiRow {
    head: &'static str,
    row: &'static str,
    tail: &'static str,
    /// By backend (SQLite, PostgreSQL), then by log2 of the row count.
    texts: std::sync::OnceLock<[Vec<std::sync::Arc<str>>; 2]>,
}

impl MultiRow {
    pub(crate) const fn new(head: &'static str, row: &'static str, tail: &'static str) -> Self {
        Self { head, row, tail, texts: std::sync::OnceLock::new() }
    }

    /// The text for `rows` rows (one of [`statement_sizes`]).
    pub(crate) fn sql(&self, rows: usize, sqlite: bool) -> sqlx::AssertSqlSafe<std::sync::Arc<str>> {
        let texts = self.texts.get_or_init(|| {
            let build = |sqlite: bool| {
                (0..SIZES)
                    .map(|b| {
                        let rows = 1usize << b;
                        let mut text = String::from(self.head);
                        for i in 0..rows {
                            if i > 0 {
                                text.push_str(", ");
                            }
                            text.push_str(self.row);
                        }
                        text.push_str(self.tail);
                        if !sqlite {
                            text = numbered(&text);
                        }
                        std::sync::Arc::from(text)
                    })
                    .collect()
            };
            [build(true), build(false)]
        });
        let by_size = &texts[usize::from(!sqlite)];
        sqlx::AssertSqlSafe(by_size[(rows.trailing_zeros() as usize).min(SIZES - 1)].clone())
    }
}

/// `?` placeholders numbered `$1`, `$2`, … in order.
fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut n = 0;
    for ch in text.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Items in order of their key's first appearance, each key once, folded with `merge` (the later
/// item into the kept one): a multi-row upsert may touch a row only once.
pub(crate) fn merged_by<T: Clone, K: std::hash::Hash + Eq>(
    items: &[T],
    key: impl Fn(&T) -> K,
    merge: impl Fn(&mut T, &T),
) -> Vec<T> {
    let mut index = std::collections::HashMap::with_capacity(items.len());
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match index.entry(key(item)) {
            std::collections::hash_map::Entry::Occupied(e) => merge(&mut out[*e.get()], item),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(item.clone());
            }
        }
    }
    out
}

/// Upserts each channel's highest voucher (a later voucher of the same channel in `vouchers`
/// replaces an earlier one, their counts added).
async fn write_vouchers(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    chain: i64,
    now: i64,
    vouchers: &[NewVoucher],
) -> Result<()> {
    let vouchers = merged_by(
        vouchers,
        |v| v.channel_id,
        |kept, later| {
            kept.cumulative_amount = later.cumulative_amount;
            kept.signature = later.signature;
            kept.count += later.count;
        },
    );
    let mut rest = vouchers.as_slice();
    for size in statement_sizes(vouchers.len()) {
        let (part, after) = rest.split_at(size);
        rest = after;
        let mut q = sqlx::query(VOUCHERS_UPSERT.sql(size, sqlite));
        for v in part {
            q = q
                .bind(chain)
                .bind(column::hex(v.channel_id))
                .bind(v.cumulative_amount.to_string())
                .bind(hex::encode_prefixed(v.signature))
                .bind(i64_of(v.count)?)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

static VOUCHERS_UPSERT: MultiRow = MultiRow::new(
    "INSERT INTO channel_vouchers (chain_id, channel_id, cumulative_amount, signature, vouchers_accepted, updated_at) \
     VALUES ",
    "(?, ?, ?, ?, ?, ?)",
    " ON CONFLICT (chain_id, channel_id) DO UPDATE SET cumulative_amount = excluded.cumulative_amount, \
     signature = excluded.signature, \
     vouchers_accepted = channel_vouchers.vouchers_accepted + excluded.vouchers_accepted, \
     updated_at = excluded.updated_at",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_a_few_statement_sizes() {
        assert_eq!(statement_sizes(0).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(statement_sizes(1).collect::<Vec<_>>(), vec![1]);
        assert_eq!(statement_sizes(100).collect::<Vec<_>>(), vec![64, 32, 4]);
        assert_eq!(statement_sizes(300).collect::<Vec<_>>(), vec![128, 128, 32, 8, 4]);
        for n in 0..1000 {
            assert_eq!(statement_sizes(n).sum::<usize>(), n);
        }
    }

    #[test]
    fn statements_have_one_row_per_row_and_numbered_placeholders_on_postgres() {
        static S: MultiRow = MultiRow::new("INSERT INTO t VALUES ", "(?, ?)", " WHERE x = ?");
        assert_eq!(&*S.sql(2, true).0, "INSERT INTO t VALUES (?, ?), (?, ?) WHERE x = ?");
        assert_eq!(&*S.sql(1, false).0, "INSERT INTO t VALUES ($1, $2) WHERE x = $3");
        assert_eq!(S.sql(128, true).0.matches('?').count(), 257);
    }

    #[test]
    fn merged_keeps_first_appearance_order() {
        let merged = merged_by(&[(1, 10), (2, 20), (1, 11)], |p| p.0, |kept, later| kept.1 += later.1);
        assert_eq!(merged, vec![(1, 21), (2, 20)]);
    }
}
