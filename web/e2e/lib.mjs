// What the browser end-to-end tests share: starting and stopping a real `agora up`, the EIP-1193
// wallet injected into the page (a dev-chain key in this process, signing through viem), waiting
// for states, named steps with a summary, and screenshots. Each test (run.mjs, assistant.mjs) is
// its own process, so the step list and the screenshot counter here are per test; each writes its
// screenshots, the node's log and summary.json to its own folder under test-artifacts/.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createWalletClient, http, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(REPO, process.env.CARGO_TARGET_DIR) : path.join(REPO, "target");
export const AGORA_BIN = process.env.AGORA_BIN ?? path.join(TARGET, "debug", "agora");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let artifacts = path.join(REPO, "test-artifacts", "e2e");
/// Where screenshots, the node's log and summary.json go (test-artifacts/<name>/).
export function useArtifacts(name) {
  artifacts = path.join(REPO, "test-artifacts", name);
  mkdirSync(artifacts, { recursive: true });
  return artifacts;
}
export function artifactsDir() {
  return artifacts;
}

const started = Date.now();
const results = [];
let shot = 0;

export function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

export function fail(msg) {
  throw new Error(msg);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `fn` until it returns something truthy (returned), failing after `timeoutMs`.
export async function waitFor(what, fn, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  fail(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/// The channel panel's create form, open. Its <details> opens by itself once the page knows the
/// payer has no channel, so a click made while the list loads can close it again: click until it
/// stays open (the page sets it only once).
export async function openChannelForm(panel) {
  const form = panel.getByTestId("channel-create");
  await waitFor("the channel panel's create form open", async () => {
    if (await form.isVisible()) return true;
    await panel.locator("details.create > summary").click();
    return form.isVisible();
  }, 30_000, 300);
  return form;
}

export async function getJson(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

// --- the node ----------------------------------------------------------------------------------
/// `agora up` on the embedded defaults in a fresh data directory, or as `opts` say:
/// - `dataDir`, `httpPort`: reuse them (a restart on the same data directory and address);
/// - `args`: instead of `--anvil-port 0` (e.g. `--rpc-url` of a chain that outlived the node);
/// - `env`: AGORA_* settings of this test (the caller's own AGORA_* are never passed);
/// - `config`: TOML written to <dataDir>/agora.toml first;
/// - `ready(base, dataDir)`: what "up" means (default: the three demo services listed and dev.json
///   written); `appendLog`: keep the log of an earlier life of the node.
export async function startNode(opts = {}) {
  if (!existsSync(AGORA_BIN)) fail(`agora binary not found at ${AGORA_BIN}: run \`cargo build -p agora-cli\``);
  if (!existsSync(path.join(REPO, "web", "dist", "index.html"))) fail("web/dist is not built: run `make web`");
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "agora-e2e-"));
  const httpPort = opts.httpPort ?? (await freePort());
  const logPath = path.join(artifacts, "agora.log");
  const out = openSync(logPath, opts.appendLog ? "a" : "w");
  if (opts.config !== undefined) writeFileSync(path.join(dataDir, "agora.toml"), opts.config);
  // Only this test's settings: no AGORA_* from the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AGORA_")));
  env.RUST_LOG ??= "info";
  // The federated-learning demo task trains at start-up: off unless a test asks for it.
  env.AGORA_FL__DEMO = "false";
  Object.assign(env, opts.env ?? {});
  const child = spawn(
    AGORA_BIN,
    [
      "up",
      "--config",
      path.join(dataDir, "agora.toml"),
      "--data-dir",
      dataDir,
      "--http-addr",
      `127.0.0.1:${httpPort}`,
      // anvil binds a free port itself (the node reports it in dev.json and /api/network).
      ...(opts.args ?? ["--anvil-port", "0"]),
    ],
    // From the repository root: agora finds anvil in node_modules and serves web/dist from here.
    { cwd: REPO, env, stdio: ["ignore", out, out], detached: true },
  );
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const node = { child, base, dataDir, httpPort, logPath, exited: () => exited };
  const ready =
    opts.ready ??
    (async () => {
      const services = await getJson(`${base}/api/services`);
      return services.length >= 3 && existsSync(path.join(dataDir, "dev.json"));
    });
  await waitFor(
    opts.readyWhat ?? "agora up to serve its API with the three demo services listed",
    async () => {
      if (exited) fail(`agora exited early (${JSON.stringify(exited)}); see ${logPath}`);
      return ready(base, dataDir);
    },
    opts.readyMs ?? 90_000,
  );
  return node;
}

export async function stopNode(node) {
  if (!node) return;
  const { child } = node;
  if (node.exited()) return;
  try {
    // The whole process group this script started: agora and the anvil it spawned.
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (!node.exited() && Date.now() < deadline) await sleep(100);
  if (!node.exited()) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/// Another `agora` process (a participant, a seller …) from the repository root, its output in
/// `<artifacts>/<logName>`, with only `env`'s AGORA_* settings.
export function spawnAgora(args, { env = {}, logName = "agora-child.log" } = {}) {
  const logPath = path.join(artifacts, logName);
  const out = openSync(logPath, "w");
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AGORA_")));
  Object.assign(childEnv, { RUST_LOG: "info", ...env });
  const child = spawn(AGORA_BIN, args, { cwd: REPO, env: childEnv, stdio: ["ignore", out, out] });
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  return { child, logPath, exited: () => exited };
}

/// Stops a process `spawnAgora` started (SIGTERM, then SIGKILL after 10 s).
export async function stopProcess(proc) {
  if (!proc || proc.exited()) return;
  proc.child.kill("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (!proc.exited() && Date.now() < deadline) await sleep(100);
  if (!proc.exited()) proc.child.kill("SIGKILL");
}

/// Fails when the page is wider than its viewport, naming the first elements that stick out.
export async function expectNoHorizontalScroll(page, what) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow <= 0) return;
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${el.getAttribute("data-testid") ?? ""})`),
  );
  fail(`${what} is ${overflow}px wider than the screen: ${wide.join(", ")}`);
}

// --- the injected wallet -----------------------------------------------------------------------
export function makeWallet(privateKey, rpcUrl, chainId) {
  const account = privateKeyToAccount(privateKey);
  const client = createWalletClient({ account, transport: http(rpcUrl) });
  const state = { chainId, rejectSign: false, sent: [], requests: [] };
  let rpcId = 0;
  async function proxy(method, params) {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
    });
    const body = await res.json();
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
    return body.result;
  }
  function rpcError(code, message) {
    return Object.assign(new Error(message), { code });
  }
  async function handle(method, params) {
    state.requests.push(method);
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [account.address];
      case "eth_chainId":
        return toHex(state.chainId);
      case "personal_sign": {
        if (state.rejectSign) throw rpcError(4001, "User rejected the request.");
        const [data, from] = params;
        if (from.toLowerCase() !== account.address.toLowerCase()) throw rpcError(4100, "unknown account");
        return account.signMessage({ message: { raw: data } });
      }
      case "eth_sendTransaction": {
        if (state.chainId !== chainId) throw rpcError(4901, "the wallet is on another chain");
        const [tx] = params;
        if (tx.from && tx.from.toLowerCase() !== account.address.toLowerCase()) throw rpcError(4100, "unknown account");
        const hash = await client.sendTransaction({
          chain: null,
          to: tx.to,
          data: tx.data ?? tx.input,
          value: tx.value ? BigInt(tx.value) : 0n,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        });
        state.sent.push(hash);
        return hash;
      }
      case "wallet_switchEthereumChain":
      case "wallet_addEthereumChain": {
        const wanted = Number.parseInt(params[0].chainId, 16);
        if (wanted !== chainId) throw rpcError(4902, `unknown chain ${wanted}`);
        state.chainId = wanted;
        return null;
      }
      default:
        return proxy(method, params);
    }
  }
  return { account, state, handle };
}

/// Gives `context`'s pages `wallet` as window.ethereum (through an exposed binding).
export async function injectWallet(context, wallet) {
  await context.exposeBinding("__agoraWallet", async (_source, method, params) => {
    try {
      return { result: await wallet.handle(method, params) };
    } catch (e) {
      return { error: { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(e) } };
    }
  });
  await context.addInitScript(injectedProvider);
}

/// Runs in the page before any of its scripts: window.ethereum backed by the exposed binding.
export function injectedProvider() {
  const listeners = {};
  const emit = (event, arg) => (listeners[event] ?? []).forEach((fn) => fn(arg));
  window.__agoraTestEmit = emit;
  window.ethereum = {
    isAgoraTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__agoraWallet(method, params ?? []);
      if (answer.error) {
        const err = new Error(answer.error.message);
        err.code = answer.error.code;
        throw err;
      }
      if (method === "wallet_switchEthereumChain" || method === "wallet_addEthereumChain") {
        emit("chainChanged", params[0].chainId);
      }
      return answer.result;
    },
    on(event, fn) {
      (listeners[event] ??= []).push(fn);
    },
    removeListener(event, fn) {
      listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
    },
  };
}

// --- steps -------------------------------------------------------------------------------------
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: e });
    log(`FAIL ${name}: ${e.message}`);
    throw e;
  }
}

export async function screenshot(page, name, fullPage = false) {
  shot += 1;
  const file = path.join(artifacts, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage });
}

export async function text(locator) {
  return ((await locator.textContent()) ?? "").trim();
}

export async function expectText(locator, includes, timeout = 10_000) {
  await waitFor(`${JSON.stringify(includes)} in ${locator}`, async () => (await text(locator)).includes(includes), timeout, 100);
}

/// Runs the test's `main`, writes summary.json, prints the tally, and on failure the stack and the
/// last lines of the node's log; exits non-zero when a step failed.
export function runMain(main) {
  main().then(
    () => {
      const passed = results.filter((r) => r.ok).length;
      writeFileSync(path.join(artifacts, "summary.json"), JSON.stringify({ results, totalMs: Date.now() - started }, null, 2));
      log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${path.relative(REPO, artifacts)}/`);
      console.log(`${passed} passed, 0 failed`);
    },
    (e) => {
      const passed = results.filter((r) => r.ok).length;
      console.error(e.stack ?? String(e));
      const logPath = path.join(artifacts, "agora.log");
      if (existsSync(logPath)) {
        const tail = readFileSync(logPath, "utf8").split("\n").slice(-40).join("\n");
        console.error(`--- last lines of ${path.relative(REPO, logPath)} ---\n${tail}`);
      }
      console.log(`${passed} passed, 1 failed`);
      process.exit(1);
    },
  );
}

/// Whether every step so far passed (the data directory is removed only then).
export function allPassed() {
  return results.every((r) => r.ok);
}

/// A fresh wallet per name in `keys` (name → private key), each funded by the node's dev faucet
/// (test ETH and 100 AMT): `{ name: { wallet, address } }`, addresses lower-case.
export async function fundedWallets(base, network, keys) {
  const wallets = {};
  for (const [who, key] of Object.entries(keys)) {
    const w = makeWallet(key, network.rpcUrl, network.chainId);
    wallets[who] = { wallet: w, address: w.account.address.toLowerCase() };
    const res = await fetch(`${base}/api/faucet`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address: wallets[who].address }) });
    if (!res.ok) fail(`faucet for ${who}: ${res.status} ${await res.text()}`);
  }
  return wallets;
}

/// One zh-CN page per wallet in its own browser context with the wallet injected, opened at `url`
/// and connected; the page errors and console errors of all of them are collected in `errors`.
export async function connectedPages(browser, wallets, url) {
  const errors = [];
  const pages = {};
  for (const who of Object.keys(wallets)) {
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
    await injectWallet(context, wallets[who].wallet);
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(`${who} pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && errors.push(`${who} console: ${m.text()}`));
    await page.goto(url);
    await page.getByTestId("connect-wallet").click();
    await page.getByTestId("wallet-address").waitFor();
    pages[who] = page;
  }
  return { pages, errors };
}
