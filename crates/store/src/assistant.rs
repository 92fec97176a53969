//! The AI assistant's records: what it billed each payment channel (`assistant_accounts`), every
//! reply (`assistant_replies`, keyed by the client's idempotency key) and every chunk of it
//! (`assistant_chunks`, written before the chunk is sent), the people who used it and whether an
//! admin disabled them (`assistant_users`), and which background jobs an admin paused
//! (`background_jobs`). The node owns all of it; nothing here is derived from the chain.

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::channels::{MultiRow, merged_by, statement_sizes};
use crate::column::{amount, hex, i64_of, parsed, stored_enum, u64_of};
use crate::{Error, Result, Store};

stored_enum! {
    /// Where a reply stands.
    pub enum ReplyStatus {
        /// Streaming, or interrupted (a dropped connection, a restart) and resumable.
        Running => "running",
        /// Every token was delivered; `finish` says why generation ended.
        Done => "done",
        /// Ended early: stopped by the payer, a refused or missing voucher, or a failed model. What
        /// was delivered stays billed.
        Stopped => "stopped",
    }
}

/// A reply about to start.
#[derive(Debug, Clone)]
pub struct NewReply {
    /// The client's idempotency key.
    pub request_id: String,
    /// The channel that pays for it.
    pub channel_id: B256,
    /// The channel's payer (the signed-in wallet or the voucher's channel).
    pub payer: Address,
    /// The model's id as offered.
    pub model: String,
    /// Hash of the request as sent, so a reused key for another request is refused.
    pub request_hash: B256,
    /// The conversation, JSON, kept so that a reply interrupted by a restart can be resumed.
    pub messages: String,
    /// Most completion tokens the reply may use.
    pub max_tokens: u32,
    /// Price per 1,000 prompt tokens, in the channel token's smallest unit.
    pub prompt_per_1k: U256,
    /// Price per 1,000 completion tokens.
    pub completion_per_1k: U256,
    /// What the channel was billed before this reply: its chunks' cumulative amounts start here.
    pub base: U256,
    /// The prompt's tokens (charged with the first chunk).
    pub prompt_tokens: u32,
    /// Which door the request came through: `ws` (browser, CLI) or `openai`.
    pub via: &'static str,
}

/// A stored reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRow {
    /// The client's idempotency key.
    pub request_id: String,
    /// The paying channel.
    pub channel_id: B256,
    /// The channel's payer.
    pub payer: Address,
    /// The model's id.
    pub model: String,
    /// Hash of the request as first sent.
    pub request_hash: B256,
    /// The conversation, JSON.
    pub messages: String,
    /// Most completion tokens the reply may use.
    pub max_tokens: u32,
    /// Price per 1,000 prompt tokens.
    pub prompt_per_1k: U256,
    /// Price per 1,000 completion tokens.
    pub completion_per_1k: U256,
    /// What the channel was billed before this reply.
    pub base: U256,
    /// The prompt's tokens.
    pub prompt_tokens: u32,
    /// Completion tokens recorded so far.
    pub completion_tokens: u32,
    /// The reply's cost so far (`base + cost` is what the channel is billed once it is delivered).
    pub cost: U256,
    /// Where it stands.
    pub status: ReplyStatus,
    /// Why it ended (`stop`, `length`, `stopped`, or an error code), once it has.
    pub finish: Option<String>,
    /// `ws` or `openai`.
    pub via: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
}

/// A chunk to record before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    /// The reply it belongs to.
    pub request_id: String,
    /// The paying channel (its account's `billed` becomes `cumulative`).
    pub channel_id: B256,
    /// 1, 2, … within the reply.
    pub seq: u32,
    /// The text delivered.
    pub text: String,
    /// Completion tokens in it.
    pub tokens: u32,
    /// The reply's cost once this chunk is delivered.
    pub cost: U256,
    /// What the channel is billed once this chunk is delivered: the voucher amount asked for.
    pub cumulative: U256,
}

/// A recorded chunk.
pub type ChunkRow = NewChunk;

/// Someone the node knows (the assistant, profiles, posts), as the admin sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantUser {
    /// The wallet.
    pub address: Address,
    /// A disabled user's requests are refused.
    pub disabled: bool,
    /// Unix seconds they were first seen (a request, a profile, a post).
    pub first_seen: u64,
    /// Replies started.
    pub replies: u64,
    /// Completion tokens delivered over all replies.
    pub completion_tokens: u64,
    /// Threads and replies they wrote (tombstones included).
    pub posts: u64,
}

const REPLY_SELECT: &str = "SELECT request_id, channel_id, payer, model, request_hash, messages, max_tokens, \
     prompt_per_1k, completion_per_1k, base, prompt_tokens, completion_tokens, cost, status, finish, via, created_at, \
     updated_at FROM assistant_replies";

fn count(r: &AnyRow, i: usize) -> Result<u32> {
    let v: i64 = r.try_get(i)?;
    u32::try_from(v).map_err(|_| Error::Inconsistent(format!("stored count {v} is out of range")))
}

fn reply_row(r: &AnyRow) -> Result<ReplyRow> {
    Ok(ReplyRow {
        request_id: r.try_get(0)?,
        channel_id: parsed(r, 1, "channel id")?,
        payer: parsed(r, 2, "payer")?,
        model: r.try_get(3)?,
        request_hash: parsed(r, 4, "request hash")?,
        messages: r.try_get(5)?,
        max_tokens: count(r, 6)?,
        prompt_per_1k: amount(r, 7, "prompt price")?,
        completion_per_1k: amount(r, 8, "completion price")?,
        base: amount(r, 9, "base")?,
        prompt_tokens: count(r, 10)?,
        completion_tokens: count(r, 11)?,
        cost: amount(r, 12, "cost")?,
        status: parsed(r, 13, "reply status")?,
        finish: r.try_get(14)?,
        via: r.try_get(15)?,
        created_at: u64_of(r.try_get(16)?),
        updated_at: u64_of(r.try_get(17)?),
    })
}

fn chunk_row(r: &AnyRow) -> Result<ChunkRow> {
    Ok(ChunkRow {
        request_id: r.try_get(0)?,
        channel_id: parsed(r, 1, "channel id")?,
        seq: count(r, 2)?,
        text: r.try_get(3)?,
        tokens: count(r, 4)?,
        cost: amount(r, 5, "chunk cost")?,
        cumulative: amount(r, 6, "chunk cumulative")?,
    })
}

impl Store {
    /// What the assistant has billed `channel_id` so far (zero before its first reply).
    pub async fn assistant_billed(&self, chain_id: u64, channel_id: B256) -> Result<U256> {
        let row = sqlx::query("SELECT billed FROM assistant_accounts WHERE chain_id = $1 AND channel_id = $2")
            .bind(i64_of(chain_id)?)
            .bind(hex(channel_id))
            .fetch_optional(self.pool())
            .await?;
        row.map_or(Ok(U256::ZERO), |r| amount(&r, 0, "billed"))
    }

    /// The highest voucher amount the ledger accepted for `channel_id` (zero if none).
    pub async fn accepted_voucher(&self, chain_id: u64, channel_id: B256) -> Result<U256> {
        let row = sqlx::query("SELECT cumulative_amount FROM channel_vouchers WHERE chain_id = $1 AND channel_id = $2")
            .bind(i64_of(chain_id)?)
            .bind(hex(channel_id))
            .fetch_optional(self.pool())
            .await?;
        row.map_or(Ok(U256::ZERO), |r| amount(&r, 0, "voucher amount"))
    }

    /// Records a new reply, or returns the one already stored under its request id (the caller
    /// compares hashes: the same request resumes, another one is refused). `Ok((row, true))` when it
    /// was inserted now.
    pub async fn begin_reply(&self, chain_id: u64, reply: &NewReply, now: u64) -> Result<(ReplyRow, bool)> {
        let chain = i64_of(chain_id)?;
        let inserted = sqlx::query(
            "INSERT INTO assistant_replies (chain_id, request_id, channel_id, payer, model, request_hash, messages, \
             max_tokens, prompt_per_1k, completion_per_1k, base, prompt_tokens, completion_tokens, cost, status, finish, \
             via, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, '0', 'running', \
             NULL, $13, $14, $14) ON CONFLICT (chain_id, request_id) DO NOTHING",
        )
        .bind(chain)
        .bind(&reply.request_id)
        .bind(hex(reply.channel_id))
        .bind(hex(reply.payer))
        .bind(&reply.model)
        .bind(hex(reply.request_hash))
        .bind(&reply.messages)
        .bind(i64::from(reply.max_tokens))
        .bind(reply.prompt_per_1k.to_string())
        .bind(reply.completion_per_1k.to_string())
        .bind(reply.base.to_string())
        .bind(i64::from(reply.prompt_tokens))
        .bind(reply.via)
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1;
        let row = self
            .assistant_reply(chain_id, &reply.request_id)
            .await?
            .ok_or_else(|| Error::Inconsistent(format!("reply {} vanished after insert", reply.request_id)))?;
        Ok((row, inserted))
    }

    /// One reply by its request id.
    pub async fn assistant_reply(&self, chain_id: u64, request_id: &str) -> Result<Option<ReplyRow>> {
        let sql = format!("{REPLY_SELECT} WHERE chain_id = $1 AND request_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(request_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(reply_row).transpose()
    }

    /// Replies paid by `channel_id`, newest first.
    pub async fn channel_replies(&self, chain_id: u64, channel_id: B256, limit: u32) -> Result<Vec<ReplyRow>> {
        let sql = format!(
            "{REPLY_SELECT} WHERE chain_id = $1 AND channel_id = $2 ORDER BY created_at DESC, request_id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(hex(channel_id))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(reply_row).collect()
    }

    /// Records chunks before they are sent, in one transaction (a group commit across streams):
    /// each chunk's row, its reply's running totals, and its channel's `billed`.
    pub async fn record_chunks(&self, chain_id: u64, chunks: &[NewChunk], now: u64) -> Result<()> {
        self.store_payments(chain_id, &[], chunks, now).await
    }

    /// The recorded chunks of a reply after `after_seq`, in order.
    pub async fn reply_chunks(&self, chain_id: u64, request_id: &str, after_seq: u32) -> Result<Vec<ChunkRow>> {
        let rows = sqlx::query(
            "SELECT c.request_id, r.channel_id, c.seq, c.text, c.tokens, c.cost, c.cumulative FROM assistant_chunks c \
             JOIN assistant_replies r ON r.chain_id = c.chain_id AND r.request_id = c.request_id \
             WHERE c.chain_id = $1 AND c.request_id = $2 AND c.seq > $3 ORDER BY c.seq",
        )
        .bind(i64_of(chain_id)?)
        .bind(request_id)
        .bind(i64::from(after_seq))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(chunk_row).collect()
    }

    /// Ends a reply (`finish`: why). A reply that already ended keeps its first ending.
    pub async fn finish_reply(
        &self,
        chain_id: u64,
        request_id: &str,
        status: ReplyStatus,
        finish: &str,
        now: u64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE assistant_replies SET status = $3, finish = $4, updated_at = $5 \
             WHERE chain_id = $1 AND request_id = $2 AND status = 'running'",
        )
        .bind(i64_of(chain_id)?)
        .bind(request_id)
        .bind(status.as_str())
        .bind(finish)
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Notes that `address` used the assistant (first use recorded once).
    pub async fn touch_assistant_user(&self, address: Address, now: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO assistant_users (address, disabled, first_seen, updated_at) VALUES ($1, 0, $2, $2) \
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(hex(address))
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether an admin disabled `address`.
    pub async fn assistant_user_disabled(&self, address: Address) -> Result<bool> {
        let row = sqlx::query("SELECT disabled FROM assistant_users WHERE address = $1")
            .bind(hex(address))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>(0)? != 0,
            None => false,
        })
    }

    /// Disables or enables `address` (recorded even if it never used the assistant).
    pub async fn set_assistant_user_disabled(&self, address: Address, disabled: bool, now: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO assistant_users (address, disabled, first_seen, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (address) DO UPDATE SET disabled = excluded.disabled, updated_at = excluded.updated_at",
        )
        .bind(hex(address))
        .bind(i64::from(disabled))
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Everyone this node knows — who used the assistant, was disabled, saved a profile or posted
    /// on `chain_id` — first seen last, with their assistant replies and their posts counted.
    pub async fn assistant_users(&self, chain_id: u64, limit: u32) -> Result<Vec<AssistantUser>> {
        let rows = sqlx::query(
            "WITH people(address, seen) AS ( \
                 SELECT address, first_seen FROM assistant_users \
                 UNION ALL SELECT address, updated_at FROM profiles \
                 UNION ALL SELECT author, created_at FROM posts WHERE chain_id = $1) \
             SELECT p.address, \
                 COALESCE((SELECT u.disabled FROM assistant_users u WHERE u.address = p.address), 0), \
                 MIN(p.seen), \
                 (SELECT COUNT(*) FROM assistant_replies r WHERE r.payer = p.address AND r.chain_id = $1), \
                 (SELECT CAST(COALESCE(SUM(r.completion_tokens), 0) AS BIGINT) FROM assistant_replies r \
                     WHERE r.payer = p.address AND r.chain_id = $1), \
                 (SELECT COUNT(*) FROM posts q WHERE q.author = p.address AND q.chain_id = $1) \
             FROM people p GROUP BY p.address ORDER BY MIN(p.seen) DESC, p.address LIMIT $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AssistantUser {
                    address: parsed(r, 0, "user address")?,
                    disabled: r.try_get::<i64, _>(1)? != 0,
                    first_seen: u64_of(r.try_get(2)?),
                    replies: u64_of(r.try_get(3)?),
                    completion_tokens: u64_of(r.try_get(4)?),
                    posts: u64_of(r.try_get(5)?),
                })
            })
            .collect()
    }

    /// Whether an admin paused the background job `job`.
    pub async fn background_job_paused(&self, job: &str) -> Result<bool> {
        let row = sqlx::query("SELECT paused FROM background_jobs WHERE job = $1")
            .bind(job)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>(0)? != 0,
            None => false,
        })
    }

    /// Pauses or resumes the background job `job`.
    pub async fn set_background_job_paused(&self, job: &str, paused: bool, now: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO background_jobs (job, paused, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (job) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at",
        )
        .bind(job)
        .bind(i64::from(paused))
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// Writes chunks inside the caller's transaction: their rows, then each reply's running totals
/// (its tokens added up, the cost of its last chunk) and each channel's `billed` (the cumulative
/// amount of its last chunk), one multi-row statement per table and size.
pub(crate) async fn write_chunks(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    chain: i64,
    now: i64,
    chunks: &[NewChunk],
) -> Result<()> {
    let mut rest = chunks;
    for size in statement_sizes(chunks.len()) {
        let (part, after) = rest.split_at(size);
        rest = after;
        let mut q = sqlx::query(CHUNKS_INSERT.sql(size, sqlite));
        for c in part {
            q = q
                .bind(chain)
                .bind(c.request_id.as_str())
                .bind(i64::from(c.seq))
                .bind(c.text.as_str())
                .bind(i64::from(c.tokens))
                .bind(c.cost.to_string())
                .bind(c.cumulative.to_string())
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }

    // (request, tokens, cost) per reply.
    let replies = merged_by(
        &chunks.iter().map(|c| (c.request_id.as_str(), c.tokens, c.cost)).collect::<Vec<_>>(),
        |r| r.0,
        |kept, later| {
            kept.1 += later.1;
            kept.2 = later.2;
        },
    );
    let mut rest = replies.as_slice();
    for size in statement_sizes(replies.len()) {
        let (part, after) = rest.split_at(size);
        rest = after;
        let mut q = sqlx::query(REPLIES_UPDATE.sql(size, sqlite)).bind(now);
        for (request, tokens, cost) in part {
            q = q.bind(*request).bind(i64::from(*tokens)).bind(cost.to_string());
        }
        q.bind(chain).execute(&mut *conn).await?;
    }

    // (channel, billed) per channel.
    let accounts = merged_by(
        &chunks.iter().map(|c| (c.channel_id, c.cumulative)).collect::<Vec<_>>(),
        |a| a.0,
        |kept, later| kept.1 = later.1,
    );
    let mut rest = accounts.as_slice();
    for size in statement_sizes(accounts.len()) {
        let (part, after) = rest.split_at(size);
        rest = after;
        let mut q = sqlx::query(ACCOUNTS_UPSERT.sql(size, sqlite));
        for (channel, billed) in part {
            q = q.bind(chain).bind(hex(*channel)).bind(billed.to_string()).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

static CHUNKS_INSERT: MultiRow = MultiRow::new(
    "INSERT INTO assistant_chunks (chain_id, request_id, seq, text, tokens, cost, cumulative, created_at) VALUES ",
    "(?, ?, ?, ?, ?, ?, ?, ?)",
    "",
);

// A reply's columns are named `column1`, `column2`, … in a VALUES table on both databases.
static REPLIES_UPDATE: MultiRow = MultiRow::new(
    "UPDATE assistant_replies SET completion_tokens = assistant_replies.completion_tokens + v.column2, \
     cost = v.column3, updated_at = ? FROM (VALUES ",
    "(?, ?, ?)",
    ") AS v WHERE assistant_replies.chain_id = ? AND assistant_replies.request_id = v.column1",
);

static ACCOUNTS_UPSERT: MultiRow = MultiRow::new(
    "INSERT INTO assistant_accounts (chain_id, channel_id, billed, updated_at) VALUES ",
    "(?, ?, ?, ?)",
    " ON CONFLICT (chain_id, channel_id) DO UPDATE SET billed = excluded.billed, updated_at = excluded.updated_at",
);
