//! `agora community create|join|leave|add-admin|remove-admin|mint|transfers|allow-board|show`: the
//! task market's communities and their points, through `agora_node::board_client`.

use agora_node::board_client::{BoardNode, CommunityAction};
use agora_node::client::{Address, U256};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::board::failed;
use crate::channel::{ClientFlags, KeyFlag, key};
use crate::out::{Out, Outcome};

/// On or off.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Switch {
    On,
    Off,
}

#[derive(Subcommand)]
pub(crate) enum CommunityCmd {
    /// Create a community (you are its owner and first member) with its own points token.
    Create {
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        name: String,
        /// The points' symbol.
        #[arg(long)]
        symbol: String,
        /// Where its description, avatar and rules are (kept off chain).
        #[arg(long, default_value = "")]
        metadata_uri: String,
        /// Who decides its tasks' disputes; default: you.
        #[arg(long)]
        arbiter: Option<Address>,
    },
    /// Become a member.
    Join {
        id: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Stop being a member (your points stay).
    Leave {
        id: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Make an account an admin (the owner).
    AddAdmin {
        id: u64,
        account: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Remove an admin (the owner).
    RemoveAdmin {
        id: u64,
        account: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Mint points to an account for its activity (an admin).
    Mint {
        id: u64,
        to: Address,
        amount: U256,
        #[command(flatten)]
        key: KeyFlag,
        /// Why; its keccak-256 is the reason code the event keeps.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Let holders move their points, or not (the owner).
    Transfers {
        id: u64,
        #[arg(value_enum)]
        switch: Switch,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Set what the task board may still reserve for tasks promising points (an admin).
    AllowBoard {
        id: u64,
        allowance: u128,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// A community as the chain holds it; with --account, that account's points and roles.
    Show {
        id: u64,
        #[arg(long)]
        account: Option<Address>,
    },
}

/// Runs `agora community …`.
pub(crate) async fn run(cmd: CommunityCmd, flags: &ClientFlags, out: Out) -> Outcome {
    let node = BoardNode::connect(&flags.api, flags.rpc_url.as_deref()).await.map_err(failed)?;
    let (id, k, action) = match cmd {
        CommunityCmd::Create { key: k, name, symbol, metadata_uri, arbiter } => {
            let c =
                node.create_community(&key(&k.key)?, &name, &symbol, &metadata_uri, arbiter).await.map_err(failed)?;
            let line = format!(
                "community {} created: points {} ({symbol}), arbiter {} ({})",
                c.community_id, c.points, c.arbiter, c.tx
            );
            out.result(&json!({ "created": c }), &line);
            return Ok(());
        }
        CommunityCmd::Show { id, account } => {
            let c = node.community(id, account).await.map_err(failed)?;
            let mut line = format!(
                "community {} \"{}\" ({}): owner {}, arbiter {}, {} member(s), {} points minted, transfers {}, \
                 board may reserve {} and holds {}",
                c.id,
                c.name,
                c.symbol,
                c.owner,
                c.arbiter,
                c.member_count,
                c.points_supply,
                if c.transfers_enabled { "on" } else { "off" },
                c.board_allowance,
                c.board_reserved
            );
            if let Some(a) = &c.account {
                line.push_str(&format!(
                    "; {} holds {} point(s){}{}",
                    a.address,
                    a.points,
                    if a.member { ", member" } else { "" },
                    if a.admin { ", admin" } else { "" }
                ));
            }
            out.result(&json!({ "community": c }), &line);
            return Ok(());
        }
        CommunityCmd::Join { id, key: k } => (id, k, CommunityAction::Join),
        CommunityCmd::Leave { id, key: k } => (id, k, CommunityAction::Leave),
        CommunityCmd::AddAdmin { id, account, key: k } => (id, k, CommunityAction::AddAdmin(account)),
        CommunityCmd::RemoveAdmin { id, account, key: k } => (id, k, CommunityAction::RemoveAdmin(account)),
        CommunityCmd::Mint { id, to, amount, key: k, reason } => (id, k, CommunityAction::Mint(to, amount, reason)),
        CommunityCmd::Transfers { id, switch, key: k } => {
            (id, k, CommunityAction::Transfers(matches!(switch, Switch::On)))
        }
        CommunityCmd::AllowBoard { id, allowance, key: k } => (id, k, CommunityAction::AllowBoard(allowance)),
    };
    let (name, what) = match &action {
        CommunityAction::Join => ("joined", "joined".to_owned()),
        CommunityAction::Leave => ("left", "left".to_owned()),
        CommunityAction::AddAdmin(a) => ("adminAdded", format!("{a} is an admin")),
        CommunityAction::RemoveAdmin(a) => ("adminRemoved", format!("{a} is no longer an admin")),
        CommunityAction::Mint(to, n, _) => ("minted", format!("minted {n} point(s) to {to}")),
        CommunityAction::Transfers(on) => ("transfers", format!("transfers {}", if *on { "on" } else { "off" })),
        CommunityAction::AllowBoard(n) => ("boardAllowed", format!("the task board may reserve {n} point(s)")),
    };
    let tx = node.community_act(&key(&k.key)?, id, action).await.map_err(failed)?;
    out.result(&json!({ name: { "community": id, "tx": tx.to_string() } }), &format!("community {id}: {what} ({tx})"));
    Ok(())
}
