//! Refusals: the contracts' custom errors by name, and the reward split checked before sending.

use agora_chain::bindings::{Communities, CommunityPoints, TaskBoard};
use agora_chain::revert::ContractError;
use alloy::primitives::U256;
use alloy::sol_types::SolInterface;

use super::Refused;

/// The custom error's name out of its `Debug` text (`TaskHasSubmissions(TaskHasSubmissions { … })`).
fn name_of(text: &str) -> String {
    text.split(['(', ' ', '{']).next().filter(|s| !s.is_empty()).unwrap_or("reverted").to_owned()
}

/// The revert data behind a decoded or undecoded contract error. The chain crate decodes against the
/// older contracts first, and TaskBoard shares the payout base's errors with them (same selectors,
/// same names), so their data is taken back and decoded against the board's contracts here.
fn revert_data(e: &ContractError) -> Option<Vec<u8>> {
    match e {
        ContractError::UnknownRevert(data) => Some(data.to_vec()),
        ContractError::Market(m) => Some(m.abi_encode()),
        ContractError::Channel(c) => Some(c.abi_encode()),
        ContractError::Token(t) => Some(t.abi_encode()),
        _ => None,
    }
}

/// Turns a chain error into [`Refused`] when TaskBoard's, Communities' or a points token's revert
/// data says why (an ERC-20's own errors otherwise, as the chain crate names them).
pub(super) fn refused(e: agora_chain::Error) -> anyhow::Error {
    if let agora_chain::Error::Contract(c) = &e
        && let Some(data) = revert_data(c)
    {
        let decoded = if let Ok(err) = TaskBoard::TaskBoardErrors::abi_decode(&data) {
            Some(("TaskBoard", format!("{err:?}")))
        } else if let Ok(err) = Communities::CommunitiesErrors::abi_decode(&data) {
            Some(("Communities", format!("{err:?}")))
        } else if let Ok(err) = CommunityPoints::CommunityPointsErrors::abi_decode(&data) {
            Some(("the community's points", format!("{err:?}")))
        } else {
            c.name().map(|name| ("the token", format!("{name}: {c}")))
        };
        if let Some((who, text)) = decoded {
            return Refused { code: name_of(&text), message: format!("{who} refused: {text}") }.into();
        }
    }
    e.into()
}

/// A reward that the slots do not divide: refused here, before any transaction, with the two
/// nearest rewards that split evenly.
#[derive(Debug, thiserror::Error)]
#[error(
    "a reward of {reward} does not split evenly over {slots} slots (every slot pays the same): publish {}{higher}",
    .lower.as_ref().map(|l| format!("{l} or ")).unwrap_or_default()
)]
pub struct NotDivisible {
    /// The reward asked for.
    pub reward: U256,
    /// The slots asked for.
    pub slots: u16,
    /// The nearest valid reward below (none when that would be zero).
    pub lower: Option<U256>,
    /// The nearest valid reward above.
    pub higher: U256,
}

/// Refuses a reward the slots do not divide (the contract's `RewardNotDivisible`), naming the two
/// nearest rewards that they do. Zero slots or a zero reward are left to the contract's own checks.
pub fn check_divisible(reward: U256, slots: u16) -> Result<(), NotDivisible> {
    if slots == 0 || reward.is_zero() {
        return Ok(());
    }
    let n = U256::from(slots);
    let rest = reward % n;
    if rest.is_zero() {
        return Ok(());
    }
    let lower = reward - rest;
    Err(NotDivisible { reward, slots, lower: (!lower.is_zero()).then_some(lower), higher: lower + n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uneven_reward_names_the_two_nearest_multiples() {
        let e = check_divisible(U256::from(100), 3).expect_err("100 over 3");
        assert_eq!((e.lower, e.higher), (Some(U256::from(99)), U256::from(102)));
        assert!(e.to_string().ends_with("publish 99 or 102"), "{e}");
        let e = check_divisible(U256::from(2), 3).expect_err("2 over 3");
        assert_eq!((e.lower, e.higher), (None, U256::from(3)));
        assert!(e.to_string().ends_with("publish 3"), "{e}");
        assert!(check_divisible(U256::from(99), 3).is_ok());
        assert!(check_divisible(U256::from(7), 1).is_ok());
    }

    #[test]
    fn board_errors_are_named_even_where_the_payout_base_shares_them() {
        use alloy::sol_types::SolError;
        let data = TaskBoard::TaskHasSubmissions { taskId: U256::from(4) }.abi_encode();
        let e = refused(agora_chain::Error::Contract(agora_chain::revert::decode_revert(&data)));
        let r = e.downcast::<Refused>().expect("refused");
        assert_eq!(r.code, "TaskHasSubmissions");
        assert!(r.message.contains('4'), "{}", r.message);
        let data =
            TaskBoard::NothingToWithdraw { account: alloy::primitives::Address::ZERO, token: Default::default() }
                .abi_encode();
        let e = refused(agora_chain::Error::Contract(agora_chain::revert::decode_revert(&data)));
        assert_eq!(e.downcast::<Refused>().expect("refused").code, "NothingToWithdraw");
    }
}
