//! The `iexec` command-line tool (npm `iexec`, pinned 9.0.1) driven as a child process.
//!
//! Every call runs with `--raw`, in a working directory that holds the files the CLI reads from its
//! current directory: `chain.json` (which chain: RPC, hub, IPFS gateway), `wallet.json` (the
//! signer, imported once with `iexec wallet import --unencrypted`), `iexec.json` (an app to deploy,
//! orders to sign) and `orders.json` (signed orders to fill). With `--raw` the CLI prints one JSON
//! object: `{"ok":true,…}` on stdout, or `{"ok":false,"error":{"name","message"}}` on stderr (some
//! commands report a partial failure that way and still exit 0). A call succeeds only when the
//! process exits 0 *and* says `ok`; otherwise [`Error::Cli`] carries the CLI's own message.
//!
//! Wallets are plain `wallet.json` files (one per working directory) rather than encrypted
//! keystores: the keys already come from the node's configuration in clear, and decrypting a
//! keystore costs about 1.4 s of scrypt per signing call.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use serde_json::Value;

use crate::task::TaskStatus;
use crate::{Error, Result};

/// How long one call may take before it is killed.
const CALL_TIMEOUT: Duration = Duration::from_secs(180);

/// The iexec CLI, with the chain name its `chain.json` files use.
#[derive(Debug)]
pub(crate) struct Cli {
    program: PathBuf,
    chain: String,
    calls: AtomicU64,
}

/// What `iexec task show` says about a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskInfo {
    /// PoCo's status (an uninitialized task, which the CLI answers "not found", is UNSET). The
    /// CLI's own `statusName` is not used: it says TIMEOUT by the wall clock.
    pub(crate) status: TaskStatus,
    /// The task's final deadline (Unix seconds), when the CLI gives it.
    pub(crate) final_deadline: Option<u64>,
    /// `results.location` once completed, e.g. `/ipfs/bafy…`.
    pub(crate) result_location: Option<String>,
    /// `results.storage` once completed, e.g. `ipfs` (`None` where the CLI says `none`).
    pub(crate) result_storage: Option<String>,
}

impl Cli {
    /// `program` is the `iexec` executable (e.g. `node_modules/.bin/iexec`); `chain` the name of
    /// the chain in the `chain.json` files this wrapper writes or is given.
    pub(crate) fn new(program: impl Into<PathBuf>, chain: impl Into<String>) -> Self {
        Self { program: program.into(), chain: chain.into(), calls: AtomicU64::new(0) }
    }

    /// CLI processes started so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Runs `iexec ARGS --raw` in `dir` and returns its JSON answer, which said `ok`.
    pub(crate) async fn run(&self, dir: &Path, args: &[&str]) -> Result<Value> {
        let command = format!(
            "iexec {}",
            args.iter().take_while(|a| !a.starts_with('-')).take(2).cloned().collect::<Vec<_>>().join(" ")
        );
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(args)
            .arg("--raw")
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| Error::Cli {
            command: command.clone(),
            message: format!("cannot start {}: {e} (run `npm ci`)", self.program.display()),
        })?;
        let out = match tokio::time::timeout(CALL_TIMEOUT, child.wait_with_output()).await {
            Ok(out) => out?,
            Err(_) => {
                return Err(Error::Cli { command, message: format!("no answer within {:?}; killed", CALL_TIMEOUT) });
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        interpret(&command, out.status.code(), &stdout, &stderr)
    }

    /// Imports `private_key` as the unencrypted `wallet.json` of `dir` (the signer of every call
    /// made there), unless it is there already. Returns the wallet's address.
    pub(crate) async fn import_wallet(&self, dir: &Path, private_key: &str) -> Result<Address> {
        let expected = agora_chain::signer_from_key(private_key)?.address();
        let file = dir.join("wallet.json");
        if let Ok(bytes) = tokio::fs::read(&file).await {
            let found = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["address"].as_str().and_then(|a| a.parse::<Address>().ok()));
            if found == Some(expected) {
                return Ok(expected);
            }
            tokio::fs::remove_file(&file).await?;
        }
        let key = private_key.trim();
        let key = if key.starts_with("0x") { key.to_owned() } else { format!("0x{key}") };
        let answer = self.run(dir, &["wallet", "import", &key, "--unencrypted"]).await?;
        let address = parse_address(&answer["address"], "wallet import", "address")?;
        if address != expected {
            return Err(Error::Cli {
                command: "iexec wallet import".into(),
                message: format!("imported {address}, expected {expected}"),
            });
        }
        Ok(address)
    }

    /// `iexec app deploy` of the app in `dir`'s `iexec.json`. An app identical to one already
    /// registered (same owner, name, multiaddr, checksum) has the same address, and the CLI refuses
    /// to deploy it twice; that address is returned, so deploying is idempotent.
    pub(crate) async fn app_deploy(&self, dir: &Path) -> Result<Address> {
        match self.run(dir, &["app", "deploy", "--chain", &self.chain]).await {
            Ok(answer) => parse_address(&answer["address"], "app deploy", "address"),
            Err(Error::Cli { command, message }) => match already_deployed(&message) {
                Some(address) => Ok(address),
                None => Err(Error::Cli { command, message }),
            },
            Err(e) => Err(e),
        }
    }

    /// `iexec order sign --app`: the app order of `dir`'s `iexec.json`, signed by its wallet.
    pub(crate) async fn sign_apporder(&self, dir: &Path) -> Result<Value> {
        let answer = self.run(dir, &["order", "sign", "--app", "--chain", &self.chain]).await?;
        signed(answer, "apporder")
    }

    /// `iexec order sign --request`: the request order of `dir`'s `iexec.json`, signed by its wallet.
    pub(crate) async fn sign_requestorder(&self, dir: &Path) -> Result<Value> {
        let answer = self.run(dir, &["order", "sign", "--request", "--chain", &self.chain]).await?;
        signed(answer, "requestorder")
    }

    /// `iexec account deposit AMOUNT` (nRLC) from the wallet's RLC into its iExec account.
    pub(crate) async fn account_deposit(&self, dir: &Path, amount: U256) -> Result<()> {
        self.run(dir, &["account", "deposit", &amount.to_string(), "--chain", &self.chain]).await?;
        Ok(())
    }

    /// `iexec order fill --force` of the orders in `dir`'s `orders.json`; returns the deal id.
    pub(crate) async fn fill(&self, dir: &Path) -> Result<B256> {
        let answer = self.run(dir, &["order", "fill", "--force", "--chain", &self.chain]).await?;
        parse_b256(&answer["dealid"], "order fill", "dealid")
    }

    /// `iexec task show TASK`. A task nobody initialized yet is UNSET (the CLI says "not found").
    pub(crate) async fn task_show(&self, dir: &Path, task: B256) -> Result<TaskInfo> {
        match self.run(dir, &["task", "show", &task.to_string(), "--chain", &self.chain]).await {
            Ok(answer) => parse_task(&answer),
            Err(Error::Cli { message, .. }) if message.starts_with("No task found for id") => Ok(TaskInfo {
                status: TaskStatus::Unset,
                final_deadline: None,
                result_location: None,
                result_storage: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// `iexec task show TASK --download NAME`: fetches the completed task's result archive from
    /// the chain's IPFS gateway into `dir/NAME.zip` and returns that path.
    pub(crate) async fn task_download(&self, dir: &Path, task: B256, name: &str) -> Result<PathBuf> {
        let answer =
            self.run(dir, &["task", "show", &task.to_string(), "--download", name, "--chain", &self.chain]).await?;
        match answer["resultPath"].as_str() {
            Some(path) => Ok(PathBuf::from(path)),
            None => Err(Error::Cli {
                command: "iexec task show --download".into(),
                message: format!("no result downloaded (task status {})", answer["task"]["statusName"]),
            }),
        }
    }
}

/// Reads a CLI answer: the last line of stdout (or else stderr) that is a JSON object with `ok`.
pub(crate) fn interpret(command: &str, code: Option<i32>, stdout: &str, stderr: &str) -> Result<Value> {
    let answer = last_json(stdout).or_else(|| last_json(stderr));
    let fail = |message: String| Err(Error::Cli { command: command.to_owned(), message });
    match answer {
        Some(v) if v["ok"] == Value::Bool(true) && code == Some(0) => Ok(v),
        Some(v) => {
            let message = if let Some(m) = v["error"]["message"].as_str() {
                m.to_owned()
            } else if let Some(list) = v["fail"].as_array() {
                list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")
            } else if v["ok"] == Value::Bool(true) {
                format!("said ok but exited with {}", code.map_or("a signal".to_owned(), |c| format!("status {c}")))
            } else {
                v.to_string()
            };
            fail(message)
        }
        None => {
            let tail: String = stderr.trim().chars().rev().take(500).collect::<Vec<_>>().into_iter().rev().collect();
            let status = code.map_or("killed by a signal".to_owned(), |c| format!("exit status {c}"));
            fail(format!(
                "no JSON answer ({status}){}",
                if tail.is_empty() { String::new() } else { format!(": {tail}") }
            ))
        }
    }
}

fn last_json(text: &str) -> Option<Value> {
    text.lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok().filter(|v| v.get("ok").is_some()))
}

/// The address in the CLI's "App already deployed at address 0x…" refusal.
fn already_deployed(message: &str) -> Option<Address> {
    let rest = message.split("already deployed at address ").nth(1)?;
    rest.get(..42)?.parse().ok()
}

fn bad(command: &str, field: &str, v: &Value) -> Error {
    Error::Cli { command: format!("iexec {command}"), message: format!("unexpected answer: {field} = {v}") }
}

fn parse_address(v: &Value, command: &str, field: &str) -> Result<Address> {
    v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad(command, field, v))
}

fn parse_b256(v: &Value, command: &str, field: &str) -> Result<B256> {
    v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad(command, field, v))
}

fn parse_u256(v: &Value, command: &str, field: &str) -> Result<U256> {
    let parsed = match v {
        Value::String(s) => U256::from_str_radix(s, 10).ok(),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    };
    parsed.ok_or_else(|| bad(command, field, v))
}

fn parse_u64(v: &Value, command: &str, field: &str) -> Result<u64> {
    parse_u256(v, command, field)?.try_into().map_err(|_| bad(command, field, v))
}

fn signed(answer: Value, name: &str) -> Result<Value> {
    let order = answer[name].clone();
    if order["sign"].as_str().is_some_and(|s| s.len() > 2) && order["salt"].is_string() {
        Ok(order)
    } else {
        Err(bad("order sign", name, &answer))
    }
}

/// Reads `iexec task show --raw`.
pub(crate) fn parse_task(answer: &Value) -> Result<TaskInfo> {
    let task = &answer["task"];
    let status = parse_u64(&task["status"], "task show", "task.status")?;
    let status = u8::try_from(status)
        .ok()
        .and_then(|n| TaskStatus::try_from(n).ok())
        .ok_or_else(|| bad("task show", "task.status", &task["status"]))?;
    let results = &task["results"];
    Ok(TaskInfo {
        status,
        final_deadline: parse_u64(&task["finalDeadline"], "task show", "task.finalDeadline").ok(),
        result_location: results["location"].as_str().map(str::to_owned),
        result_storage: results["storage"].as_str().filter(|s| *s != "none").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_answers_need_exit_zero_and_ok() {
        let out = "JsonRpcProvider failed to detect network\n{\"ok\":true,\"dealid\":\"0x01\"}\n";
        assert_eq!(interpret("iexec order fill", Some(0), out, "").expect("ok")["dealid"], "0x01");
        let err = interpret("iexec order fill", Some(1), out, "").expect_err("exit 1");
        assert!(err.to_string().contains("exited with status 1"), "{err}");
    }

    #[test]
    fn failures_carry_the_cli_message() {
        let stderr = r#"{"ok":false,"command":"iexec app deploy","error":{"name":"Error","message":"App already deployed at address 0x2A9a3A8E4Ff06D1E0A1C7A1f6E3e5fbdE1e7F9b1"}}"#;
        let err = interpret("iexec app deploy", Some(1), "", stderr).expect_err("failed");
        assert_eq!(
            err.to_string(),
            "iexec app deploy failed: App already deployed at address 0x2A9a3A8E4Ff06D1E0A1C7A1f6E3e5fbdE1e7F9b1"
        );
        let Error::Cli { message, .. } = err else { panic!("not a CLI error") };
        assert_eq!(
            already_deployed(&message),
            Some("0x2A9a3A8E4Ff06D1E0A1C7A1f6E3e5fbdE1e7F9b1".parse().expect("address"))
        );
        // A partial failure reported with exit status 0 is still a failure.
        let partial = r#"{"ok":false,"fail":["requestorder: No app deployed at address 0x00"]}"#;
        let err = interpret("iexec order sign", Some(0), "", partial).expect_err("failed");
        assert!(err.to_string().ends_with("requestorder: No app deployed at address 0x00"), "{err}");
        let err = interpret("iexec info", None, "", "Segmentation fault").expect_err("no JSON");
        assert!(err.to_string().ends_with("no JSON answer (killed by a signal): Segmentation fault"), "{err}");
    }

    // Answers captured from iexec 9.0.1 against PoCo 6.1.0 on anvil.
    const TASK_ACTIVE: &str = r#"{"ok":true,"task":{"taskid":"0x5aea45c0b4d7c34636800c0eadcd2cfc3743f6e6399d19117534d34987e8b2e9","status":1,"dealid":"0x578fa2cd2854d359386101c5decd6624f211cad2e3da6b26ff60b36a13eccbe0","idx":"0","timeref":"300","contributionDeadline":"1795325141","revealDeadline":"0","finalDeadline":"1795326041","consensusValue":"0x0000000000000000000000000000000000000000000000000000000000000000","revealCounter":"0","winnerCounter":"0","contributors":[],"resultDigest":"0x0000000000000000000000000000000000000000000000000000000000000000","results":{"storage":"none"},"resultsTimestamp":"0","resultsCallback":"0x","statusName":"ACTIVE","taskTimedOut":false},"claimable":false}"#;
    const TASK_UNSET: &str = r#"{"ok":false,"command":"iexec task show","error":{"name":"ObjectNotFoundError","message":"No task found for id 0x5aea45c0b4d7c34636800c0eadcd2cfc3743f6e6399d19117534d34987e8b2e9 on chain 31337"}}"#;

    const TASK_COMPLETED: &str = r#"{"ok":true,"task":{"taskid":"0x96021443fca44f938342e51420d68c6fb85463c219fd78fdb0b5273389d87d42","status":3,"dealid":"0x682cd6b2ba8aea975fdf6666c9c2614d5ba5e7108cdcf427ae4128f8d50a61ad","idx":"0","timeref":"300","contributionDeadline":"1795325615","revealDeadline":"1795324115","finalDeadline":"1795326515","consensusValue":"0xc3747ab8898c394ca37b794b2d55e523230053bf8d3c8ee29c07234bcaef6294","revealCounter":"1","winnerCounter":"1","contributors":["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"],"resultDigest":"0x4fc3f9aa356bd5af29be814d3b1140bb5ba1b8d4691358885606c59fdfc9c045","results":{"location":"/ipfs/bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi","storage":"ipfs"},"resultsTimestamp":"0","resultsCallback":"0x","statusName":"COMPLETED","taskTimedOut":false},"claimable":false,"resultPath":"/tmp/c-dl/res.zip"}"#;

    #[test]
    fn task_answers_parse() {
        let task = parse_task(&interpret("iexec task show", Some(0), TASK_ACTIVE, "").expect("ok")).expect("task");
        assert_eq!(task.status, TaskStatus::Active);
        assert_eq!(task.final_deadline, Some(1_795_326_041));
        assert_eq!(task.result_location, None);
        assert_eq!(task.result_storage, None);

        let done = parse_task(&interpret("iexec task show", Some(0), TASK_COMPLETED, "").expect("ok")).expect("task");
        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(
            done.result_location.as_deref(),
            Some("/ipfs/bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi")
        );
        assert_eq!(done.result_storage.as_deref(), Some("ipfs"));

        let err = interpret("iexec task show", Some(1), "", TASK_UNSET).expect_err("not found");
        let Error::Cli { message, .. } = err else { panic!("not a CLI error") };
        assert!(message.starts_with("No task found for id"), "{message}");
    }
}
