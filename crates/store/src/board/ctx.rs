//! What applying one task-board or community event needs: the transaction, where the log is, and
//! the checks every write makes (one row changed, amounts that parse and never go below zero).

use alloy::primitives::U256;
use sqlx::any::AnyArguments;
use sqlx::{Any, Row, Transaction};

use crate::column::i64_of;
use crate::{Error, LogMeta, Result};

pub(super) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// Where the event happened, and the transaction it is applied in.
pub(super) struct Ctx<'a, 'c> {
    pub(super) tx: &'a mut Transaction<'c, Any>,
    pub(super) chain: i64,
    pub(super) block: i64,
    /// The block's time, unix seconds: what the contracts record as `since` and `acceptedAt`.
    pub(super) at: i64,
    pub(super) meta: &'a LogMeta,
    pub(super) kind: &'static str,
    pub(super) subject: String,
}

impl<'a, 'c> Ctx<'a, 'c> {
    pub(super) fn new(
        tx: &'a mut Transaction<'c, Any>,
        chain: i64,
        block: i64,
        meta: &'a LogMeta,
        kind: &'static str,
        subject: String,
    ) -> Result<Self> {
        let at = i64_of(meta.block_timestamp)?;
        Ok(Self { tx, chain, block, at, meta, kind, subject })
    }

    pub(super) fn inconsistent(&self, why: &str) -> Error {
        Error::Inconsistent(format!("{} for {} in tx {}: {why}", self.kind, self.subject, self.meta.tx_hash))
    }

    /// Runs `q`, which must change exactly one row.
    pub(super) async fn one(&mut self, q: Query<'_>, what: &str) -> Result<()> {
        match q.execute(&mut **self.tx).await?.rows_affected() {
            1 => Ok(()),
            n => Err(self.inconsistent(&format!("{what} changed {n} rows"))),
        }
    }

    /// The first row `q` returns, if any.
    pub(super) async fn row(&mut self, q: Query<'_>) -> Result<Option<sqlx::any::AnyRow>> {
        Ok(q.fetch_optional(&mut **self.tx).await?)
    }

    /// A decimal amount an event carries or a row holds.
    pub(super) fn amount(&self, text: &str) -> Result<U256> {
        U256::from_str_radix(text, 10).map_err(|_| self.inconsistent(&format!("amount {text:?}")))
    }

    /// A text column of `row` holding an amount.
    pub(super) fn amount_at(&self, row: &sqlx::any::AnyRow, i: usize) -> Result<U256> {
        let text: String = row.try_get(i)?;
        self.amount(&text)
    }

    /// `a - b`, or an inconsistency naming `what` when it would go below zero.
    pub(super) fn minus(&self, a: U256, b: U256, what: &str) -> Result<U256> {
        a.checked_sub(b).ok_or_else(|| self.inconsistent(&format!("{what}: {a} - {b} is below zero")))
    }

    /// `a + b`, or an inconsistency when it overflows 256 bits.
    pub(super) fn plus(&self, a: U256, b: U256, what: &str) -> Result<U256> {
        a.checked_add(b).ok_or_else(|| self.inconsistent(&format!("{what}: {a} + {b} overflows")))
    }
}
