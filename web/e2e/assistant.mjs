// End-to-end test of the AI assistant's pages in Debian's Chromium, against a real `agora up` with
// the local language model (SmolLM2-135M through llama.cpp; `make model`), the embedded anvil and
// SQLite. The buyer's wallet is injected as in run.mjs; an admin (a second dev account, listed in
// `[api] admins`) uses a second browser context. Replies are kept short (a few tokens).
//
// Steps: a channel opened from the channel panel (approve → open, a fresh session key as signer),
// a reply paid chunk by chunk with auto-pay (its cost, the vouchers and the node's chunk records),
// manual pay (Pay pressed for each chunk), a reply the deposit cannot cover → top up; a forged, a
// replayed and an over-deposit voucher sent on the real WebSocket, and a page whose session key was
// swapped, each refused with the node's message (then what is owed paid); a channel past its expiry
// refused by the node and blocked by the page, marked by the expiry job, reclaimed; the admin pages
// refused to the buyer and working for the admin (users, channels, jobs with their runs; a disabled
// user refused); the node killed (SIGKILL) while a reply waits for its voucher, restarted on the same
// data directory and chain → the reply resumes in the page, nothing paid twice; a channel about to
// expire closed by the auto-settle job with its highest voucher; the admin's "settle now", with the
// balances on chain equal to the vouchers. zh-CN, English and phone width screenshots go to
// test-artifacts/e2e-assistant/.
//
// Needs what run.mjs needs, plus the model in ~/.cache/agora/models (`make model`).
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { createPublicClient, createWalletClient, formatUnits, http, parseEventLogs } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
  expectText,
  fail,
  getJson,
  injectWallet,
  log,
  makeWallet,
  runMain,
  screenshot,
  startNode,
  step,
  stopNode,
  text,
  useArtifacts,
  waitFor,
  openChannelForm,
} from "./lib.mjs";

// anvil's default accounts (what `agora up` starts it with); checked against dev.json below.
const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
/// The admin: a dev account that plays no other part in the demo.
const ADMIN_INDEX = 4;
const CHANNEL_STATE = ["None", "Open", "Closed", "Reclaimed"];
const abiOf = (name) => JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts", `${name}.json`), "utf8")).abi;
const channelAbi = abiOf("PaymentChannel");
const tokenAbi = abiOf("MarketToken");

/// `amount` as the pages show it: the token's 18 decimals in full, then the symbol.
const amt = (v) => `${formatUnits(BigInt(v), 18)} AMT`;
/// cost(p, c) = ceil((p × prompt + c × completion) / 1000), as docs/assistant-payments.md says.
const costOf = (p, c, prices) => {
  const n = BigInt(p) * prices.prompt + BigInt(c) * prices.completion;
  return (n + 999n) / 1000n;
};

/// Sends `msg` on a new assistant WebSocket opened from the page (its session cookie signs it in)
/// and returns the frames up to the first `error` or `paid`.
async function wsCall(page, msg, timeoutMs = 30_000) {
  return page.evaluate(
    ({ msg, timeoutMs }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/assistant/ws`);
        const frames = [];
        const deadline = setTimeout(() => {
          ws.close();
          reject(new Error(`no error or paid frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames)}`));
        }, timeoutMs);
        ws.onopen = () => ws.send(JSON.stringify(msg));
        ws.onmessage = (ev) => {
          const f = JSON.parse(ev.data);
          frames.push(f);
          if (f.type === "error" || f.type === "paid") {
            clearTimeout(deadline);
            ws.close();
            resolve(frames);
          }
        };
        ws.onerror = () => {
          clearTimeout(deadline);
          reject(new Error(`the socket failed; frames: ${JSON.stringify(frames)}`));
        };
      }),
    { msg, timeoutMs },
  );
}

async function main() {
  useArtifacts("e2e-assistant");
  let node;
  let firstGroup = null;
  let browser;
  try {
    const admin = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: ADMIN_INDEX });
    await step("agora up starts with the local model and one admin listed in [api] admins", async () => {
      node = await startNode({
        config: `[api]\nadmins = ["${admin.address}"]\n`,
        ready: async (base, dataDir) => {
          const services = await getJson(`${base}/api/services`);
          const models = await getJson(`${base}/api/assistant/models`);
          return services.length >= 3 && models.models.length > 0 && readFileSync(path.join(dataDir, "dev.json"));
        },
        readyWhat: "agora up to serve the demo services and the assistant's models",
        readyMs: 180_000,
      });
      firstGroup = node.child.pid;
    });
    const network = await getJson(`${node.base}/api/network`);
    const dev = JSON.parse(readFileSync(path.join(node.dataDir, "dev.json"), "utf8"));
    const buyerKey = dev.accounts[dev.roles.first_buyer].private_key;
    const providerKey = dev.accounts[dev.roles.provider].private_key;
    if (dev.accounts[ADMIN_INDEX].address.toLowerCase() !== admin.address.toLowerCase()) {
      fail(`dev account ${ADMIN_INDEX} is ${dev.accounts[ADMIN_INDEX].address}, not anvil's default ${admin.address}`);
    }
    const info = await getJson(`${node.base}/api/assistant/models`);
    const model = info.models[0];
    const prices = { prompt: BigInt(model.pricing.promptPer1k), completion: BigInt(model.pricing.completionPer1k) };
    const token = model.pricing.token;
    if (token.toLowerCase() !== network.marketToken.toLowerCase()) fail(`the model is priced in ${token}, not MarketToken`);
    const payee = info.payee;
    const chainId = network.chainId;
    const domain = { name: "Agora PaymentChannel", version: "1", chainId, verifyingContract: network.paymentChannel };
    const voucherTypes = { Voucher: [{ name: "channelId", type: "bytes32" }, { name: "cumulativeAmount", type: "uint256" }] };
    const signVoucher = (key, channelId, amount) =>
      privateKeyToAccount(key).signTypedData({ domain, types: voucherTypes, primaryType: "Voucher", message: { channelId, cumulativeAmount: amount } });

    const chain = createPublicClient({ transport: http(network.rpcUrl) });
    const rpc = async (method, params = []) => {
      const res = await fetch(network.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      const body = await res.json();
      if (body.error) fail(`${method}: ${body.error.message}`);
      return body.result;
    };
    const onChain = async (id) => {
      const c = await chain.readContract({ address: network.paymentChannel, abi: channelAbi, functionName: "getChannel", args: [id] });
      return { deposit: c.deposit, expiry: Number(c.expiry), state: CHANNEL_STATE[c.state] };
    };
    const balanceOf = (who) => chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [who] });
    const owedTo = (who) => chain.readContract({ address: network.paymentChannel, abi: channelAbi, functionName: "owed", args: [who, token] });
    const account = (id) => getJson(`${node.base}/api/assistant/channels/${id}`);

    const wallet = makeWallet(buyerKey, network.rpcUrl, chainId);
    const buyer = wallet.account.address.toLowerCase();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
    await injectWallet(context, wallet);
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(`console: ${m.text()}`));

    const localKey = (id) => `agora.assistant.channel.${chainId}.${id.toLowerCase()}`;
    const localChannel = (id) => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? "null"), localKey(id));
    const setLocalChannel = (rec) => page.evaluate(([k, v]) => localStorage.setItem(k, JSON.stringify(v)), [localKey(rec.id), rec]);
    const localChannelIds = () =>
      page.evaluate((prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)), `agora.assistant.channel.${chainId}.`);
    const replies = page.getByTestId("reply");
    const lastReply = () => replies.last();
    const maxTokens = page.locator(".composer-max input");
    const panel = page.getByTestId("channel-panel");

    /// Sends `prompt` (at most `max` tokens) and waits for the new reply to reach one of `phases`.
    async function send(prompt, max, phases = ["done"], timeout = 60_000) {
      const before = await replies.count();
      await maxTokens.fill(String(max));
      await page.getByTestId("chat-input").fill(prompt);
      await page.getByTestId("chat-send").click();
      await waitFor("the new reply to appear", async () => (await replies.count()) === before + 1, 10_000, 100);
      const reply = replies.nth(before);
      await waitFor(
        `the reply to reach ${phases.join(" or ")}`,
        async () => phases.includes(await reply.getAttribute("data-phase")),
        timeout,
        100,
      );
      return reply;
    }

    /// Records every step the panel's transaction box goes through (data-step and its text), so a
    /// short step is never missed.
    const watchTx = () =>
      page.evaluate(() => {
        window.__txSteps = [];
        if (window.__txObserver) return;
        const seen = () => {
          const el = document.querySelector('[data-testid="channel-tx"]');
          const entry = el ? `${el.getAttribute("data-step")}: ${el.textContent}` : null;
          if (entry && window.__txSteps.at(-1) !== entry) window.__txSteps.push(entry);
        };
        window.__txObserver = new MutationObserver(seen);
        window.__txObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
    const txSteps = () => page.evaluate(() => window.__txSteps);
    /// Waits for the panel's transaction to finish; checks it approved the token first.
    async function txDone(what) {
      await panel.getByTestId("channel-tx").waitFor({ state: "detached", timeout: 60_000 });
      if (await panel.getByTestId("channel-error").count()) fail(`${what} failed: ${await text(panel.getByTestId("channel-error"))}`);
      const steps = await txSteps();
      const approve = steps.findIndex((s) => s.startsWith("approve: ") && s.includes("正在钱包中授权代币…"));
      const mined = steps.findIndex((s) => s.startsWith("mining: ") && /0x[0-9a-f]{4}/.test(s));
      if (approve < 0 || mined < approve || !steps.some((s) => s.startsWith("indexing: "))) fail(`${what}: steps ${JSON.stringify(steps)}`);
    }

    /// Opens a channel from the panel: approve (the allowance is short) → open; returns its id.
    async function openChannel(deposit, durationLabel) {
      const known = new Set(await localChannelIds());
      const sentBefore = wallet.state.sent.length;
      const form = await openChannelForm(panel);
      await form.getByTestId("channel-create-amount").fill(deposit);
      if (durationLabel) await form.locator("select").selectOption({ label: durationLabel });
      await watchTx();
      await form.getByTestId("channel-create-submit").click();
      await panel.getByTestId("channel-tx").waitFor({ timeout: 10_000 });
      await txDone("opening");
      if (wallet.state.sent.length !== sentBefore + 2) fail(`expected approve + open, the wallet sent ${wallet.state.sent.length - sentBefore}`);
      const fresh = (await localChannelIds()).filter((id) => !known.has(id));
      if (fresh.length !== 1) fail(`expected one new channel in this browser, found ${JSON.stringify(fresh)}`);
      const id = fresh[0];
      try {
        await waitFor("the panel to show the new channel", async () => (await panel.getByTestId("channel-select").inputValue()) === id, 15_000, 100);
      } catch (e) {
        const sel = panel.getByTestId("channel-select");
        const opts = await sel.locator("option").evaluateAll((os) => os.map((o) => `${o.value} ${o.textContent}`));
        await screenshot(page, "new-channel-not-shown", true);
        fail(`${e.message}; new ${id}, shown ${await sel.inputValue()} of ${JSON.stringify(opts)}; steps ${JSON.stringify(await txSteps())}`);
      }
      return id;
    }

    /// The vouchers this browser signed for `requestId`, in order.
    const signedFor = async (channelId, requestId) => ((await localChannel(channelId))?.vouchers ?? []).filter((v) => v.requestId === requestId);
    const highestSigned = async (channelId) => ((await localChannel(channelId))?.vouchers ?? []).reduce((m, v) => (BigInt(v.amount) > m ? BigInt(v.amount) : m), 0n);
    /// The node's record of the newest reply on `channelId` (with the request id the page used).
    const newestReply = async (channelId) => (await account(channelId)).replies[0];
    /// The request id of the page's last reply: the newest the node recorded for the channel.
    async function checkPaidExactly(channelId, requestId) {
      const acc = await account(channelId);
      const r = acc.replies.find((x) => x.requestId === requestId);
      if (!r) fail(`the node has no reply ${requestId}`);
      const seqs = r.chunks.map((c) => c.seq);
      if (seqs.join() !== seqs.map((_, i) => i + 1).join()) fail(`chunks are not 1..n: ${seqs}`);
      const cum = r.chunks.map((c) => BigInt(c.cumulative));
      for (let i = 1; i < cum.length; i++) if (cum[i] <= cum[i - 1]) fail(`cumulative amounts do not rise: ${cum}`);
      const tokens = r.chunks.reduce((s, c) => s + c.tokens, 0);
      if (tokens !== r.completionTokens) fail(`chunks hold ${tokens} tokens, the reply ${r.completionTokens}`);
      if (BigInt(r.cost) !== costOf(r.promptTokens, r.completionTokens, prices)) fail(`reply cost ${r.cost} ≠ the price list's`);
      if (cum[cum.length - 1] !== BigInt(r.base) + BigInt(r.cost)) fail(`last chunk ${cum[cum.length - 1]} ≠ base ${r.base} + cost ${r.cost}`);
      const signed = (await signedFor(channelId, requestId)).map((v) => BigInt(v.amount));
      if (signed.join() !== cum.join()) fail(`the page signed ${signed} for chunks billed ${cum}: each chunk paid exactly once`);
      return { reply: r, acc };
    }

    // ------------------------------------------------------------------------------------------
    await step("the assistant page in Chinese: connect, sign in, the model's prices shown before sending", async () => {
      await page.goto(`${node.base}/#/assistant`, { waitUntil: "domcontentloaded" });
      await page.getByRole("heading", { name: "AI 助手", level: 1 }).waitFor();
      await page.getByTestId("connect-wallet").click();
      await page.getByTestId("sign-in").click();
      await page.getByTestId("signed-in").waitFor({ timeout: 15_000 });
      await expectText(page.getByTestId("assistant-socket"), "已连接");
      await expectText(page.getByTestId("model-prices"), amt(prices.prompt));
      await expectText(page.getByTestId("model-prices"), amt(prices.completion));
      await expectText(page.getByTestId("chat-blocker"), "请先");
      await screenshot(page, "assistant-zh");
    });

    let c1;
    await step("open a channel from the panel: approve MarketToken → open with a fresh session key", async () => {
      c1 = await openChannel("0.003");
      const ch = await onChain(c1);
      if (ch.state !== "Open" || ch.deposit !== 3n * 10n ** 15n) fail(`on chain: ${JSON.stringify({ ...ch, deposit: String(ch.deposit) })}`);
      const local = await localChannel(c1);
      const indexed = await getJson(`${node.base}/api/channels/${c1}`);
      if (indexed.signer.toLowerCase() !== privateKeyToAccount(local.sessionKey).address.toLowerCase()) fail("the channel's signer is not the session key kept here");
      if (indexed.payee.toLowerCase() !== payee.toLowerCase() || indexed.payer.toLowerCase() !== buyer) fail(`channel parties ${JSON.stringify(indexed)}`);
      await expectText(panel.getByTestId("channel-deposit"), amt(3n * 10n ** 15n));
      await expectText(panel.getByTestId("channel-state"), "开放");
      await screenshot(page, "channel-opened");
    });

    await step("chat with auto-pay: every chunk paid by the session key, the reply's cost and the chunk payments listed", async () => {
      await page.getByTestId("autopay").check();
      const reply = await send("Say hello in five words.", 16);
      const r = await newestReply(c1);
      const { acc } = await checkPaidExactly(c1, r.requestId);
      if (acc.billed !== acc.accepted || acc.billed !== r.chunks.at(-1).cumulative) fail(`billed ${acc.billed}, accepted ${acc.accepted}`);
      await expectText(reply.getByTestId("reply-cost"), `提示 ${r.promptTokens} + 生成 ${r.completionTokens} 词元`);
      await expectText(reply.getByTestId("reply-cost"), `费用 ${amt(r.cost)}`);
      if (!(await text(reply.locator(".md"))).length) fail("the reply shows no text");
      await panel.getByText(`本浏览器签署的凭证（${r.chunks.length}）`).click();
      await waitFor("one voucher row per chunk", async () => (await panel.getByTestId("vouchers").locator("tbody tr").count()) === r.chunks.length, 10_000, 100);
      await expectText(panel.getByTestId("vouchers").locator("tbody tr").first(), amt(r.chunks.at(-1).cumulative));
      await panel.getByText("节点的逐条回复记录（1）").click();
      await expectText(panel.locator(".replies"), `费用 ${amt(r.cost)}`);
      await expectText(panel.getByTestId("channel-spent"), amt(acc.accepted));
      await expectText(panel.getByTestId("channel-remaining"), amt(3n * 10n ** 15n - BigInt(acc.accepted)));
      if (wallet.state.requests.includes("eth_signTypedData_v4")) fail("auto-pay asked the wallet to sign");
      await screenshot(page, "autopay-reply");
    });

    await step("manual pay: the stream waits for each press of Pay", async () => {
      await page.getByTestId("autopay").uncheck();
      const before = await replies.count();
      await maxTokens.fill("6");
      await page.getByTestId("chat-input").fill("Name a colour.");
      await page.getByTestId("chat-send").click();
      const reply = replies.nth(before);
      let presses = 0;
      await waitFor(
        "the reply to be paid press by press to its end",
        async () => {
          if ((await reply.getAttribute("data-phase")) === "done" && !(await reply.getByTestId("pay").count())) return true;
          const pay = reply.getByTestId("pay");
          if (await pay.count()) {
            const seq = presses + 1;
            await expectText(reply.locator(".pay-row"), `第 ${seq} 段等待付费`);
            if (presses === 0) await screenshot(page, "manual-pay-waiting");
            await pay.click();
            presses += 1;
            await waitFor(`chunk ${seq}'s voucher to be signed`, async () => !(await reply.locator(".pay-row").count()) || !(await text(reply.locator(".pay-row"))).includes(`第 ${seq} 段`), 10_000, 50);
          }
          return false;
        },
        60_000,
        100,
      );
      const r = await newestReply(c1);
      await checkPaidExactly(c1, r.requestId);
      if (presses !== r.chunks.length) fail(`Pay was pressed ${presses} times for ${r.chunks.length} chunks`);
      log(`manual pay: ${presses} chunks, ${r.completionTokens} tokens`);
      await page.getByTestId("autopay").check();
    });

    await step("a reply the deposit cannot cover is refused with the top-up it needs; top up from the chat", async () => {
      const depositBefore = (await onChain(c1)).deposit;
      const reply = await send("Write a long story.", 1000, ["failed"]);
      const err = reply.getByTestId("reply-error");
      if ((await err.getAttribute("data-code")) !== "deposit_spent") fail(`error code ${await err.getAttribute("data-code")}`);
      await expectText(err, `存款（${amt(depositBefore)}）不足以支付此回复`);
      await expectText(err, "top it up by");
      await screenshot(page, "deposit-spent");
      const sentBefore = wallet.state.sent.length;
      await err.getByRole("button", { name: "为通道充值" }).click();
      const form = panel.getByTestId("channel-topup");
      const hint = await form.locator("input").inputValue();
      if (!(Number(hint) > 0)) fail(`the top-up form is not filled with the amount needed: ${JSON.stringify(hint)}`);
      await watchTx();
      await form.getByRole("button", { name: "充值" }).click();
      await panel.getByTestId("channel-tx").waitFor({ timeout: 10_000 });
      await txDone("the top-up");
      const after = (await onChain(c1)).deposit;
      const added = after - depositBefore;
      if (added <= 0n) fail("the deposit did not grow");
      if (wallet.state.sent.length !== sentBefore + 2) fail(`expected approve + topUp, the wallet sent ${wallet.state.sent.length - sentBefore}`);
      await expectText(panel.getByTestId("channel-deposit"), amt(after));
      // what the refusal asked for now fits: the same request is accepted
      await err.getByRole("button", { name: "重新发送" }).waitFor();
      const again = await send("Say yes.", 4);
      if ((await again.getAttribute("data-phase")) !== "done") fail("the reply after the top-up did not finish");
      await checkPaidExactly(c1, (await newestReply(c1)).requestId);
    });

    await step("forged, replayed and over-deposit vouchers on the WebSocket are refused with the node's reasons", async () => {
      const acc = await account(c1);
      const accepted = BigInt(acc.accepted);
      const last = acc.replies[0];
      const local = await localChannel(c1);
      const deposit = (await onChain(c1)).deposit;
      const voucher = async (amount, signature) => {
        const frames = await wsCall(page, { type: "voucher", requestId: last.requestId, amount: String(amount), signature });
        return frames.at(-1);
      };
      // forged: signed by a key that is not the channel's signer
      const forger = generatePrivateKey();
      const forged = await voucher(accepted + 1n, await signVoucher(forger, c1, accepted + 1n));
      if (forged.type !== "error" || forged.code !== "voucher_refused") fail(`forged: ${JSON.stringify(forged)}`);
      const forgerAddr = privateKeyToAccount(forger).address;
      if (!forged.message.includes(`voucher was signed by ${forgerAddr}, not by the channel's signer`)) fail(`forged: ${forged.message}`);
      // replayed: an earlier voucher of this browser, below what was accepted since
      const old = local.vouchers.find((v) => BigInt(v.amount) < accepted);
      const replayed = await voucher(old.amount, old.signature);
      if (replayed.code !== "voucher_refused" || !replayed.message.includes(`voucher for ${old.amount} is not above the ${accepted} already accepted`)) {
        fail(`replayed: ${JSON.stringify(replayed)}`);
      }
      // the highest voucher again is harmless: acknowledged, nothing more accepted
      const top = local.vouchers.find((v) => BigInt(v.amount) === accepted);
      const again = await voucher(top.amount, top.signature);
      if (again.type !== "paid" || again.accepted !== String(accepted)) fail(`the highest voucher sent again: ${JSON.stringify(again)}`);
      // over the deposit: signed by the session key, but more than the channel holds
      const over = await voucher(deposit + 1n, await signVoucher(local.sessionKey, c1, deposit + 1n));
      if (over.code !== "deposit_spent" || !over.message.includes(`voucher for ${deposit + 1n} exceeds the deposit of ${deposit}`)) fail(`over deposit: ${JSON.stringify(over)}`);
      if (over.owed !== String(deposit + 1n) || over.deposit !== String(deposit)) fail(`over deposit figures: ${JSON.stringify(over)}`);
      const after = await account(c1);
      if (after.accepted !== acc.accepted) fail(`accepted moved from ${acc.accepted} to ${after.accepted}`);
      log(`refused: ${forged.message} | ${replayed.message} | ${over.message}`);
    });

    await step("a page whose session key was swapped pays a voucher the node refuses: shown; what is owed is paid after", async () => {
      const good = await localChannel(c1);
      await setLocalChannel({ ...good, sessionKey: generatePrivateKey() });
      const reply = await send("Hi.", 4, ["failed", "refused", "done"]);
      const err = reply.getByTestId("reply-error");
      await waitFor("the node's refusal", async () => (await err.getAttribute("data-code")) === "voucher_refused", 10_000, 100);
      await expectText(err, "节点账本拒绝了凭证");
      await expectText(err, "not by the channel's signer");
      await screenshot(page, "voucher-refused");
      // the swapped key's voucher is in the record: put the real key back, keep the record
      const now = await localChannel(c1);
      await setLocalChannel({ ...now, sessionKey: good.sessionKey });
      await waitFor("the refused reply to end on the node", async () => (await newestReply(c1)).status !== "running", 15_000);
      const acc = await account(c1);
      if (BigInt(acc.billed) <= BigInt(acc.accepted)) fail("the refused chunk should be billed and unpaid");
      await expectText(panel.getByTestId("channel-billed"), amt(acc.billed));
      const owedReply = await send("Hi again.", 4, ["failed"]);
      const owedErr = owedReply.getByTestId("reply-error");
      if ((await owedErr.getAttribute("data-code")) !== "owed") fail(`code ${await owedErr.getAttribute("data-code")}`);
      await owedErr.getByTestId("pay-owed").click();
      const retried = replies.last();
      await waitFor("the retried reply to finish", async () => (await retried.getAttribute("data-phase")) === "done", 60_000, 100);
      const after = await account(c1);
      if (after.billed !== after.accepted) fail(`after paying what was owed: billed ${after.billed}, accepted ${after.accepted}`);
    });

    let c2;
    let c2Key;
    let c2ExpiryMs = 0;
    await step("a channel past its expiry: the node refuses its voucher, the page will not pay it", async () => {
      // Opened straight on chain by the buyer's key, expiring a few seconds from now.
      const payer = createWalletClient({ account: privateKeyToAccount(buyerKey), transport: http(network.rpcUrl) });
      c2Key = generatePrivateKey();
      const signer = privateKeyToAccount(c2Key).address;
      const salt = generatePrivateKey();
      const amount = 10n ** 15n;
      const approve = await payer.writeContract({ chain: null, address: token, abi: tokenAbi, functionName: "approve", args: [network.paymentChannel, amount] });
      await chain.waitForTransactionReceipt({ hash: approve });
      const expiry = (await chain.getBlock()).timestamp + 5n;
      const opened = await payer.writeContract({
        chain: null,
        address: network.paymentChannel,
        abi: channelAbi,
        functionName: "open",
        args: [payee, token, amount, expiry, salt, signer],
      });
      const receipt = await chain.waitForTransactionReceipt({ hash: opened });
      c2ExpiryMs = Number(expiry) * 1000;
      c2 = parseEventLogs({ abi: channelAbi, eventName: "ChannelOpened", logs: receipt.logs })[0].args.channelId;
      await waitFor(
        "the chain's clock to pass the channel's expiry",
        async () => {
          await rpc("evm_mine");
          return (await chain.getBlock()).timestamp > expiry && Date.now() / 1000 > Number(expiry);
        },
        30_000,
        500,
      );
      await waitFor("the node to index the channel", async () => (await getJson(`${node.base}/api/channels/${c2}`)).state === "Expired", 15_000);
      const sig = await signVoucher(c2Key, c2, 1n);
      const [refused] = (
        await wsCall(page, {
          type: "start",
          requestId: crypto.randomUUID(),
          channelId: c2,
          model: model.id,
          messages: [{ role: "user", content: "Hi." }],
          maxTokens: 4,
          prices: { prompt: model.pricing.promptPer1k, completion: model.pricing.completionPer1k },
          voucher: { amount: "1", signature: sig },
        })
      ).filter((f) => f.type === "error");
      if (refused.code !== "expired" || refused.expiry !== Number(expiry) || !refused.message.includes(`expired at ${expiry}`) || !refused.message.includes("reclaim")) {
        fail(`expired channel: ${JSON.stringify(refused)}`);
      }
      if ((await account(c2)).accepted !== "0") fail("a voucher on the expired channel was accepted");
      log(`refused: ${refused.message}`);
      // The page knows the channel (its session key kept here): it shows it expired and will not pay.
      await setLocalChannel({ id: c2, chainId, payer: buyer, payee, token, salt, signer, sessionKey: c2Key, vouchers: [], dead: false });
      await page.reload({ waitUntil: "domcontentloaded" });
      await page.getByTestId("signed-in").waitFor({ timeout: 15_000 });
      await panel.getByTestId("channel-select").selectOption(c2);
      await expectText(panel.getByTestId("channel-state"), "已到期");
      await expectText(page.getByTestId("chat-blocker"), "所选通道状态为“已到期”");
      if (!(await page.getByTestId("chat-send").isDisabled())) fail("the page offers to send on an expired channel");
      await panel.getByTestId("channel-reclaim").waitFor();
      await screenshot(page, "expired-channel");
    });

    // The admin in a second browser context.
    const adminWallet = makeWallet(dev.accounts[ADMIN_INDEX].private_key, network.rpcUrl, chainId);
    const adminContext = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
    await injectWallet(adminContext, adminWallet);
    const adminPage = await adminContext.newPage();
    adminPage.on("pageerror", (e) => consoleErrors.push(`admin pageerror: ${e.message}`));
    const jobCard = (name) => adminPage.getByTestId(`job-${name}`);
    const runsOf = async (name) => (await getJson(`${node.base}/api/admin/jobs`, { headers: { cookie: adminCookie } })).find((j) => j.name === name).runs;
    let adminCookie = "";

    await step("the admin page refuses the buyer (403) and anyone signed out (401)", async () => {
      await page.goto(`${node.base}/#/admin`);
      await page.getByTestId("admin-forbidden").waitFor({ timeout: 10_000 });
      await expectText(page.getByTestId("admin-forbidden"), "此钱包不是管理员。");
      const answer = await page.evaluate(async () => {
        const r = await fetch("/api/admin/users");
        return { status: r.status, body: await r.json() };
      });
      if (answer.status !== 403 || answer.body.error?.code !== "not_admin") fail(`the buyer got ${JSON.stringify(answer)}`);
      const anon = await fetch(`${node.base}/api/admin/jobs/channel-auto-settle/run`, { method: "POST" });
      if (anon.status !== 401) fail(`signed out: ${anon.status}`);
      await screenshot(page, "admin-forbidden");
    });

    await step("the admin sees users, channels and jobs; runs the expiry job; disables the buyer, whose request is refused", async () => {
      await adminPage.goto(`${node.base}/#/admin`, { waitUntil: "domcontentloaded" });
      await adminPage.getByTestId("connect-wallet").click();
      await adminPage.getByTestId("sign-in").click();
      await adminPage.getByTestId("signed-in").waitFor({ timeout: 15_000 });
      adminCookie = (await adminContext.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      const users = adminPage.getByTestId("admin-users");
      await users.waitFor({ timeout: 15_000 });
      const row = users.locator("tr", { has: adminPage.getByRole("button", { name: `停用 ${buyer}` }) });
      await expectText(row, "启用"); // the status badge reads "enabled"
      const channels = adminPage.getByTestId("admin-channels");
      const c1Row = channels.locator("tr", { has: adminPage.getByRole("button", { name: `立即结算通道 ${c1}` }) });
      const acc = await account(c1);
      await expectText(c1Row, amt(acc.billed));
      await expectText(c1Row, "Open");
      // the expiry job marks the expired channel
      const before = (await runsOf("channel-expiry")).length;
      await jobCard("channel-expiry").getByRole("button", { name: "立即运行" }).click();
      await waitFor("a new run of channel-expiry", async () => (await runsOf("channel-expiry")).length > before, 15_000);
      const runs = await runsOf("channel-expiry");
      if (runs[0].errors.length) fail(`expiry run ${JSON.stringify(runs[0])}`);
      // This run, or a scheduled one since the expiry, marked it.
      const run = runs.find((r) => r.channelsTouched >= 1 && r.startedAtMs >= c2ExpiryMs);
      if (!run) fail(`no run of channel-expiry marked the expired channel: ${JSON.stringify(runs)}`);
      const listed = (await getJson(`${node.base}/api/admin/channels`, { headers: { cookie: adminCookie } })).find((c) => c.channelId === c2);
      if (listed?.settlement !== "expired") fail(`the expired channel is listed as ${JSON.stringify(listed)}`);
      await jobCard("channel-expiry").locator("summary").click();
      await expectText(jobCard("channel-expiry").locator(".runs"), `${run.channelsTouched} 个通道`);
      await screenshot(adminPage, "admin-zh", true);
      // disable the buyer: the buyer's next request is refused
      await adminPage.getByRole("button", { name: `停用 ${buyer}` }).click();
      await adminPage.getByRole("button", { name: `启用 ${buyer}` }).waitFor({ timeout: 10_000 });
      await page.goto(`${node.base}/#/assistant`);
      await panel.getByTestId("channel-select").selectOption(c1);
      const refused = await send("Hello?", 4, ["failed"]);
      const err = refused.getByTestId("reply-error");
      if ((await err.getAttribute("data-code")) !== "user_disabled") fail(`code ${await err.getAttribute("data-code")}`);
      await expectText(err, "管理员已停用此账户");
      await expectText(err, "is disabled by an admin");
      await screenshot(page, "user-disabled");
      await adminPage.getByRole("button", { name: `启用 ${buyer}` }).click();
      await adminPage.getByRole("button", { name: `停用 ${buyer}` }).waitFor({ timeout: 10_000 });
    });

    await step("the payer reclaims the expired channel's deposit from the panel", async () => {
      await panel.getByTestId("channel-select").selectOption(c2);
      const before = await balanceOf(buyer);
      await panel.getByTestId("channel-reclaim").click();
      await expectText(panel.getByTestId("channel-state"), "已取回", 60_000);
      if ((await onChain(c2)).state !== "Reclaimed") fail("not reclaimed on chain");
      if ((await balanceOf(buyer)) - before !== 10n ** 15n) fail("the deposit did not come back whole");
      await panel.getByTestId("channel-select").selectOption(c1);
    });

    await step("the node killed (SIGKILL) while a reply waits for its voucher, restarted on the same data → the reply resumes, nothing paid twice", async () => {
      await page.getByTestId("autopay").uncheck();
      const before = await replies.count();
      await maxTokens.fill("40");
      await page.getByTestId("chat-input").fill("Write the numbers from one to thirty in words, separated by commas.");
      await page.getByTestId("chat-send").click();
      const reply = replies.nth(before);
      await reply.getByTestId("pay").click({ timeout: 60_000 });
      await expectText(reply.locator(".pay-row"), "第 2 段等待付费", 30_000);
      const requestId = (await newestReply(c1)).requestId;
      const atKill = await account(c1);
      const billedAtKill = atKill.billed;
      const tokensAtKill = atKill.replies[0].completionTokens;
      process.kill(node.child.pid, "SIGKILL");
      await waitFor("agora to die", async () => node.exited(), 10_000, 50);
      await expectText(page.getByTestId("assistant-socket"), "连接中断，正在重连…");
      await screenshot(page, "node-killed");
      // Same data directory, same address, the chain that outlived it (anvil is the dead node's
      // child and keeps running): the node's state comes back from its store.
      node = await startNode({
        dataDir: node.dataDir,
        httpPort: node.httpPort,
        appendLog: true,
        args: ["--rpc-url", network.rpcUrl, "--deployments", path.join(node.dataDir, "deployments.json"), "--confirmations", "0"],
        env: { AGORA_CHANNELS__PAYEE_KEY: providerKey },
        ready: async (base) => (await getJson(`${base}/api/assistant/models`)).models.length > 0,
        readyWhat: "the restarted node to serve the assistant",
        readyMs: 180_000,
      });
      await expectText(page.getByTestId("assistant-socket"), "已连接", 30_000);
      if ((await account(c1)).billed !== billedAtKill) fail("the restart changed what was billed");
      // chunk 2 is still owed: paying it lets the reply go on, then auto-pay finishes it
      await reply.getByTestId("pay").click({ timeout: 30_000 });
      await page.getByTestId("autopay").check();
      await waitFor("the resumed reply to finish", async () => (await reply.getAttribute("data-phase")) === "done", 90_000, 100);
      const { reply: r, acc } = await checkPaidExactly(c1, requestId);
      // Two chunks (at most 1 + 16 tokens) were delivered before the kill; a reply cut at its
      // length (40) was generated on by the restarted node.
      if (r.finish === "length" ? r.completionTokens !== 40 || r.chunks.length < 3 : r.finish !== "stop") {
        fail(`after the restart: ${r.chunks.length} chunks, ${r.completionTokens} tokens, finish ${r.finish}`);
      }
      if (acc.billed !== acc.accepted) fail(`billed ${acc.billed}, accepted ${acc.accepted}`);
      await expectText(reply.getByTestId("reply-cost"), `生成 ${r.completionTokens} 词元`);
      await screenshot(page, "resumed-after-restart");
      log(`resumed: ${tokensAtKill} tokens before the kill, ${r.completionTokens} in ${r.chunks.length} chunks after (${r.finish}); ${r.cost} billed once`);
    });

    let c3;
    await step("the auto-settle job closes a channel about to expire with its highest voucher", async () => {
      c3 = await openChannel("0.001", "1 小时");
      await send("Say ok.", 4);
      const highest = await highestSigned(c3);
      const acc = await account(c3);
      if (BigInt(acc.accepted) !== highest || highest === 0n) fail(`accepted ${acc.accepted}, highest signed ${highest}`);
      // Paused so that only "run now" closes it; then the chain's clock moves to 10 minutes before
      // the expiry, inside the job's 15-minute margin.
      await adminPage.reload({ waitUntil: "domcontentloaded" });
      const card = jobCard("channel-auto-settle");
      await card.getByRole("button", { name: "暂停" }).click();
      await expectText(card, "已暂停");
      const { expiry, deposit } = await onChain(c3);
      const now = Number((await chain.getBlock()).timestamp);
      await rpc("evm_increaseTime", [expiry - now - 600]);
      await rpc("evm_mine");
      const before = (await runsOf("channel-auto-settle")).length;
      await card.getByRole("button", { name: "立即运行" }).click();
      await waitFor("a new run of channel-auto-settle", async () => (await runsOf("channel-auto-settle")).length > before, 30_000);
      const [run] = await runsOf("channel-auto-settle");
      if (run.channelsTouched !== 1 || run.errors.length) fail(`auto-settle run ${JSON.stringify(run)}`);
      await waitFor("the channel to be closed on chain", async () => (await onChain(c3)).state === "Closed", 15_000);
      const logs = await chain.getContractEvents({ address: network.paymentChannel, abi: channelAbi, eventName: "ChannelClosed", args: { channelId: c3 }, fromBlock: 0n });
      if (logs.length !== 1) fail(`${logs.length} ChannelClosed events`);
      const { paidToPayee, refundedToPayer } = logs[0].args;
      if (paidToPayee !== highest || refundedToPayer !== deposit - highest) fail(`closed with ${paidToPayee} / ${refundedToPayer}, highest voucher ${highest}`);
      await card.getByRole("button", { name: "恢复" }).click();
      await expectText(card, "运行中");
      await card.locator("summary").click();
      await expectText(card.locator(".runs"), "1 个通道");
      await screenshot(adminPage, "auto-settled");
    });

    await step("settle now (admin): the chain's balances equal the vouchers exactly", async () => {
      const highest = await highestSigned(c1);
      const acc = await account(c1);
      if (BigInt(acc.accepted) !== highest || acc.billed !== acc.accepted) fail(`accepted ${acc.accepted}, billed ${acc.billed}, highest signed ${highest}`);
      const { deposit } = await onChain(c1);
      const [payeeBefore, payerBefore, owedBefore, heldBefore] = await Promise.all([
        balanceOf(payee),
        balanceOf(buyer),
        owedTo(payee),
        balanceOf(network.paymentChannel),
      ]);
      await adminPage.reload({ waitUntil: "domcontentloaded" });
      await adminPage.getByRole("button", { name: `立即结算通道 ${c1}` }).click();
      await waitFor("the channel to be closed on chain", async () => (await onChain(c1)).state === "Closed", 30_000);
      const [payeeAfter, payerAfter, owedAfter, heldAfter] = await Promise.all([
        balanceOf(payee),
        balanceOf(buyer),
        owedTo(payee),
        balanceOf(network.paymentChannel),
      ]);
      const paid = payeeAfter - payeeBefore + (owedAfter - owedBefore);
      if (paid !== highest) fail(`the payee got ${paid}, the highest voucher is ${highest}`);
      if (payerAfter - payerBefore !== deposit - highest) fail(`the payer got back ${payerAfter - payerBefore}, expected ${deposit - highest}`);
      if (heldBefore - heldAfter !== deposit - (owedAfter - owedBefore)) fail(`the contract paid out ${heldBefore - heldAfter}`);
      const logs = await chain.getContractEvents({ address: network.paymentChannel, abi: channelAbi, eventName: "ChannelClosed", args: { channelId: c1 }, fromBlock: 0n });
      if (logs.length !== 1 || logs[0].args.paidToPayee !== highest) fail(`ChannelClosed ${JSON.stringify(logs.map((l) => String(l.args.paidToPayee)))}`);
      await page.reload({ waitUntil: "domcontentloaded" });
      await panel.getByTestId("channel-select").selectOption(c1);
      await expectText(panel.getByTestId("channel-settlement"), `已在链上结算：付给助手 ${amt(highest)}，退还你 ${amt(deposit - highest)}。`, 15_000);
      await screenshot(page, "settled");
      log(`settled ${c1}: ${highest} to the payee, ${deposit - highest} back`);
    });

    await step("English and phone width (375 px): the assistant and admin pages without horizontal scrolling", async () => {
      await page.getByTestId("lang-select").selectOption("en");
      await page.getByRole("heading", { name: "AI assistant", level: 1 }).waitFor();
      await screenshot(page, "assistant-en");
      await page.setViewportSize({ width: 375, height: 812 });
      await page.getByRole("tab", { name: "Channel" }).waitFor();
      for (const p of [page, adminPage]) {
        if (p === adminPage) {
          await adminPage.setViewportSize({ width: 375, height: 812 });
          await adminPage.getByTestId("lang-select").selectOption("en");
          await adminPage.getByRole("heading", { name: "Admin", level: 1 }).waitFor();
        }
        await p.evaluate(() => window.scrollTo(0, 0));
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) {
          // The outermost elements that reach past the screen, to say what to fix.
          const wide = await p.evaluate(() =>
            [...document.querySelectorAll("body *")]
              .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
              .slice(0, 5)
              .map((el) => {
                const chain = [];
                for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
                  chain.push(`${a.tagName.toLowerCase()}.${a.className}[${a.clientWidth}/${a.scrollWidth} ${getComputedStyle(a).overflowX} ${getComputedStyle(a).display}]`);
                }
                return chain.join(" < ");
              }),
          );
          fail(`${p === page ? "the assistant" : "the admin"} page is ${overflow}px wider than the screen: ${wide.join(", ")}`);
        }
      }
      await screenshot(page, "assistant-mobile-en", true);
      await page.getByRole("tab", { name: "Channel" }).click();
      await screenshot(page, "channel-mobile-en", true);
      await screenshot(adminPage, "admin-mobile-en", true);
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[1-4]|WebSocket/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stopNode(node);
    // The first node's process group still holds the anvil it started when that node was killed.
    if (firstGroup !== null) {
      try {
        process.kill(-firstGroup, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (node && allPassed()) rmSync(node.dataDir, { recursive: true, force: true });
  }
}

runMain(main);
