//! The conversions at the store's edge, in one place: Rust values to the text and integers the
//! schema holds, and back. Addresses and hashes are written as lower-case `0x` hex and amounts as
//! decimal strings; reading them back parses them once, and a stored value that does not parse is
//! a corrupt row ([`Error::Inconsistent`]), never a guess.

use std::fmt::LowerHex;
use std::str::FromStr;

use alloy::primitives::U256;
use sqlx::any::AnyRow;
use sqlx::{ColumnIndex, Row};

use crate::{Error, Result};

/// `v` as the database's signed 64-bit integer; a value past `i64::MAX` is refused.
pub(crate) fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::OutOfRange(v))
}

/// Values only ever written through [`i64_of`], so never negative.
pub(crate) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

/// How the store writes an address or a hash: lower-case `0x` hex, the one spelling queries match on.
pub(crate) fn hex(v: impl LowerHex) -> String {
    format!("{v:#x}")
}

/// A column that holds text the store wrote from a Rust type (an address, a hash, a status),
/// parsed back into it.
pub(crate) fn parsed<T: FromStr, I: ColumnIndex<AnyRow>>(r: &AnyRow, i: I, what: &str) -> Result<T> {
    let text: String = r.try_get(i)?;
    text.parse().map_err(|_| corrupt(what, &text))
}

/// [`parsed`] for a column that may be NULL.
pub(crate) fn parsed_opt<T: FromStr, I: ColumnIndex<AnyRow>>(r: &AnyRow, i: I, what: &str) -> Result<Option<T>> {
    let text: Option<String> = r.try_get(i)?;
    text.map(|text| text.parse().map_err(|_| corrupt(what, &text))).transpose()
}

/// A column holding a decimal amount, as a `U256`.
pub(crate) fn amount<I: ColumnIndex<AnyRow>>(r: &AnyRow, i: I, what: &str) -> Result<U256> {
    let text: String = r.try_get(i)?;
    U256::from_str_radix(&text, 10).map_err(|_| corrupt(what, &text))
}

/// [`amount`] for a column that may be NULL.
pub(crate) fn amount_opt<I: ColumnIndex<AnyRow>>(r: &AnyRow, i: I, what: &str) -> Result<Option<U256>> {
    let text: Option<String> = r.try_get(i)?;
    text.map(|text| U256::from_str_radix(&text, 10).map_err(|_| corrupt(what, &text))).transpose()
}

fn corrupt(what: &str, text: &str) -> Error {
    Error::Inconsistent(format!("stored {what} {text:?} does not parse"))
}

/// Declares a fieldless enum stored as one fixed word per variant, with `as_str`, `FromStr` and
/// `Display` over exactly those words (the words are the on-disk format: never change one).
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The word stored for this variant.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::UnknownVariant;

            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(crate::UnknownVariant { what: stringify!($name), text: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;

    use crate::testing::TestDb;
    use crate::{
        ChannelState, ComputeStage, Error, FlLogLevel, FlMode, FlResultKind, FlTaskState, IexecJobStatus, OrderState,
        PaymentMethod, SettlementOutcome, TaskStatus, WorkerStage,
    };

    #[test]
    fn every_stored_word_reads_back_as_its_variant() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr>(
            all: &[T],
            word: fn(T) -> &'static str,
        ) {
            for v in all {
                assert_eq!(word(*v).parse::<T>().ok(), Some(*v));
            }
        }
        round_trip(TaskStatus::ALL, TaskStatus::as_str);
        round_trip(ChannelState::ALL, ChannelState::as_str);
        round_trip(SettlementOutcome::ALL, SettlementOutcome::as_str);
        round_trip(ComputeStage::ALL, ComputeStage::as_str);
        round_trip(IexecJobStatus::ALL, IexecJobStatus::as_str);
        round_trip(WorkerStage::ALL, WorkerStage::as_str);
        round_trip(OrderState::ALL, OrderState::as_str);
        round_trip(PaymentMethod::ALL, PaymentMethod::as_str);
        round_trip(FlMode::ALL, FlMode::as_str);
        round_trip(FlTaskState::ALL, FlTaskState::as_str);
        round_trip(FlLogLevel::ALL, FlLogLevel::as_str);
        round_trip(FlResultKind::ALL, FlResultKind::as_str);
        assert!("closed".parse::<ChannelState>().is_err(), "words are matched exactly");
    }

    #[tokio::test]
    async fn a_stored_value_that_does_not_parse_is_a_corrupt_row() -> anyhow::Result<()> {
        for db in TestDb::both().await? {
            let channel = B256::repeat_byte(1);
            let good_hash = format!("{:#x}", B256::ZERO);
            for (tx_hash, outcome, bad) in
                [("not-a-hash", "closed", "not-a-hash"), (good_hash.as_str(), "done", "done")]
            {
                sqlx::query(
                    "INSERT INTO channel_settlements (chain_id, channel_id, cumulative_amount, tx_hash, outcome, \
                     updated_at) VALUES (1, $1, '5', $2, $3, 0) ON CONFLICT (chain_id, channel_id) DO UPDATE SET \
                     tx_hash = excluded.tx_hash, outcome = excluded.outcome",
                )
                .bind(format!("{channel:#x}"))
                .bind(tx_hash)
                .bind(outcome)
                .execute(db.store.pool())
                .await?;
                let read = db.store.settlement(1, channel).await;
                assert!(matches!(&read, Err(Error::Inconsistent(m)) if m.contains(bad)), "{}: {read:?}", db.label);
            }
            db.finish().await?;
        }
        Ok(())
    }
}
