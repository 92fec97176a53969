// End-to-end test of the web app in Debian's Chromium, against a real `agora up` this script
// starts (embedded anvil, SQLite, the built web/dist). The page gets an EIP-1193 provider injected
// before it loads; the provider forwards every request to this process, which signs with a dev-chain
// key through viem and proxies reads to anvil — no wallet extension.
//
// Steps: wrong network → switch, connect, a rejected signature, sign in (SIWE), buy the ETH service
// (a digit drawn on the grid) and the ERC-20 service (approve first), both tasks reach Completed
// without a reload, a bad input is refunded with the node's reason, results open, English at phone
// width, reload keeps the session, then — with no browser wallet — a local dev account buys a
// service listed while the page is open and takes its refund after the deadline. Screenshots of each
// step go to test-artifacts/e2e/.
//
// Needs: web/dist built, the agora binary ($AGORA_BIN, or $CARGO_TARGET_DIR/debug/agora, or
// target/debug/agora), node_modules (anvil) at the repository root, /usr/bin/chromium
// (`make web-test` provides all of them).
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { createPublicClient, createWalletClient, http, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
  expectText,
  fail,
  getJson,
  injectWallet,
  makeWallet,
  runMain,
  screenshot,
  sleep,
  startNode,
  step,
  stopNode,
  text,
  useArtifacts,
  waitFor,
} from "./lib.mjs";

// A mined receipt is held back this long from the page, as a real chain would take to include the
// transaction, so "waiting for confirmation" is on screen long enough to be checked.
const RECEIPT_DELAY_MS = 1200;

async function drawSeven(page) {
  // Row 1, columns 1..6, then down the diagonal to row 6, column 2.
  const cells = [9, 10, 11, 12, 13, 14, 22, 29, 36, 43, 50];
  const centre = async (i) => {
    const box = await page.locator(`[data-cell="${i}"]`).boundingBox();
    if (!box) fail(`cell ${i} is not visible`);
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  };
  const first = await centre(cells[0]);
  await page.mouse.move(first.x, first.y);
  await page.mouse.down();
  for (const i of cells.slice(1)) {
    const p = await centre(i);
    await page.mouse.move(p.x, p.y, { steps: 4 });
  }
  await page.mouse.up();
}

async function buy(page, serviceId, fillInput, expectApprove) {
  await page.getByTestId(`buy-${serviceId}`).click();
  const dialog = page.getByTestId("buy-dialog");
  await dialog.waitFor({ state: "visible" });
  await fillInput();
  await dialog.getByTestId("confirm-buy").click();
  if (expectApprove) {
    const approve = dialog.locator('[data-step="approve"]');
    await approve.waitFor({ timeout: 20_000 });
    await waitFor("the approval to be confirmed", async () => (await approve.getAttribute("data-state")) === "done", 30_000, 100);
  }
  // The purchase is in flight: the hash is shown while the block is awaited.
  const sent = dialog.locator('[data-step="sent"][data-state="active"]');
  await sent.waitFor({ timeout: 30_000 });
  const sentText = await text(sent);
  return { dialog, sentText };
}

async function main() {
  useArtifacts("e2e");
  let node;
  let browser;
  try {
    await step("agora up starts (embedded chain, contracts, services, API, web app)", async () => {
      node = await startNode();
    });
    const network = await getJson(`${node.base}/api/network`);
    const dev = JSON.parse(readFileSync(path.join(node.dataDir, "dev.json"), "utf8"));
    const buyer = dev.accounts[dev.roles.first_buyer];
    const wallet = makeWallet(buyer.private_key, network.rpcUrl, network.chainId);
    const buyerAddress = wallet.account.address.toLowerCase();

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
    await injectWallet(context, wallet);
    const rpcOrigin = new URL(network.rpcUrl).origin;
    await context.route(`${rpcOrigin}/**`, async (route) => {
      const body = route.request().postData() ?? "";
      if (body.includes("eth_getTransactionReceipt")) await sleep(RECEIPT_DELAY_MS);
      await route.continue();
    });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(`console: ${m.text()}`));

    await step("the market shows the demo services in Chinese with their prices", async () => {
      await page.goto(node.base, { waitUntil: "domcontentloaded" });
      await page.getByRole("heading", { name: "算力市场" }).waitFor();
      await page.getByTestId("services").waitFor();
      await expectText(page.getByTestId("price-1"), "0.01 ETH");
      await expectText(page.getByTestId("price-2"), "0.02 ETH");
      await expectText(page.getByTestId("price-3"), "5 AMT");
      await expectText(page.getByTestId("service-1"), "AI 推理算力");
      await expectText(page.getByTestId("service-2"), "视频转码算力");
      await expectText(page.getByTestId("service-3"), "数据处理算力");
      await expectText(page.getByTestId("buy-1"), "购买算力");
      await expectText(page.getByTestId("connect-wallet"), "Connect Wallet");
      await page.evaluate(() => {
        window.__sameDocument = true;
      });
      await screenshot(page, "market");
    });

    await step("a wallet on the wrong network is told so and offered the switch", async () => {
      wallet.state.chainId = 1;
      await page.getByTestId("connect-wallet").click();
      const wrong = page.getByTestId("wrong-network");
      await wrong.waitFor();
      await expectText(wrong, `你的钱包连接的是链 1，而 Agora 运行在链 ${network.chainId} 上`);
      if (!(await page.getByTestId("sign-in").isDisabled())) fail("sign-in should wait for the right network");
      await screenshot(page, "wrong-network");
      await page.getByTestId("switch-network").click();
      await wrong.waitFor({ state: "detached" });
      await expectText(page.getByTestId("wallet-network"), `Agora 开发链（${network.chainId}）`);
      if (!wallet.state.requests.includes("wallet_switchEthereumChain")) fail("the page never asked the wallet to switch");
    });

    await step("connected: short address, ETH and MarketToken balances", async () => {
      const short = `${wallet.account.address.slice(0, 6)}…${wallet.account.address.slice(-4)}`;
      await expectText(page.getByTestId("wallet-address"), short);
      await expectText(page.getByTestId("wallet-balances"), "AMT");
      const balances = await text(page.getByTestId("wallet-balances"));
      if (!/[\d,.]+ ETH · 1,000 AMT/.test(balances)) fail(`unexpected balances ${JSON.stringify(balances)}`);
      await screenshot(page, "connected");
    });

    await step("a rejected signature shows a clear message and signs nobody in", async () => {
      wallet.state.rejectSign = true;
      await page.getByTestId("sign-in").click();
      await expectText(page.getByTestId("auth-error"), "你在钱包中拒绝了签名，未登录。");
      const status = await page.evaluate(async () => (await fetch("/api/auth/session")).status);
      if (status !== 401) fail(`session after a rejected signature answered ${status}, not 401`);
      await screenshot(page, "signature-rejected");
      wallet.state.rejectSign = false;
    });

    await step("sign in with Ethereum (EIP-4361) opens a session for the buyer", async () => {
      await page.getByTestId("sign-in").click();
      await page.getByTestId("signed-in").waitFor({ timeout: 15_000 });
      const session = await page.evaluate(async () => (await fetch("/api/auth/session")).json());
      if (session.address?.toLowerCase() !== buyerAddress) fail(`session is for ${JSON.stringify(session)}`);
      if (session.chainId !== network.chainId) fail(`session chain ${session.chainId}`);
      await screenshot(page, "signed-in");
    });

    let aiTask;
    await step("buy AI inference (ETH) with a digit drawn on the grid", async () => {
      const { dialog, sentText } = await buy(page, 1, () => drawSeven(page), false);
      if (!sentText.includes("交易已发送，等待区块确认…")) fail(`in-flight text was ${JSON.stringify(sentText)}`);
      if (!/0x[0-9a-f]{64}/.test(sentText)) fail(`no transaction hash shown: ${JSON.stringify(sentText)}`);
      await screenshot(page, "eth-purchase-sent");
      const created = dialog.getByTestId("task-created");
      await created.waitFor({ timeout: 30_000 });
      const createdText = await text(created);
      if (!/^任务已创建\s*任务ID：#\d+\s*状态：/.test(createdText)) fail(`created box reads ${JSON.stringify(createdText)}`);
      aiTask = Number((await text(created.getByTestId("created-task-id"))).replace("#", ""));
      const status = await text(created.getByTestId("created-task-status"));
      if (!["已创建（等待计算）", "计算中", "已完成 ✅"].includes(status)) fail(`status ${status}`);
      await screenshot(page, "eth-task-created");
      const task = await getJson(`${node.base}/api/tasks/${aiTask}`);
      const pixels = JSON.parse(task.input).pixels;
      if (task.user !== buyerAddress || task.serviceId !== 1 || pixels.length !== 64 || pixels[9] !== 16) {
        fail(`indexed task ${JSON.stringify(task)}`);
      }
      await dialog.getByRole("button", { name: "关闭" }).click();
      await dialog.waitFor({ state: "detached" });
    });

    let dataTask;
    await step("buy data processing (MarketToken): approve first, then buy", async () => {
      const { dialog } = await buy(
        page,
        3,
        () => page.getByTestId("task-text").fill("to be or not to be that is the question"),
        true,
      );
      const created = dialog.getByTestId("task-created");
      await created.waitFor({ timeout: 30_000 });
      dataTask = Number((await text(dialog.getByTestId("created-task-id"))).replace("#", ""));
      if (!(dataTask > aiTask)) fail(`task id ${dataTask}`);
      await screenshot(page, "token-task-created");
      await dialog.getByRole("button", { name: "关闭" }).click();
    });

    let badTask;
    await step("a bad input (a text file as the digit image) is refunded with the node's reason", async () => {
      await page.getByTestId("buy-1").click();
      const dialog = page.getByTestId("buy-dialog");
      await dialog.waitFor();
      await dialog.getByText("文件", { exact: true }).click();
      await dialog.getByTestId("task-file").setInputFiles({
        name: "note.txt",
        mimeType: "text/plain",
        buffer: Buffer.from("this is not a picture of a digit\n"),
      });
      await dialog.getByText("已上传，CID：").waitFor({ timeout: 15_000 });
      await dialog.getByTestId("confirm-buy").click();
      await dialog.getByTestId("task-created").waitFor({ timeout: 30_000 });
      badTask = Number((await text(dialog.getByTestId("created-task-id"))).replace("#", ""));
      const task = await getJson(`${node.base}/api/tasks/${badTask}`);
      if (!/^baf/.test(task.input)) fail(`the input should be the upload's CID, not ${JSON.stringify(task.input)}`);
      await dialog.getByRole("button", { name: "关闭" }).click();
      const card = page.locator(`[data-testid="task-${badTask}"][data-status="Refunded"]`);
      await card.waitFor({ timeout: 30_000 });
      await expectText(card.getByTestId("task-status"), "已退款");
      await expectText(card.getByTestId("failure-reason"), "已退款：");
      const reason = await text(card.getByTestId("failure-reason"));
      if (reason.length < "已退款：".length + 5) fail(`no reason given: ${JSON.stringify(reason)}`);
      await card.locator('.timeline li[data-event="TaskRefunded"]').waitFor();
      await card.scrollIntoViewIfNeeded();
      await screenshot(page, "bad-input-refunded");
    });

    await step("both tasks reach Completed, pushed live (no reload)", async () => {
      for (const id of [aiTask, dataTask]) {
        const card = page.locator(`[data-testid="task-${id}"][data-status="Completed"]`);
        await card.waitFor({ timeout: 90_000 });
        await expectText(card.getByTestId("task-status"), "已完成 ✅");
        for (const ev of ["TaskCreated", "TaskStarted", "TaskCompleted"]) {
          await card.locator(`.timeline li[data-event="${ev}"]`).waitFor({ timeout: 10_000 });
        }
      }
      if (!(await page.evaluate(() => window.__sameDocument === true))) fail("the page was reloaded");
      const announced = await text(page.getByTestId("announcer"));
      if (!announced.includes("已完成 ✅")) fail(`live region says ${JSON.stringify(announced)}`);
      await screenshot(page, "tasks-completed", true);
    });

    await step("results: shown inline, viewable and downloadable from /ipfs/{cid}", async () => {
      const ai = page.getByTestId(`task-${aiTask}`);
      await expectText(ai.getByTestId("digit-answer"), "识别结果：");
      const data = page.getByTestId(`task-${dataTask}`);
      const cid = await text(data.getByTestId("result-cid"));
      const stored = await (await fetch(`${node.base}/ipfs/${cid}`)).text();
      await expectText(data.getByTestId("result-inline"), stored.trim());
      const [view] = await Promise.all([context.waitForEvent("page"), data.getByTestId("result-view").click()]);
      await view.waitForLoadState();
      const shown = await view.evaluate(() => document.body.innerText);
      if (shown.trim() !== stored.trim()) fail(`view page shows ${JSON.stringify(shown)}`);
      await screenshot(view, "result-view");
      await view.close();
      const href = await data.getByTestId("result-download").getAttribute("href");
      const res = await fetch(new URL(href, node.base));
      if (!/attachment/.test(res.headers.get("content-disposition") ?? "")) fail("download link is not an attachment");
      await page.getByTestId(`task-${aiTask}`).scrollIntoViewIfNeeded();
      await screenshot(page, "results");
    });

    await step("English, at phone width (375 px), without horizontal scrolling", async () => {
      await page.getByTestId("lang-select").selectOption("en");
      await page.getByRole("heading", { name: "My tasks" }).waitFor();
      await expectText(page.getByTestId(`task-${aiTask}`).getByTestId("task-status"), "Completed ✅");
      await page.setViewportSize({ width: 375, height: 812 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) fail(`the page is ${overflow}px wider than the screen`);
      await screenshot(page, "mobile-en", true);
    });

    await step("the transcode dialog offers the service's options as keyboard-usable selects at 375 px", async () => {
      // Until the node describes each service's input, the transcode service is given the
      // described shape here (a node that already sends `input` is left as it is).
      const q = await context.newPage();
      await q.setViewportSize({ width: 375, height: 812 });
      await q.route("**/api/services", async (route) => {
        const res = await route.fetch();
        const services = await res.json();
        for (const s of services) {
          if (s.input || s.metadata?.kind !== "video-transcode") continue;
          s.input = {
            modes: ["file"],
            accept: "video/*",
            options: [
              { name: "resolution", choices: ["240p", "360p", "480p", "720p"], default: "240p" },
              { name: "codec", choices: ["h264", "vp9"], default: "h264" },
            ],
          };
        }
        await route.fulfill({ response: res, json: services });
      });
      await q.goto(node.base, { waitUntil: "domcontentloaded" });
      await q.getByTestId("buy-2").click();
      const dialog = q.getByTestId("buy-dialog");
      await dialog.waitFor();
      const resolution = dialog.getByLabel("Resolution");
      const codec = dialog.getByLabel("Codec");
      if ((await resolution.inputValue()) !== "240p") fail(`resolution starts at ${await resolution.inputValue()}`);
      const codecShown = await codec.evaluate((el) => [el.value, el.selectedOptions[0]?.textContent]);
      if (codecShown[0] !== "h264" || codecShown[1] !== "H.264") fail(`codec starts at ${JSON.stringify(codecShown)}`);
      if ((await dialog.getByTestId("task-file").getAttribute("accept")) !== "video/*") fail("the file field takes any file");
      await resolution.focus();
      await q.keyboard.press("ArrowDown");
      if ((await resolution.inputValue()) !== "360p") fail(`ArrowDown left the resolution at ${await resolution.inputValue()}`);
      await q.keyboard.press("Tab");
      if (!(await codec.evaluate((el) => el === document.activeElement))) fail("Tab did not reach the codec select");
      const overflow = await q.evaluate(() => {
        const d = document.querySelector('[data-testid="buy-dialog"]');
        return Math.max(document.documentElement.scrollWidth - window.innerWidth, d ? d.scrollWidth - d.clientWidth : 0);
      });
      if (overflow > 0) fail(`the dialog is ${overflow}px wider than the screen`);
      await screenshot(q, "transcode-options-mobile-en");
      await q.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      await q.close();
    });

    await step("a reload keeps language, wallet and session; my tasks come from /api/me/tasks", async () => {
      const meTasks = page.waitForResponse((r) => r.url().endsWith("/api/me/tasks") && r.status() === 200);
      await page.reload({ waitUntil: "domcontentloaded" });
      await meTasks;
      await page.getByRole("heading", { name: "Compute market" }).waitFor();
      await page.getByTestId("signed-in").waitFor();
      await page.locator(`[data-testid="task-${dataTask}"][data-status="Completed"]`).waitFor();
      await page.locator(`[data-testid="task-${aiTask}"][data-status="Completed"]`).waitFor();
      await screenshot(page, "reloaded-en");
    });

    let bare;
    let p;
    await step("without a browser wallet, a local dev account can be used (marked local-only)", async () => {
      bare = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
      // The page's clock, fast-forwarded with the chain's below (time flows normally until then).
      await bare.clock.install();
      p = await bare.newPage();
      await p.goto(node.base, { waitUntil: "domcontentloaded" });
      await p.getByText("No browser wallet detected.").waitFor();
      await p.getByRole("button", { name: "Use a local dev account" }).click();
      await p.getByText("Local dev chain only").waitFor();
      await p.getByRole("button", { name: "Use this account" }).click();
      await p.getByText("local dev account").first().waitFor();
      await expectText(p.getByTestId("wallet-balances"), "AMT");
      await p.getByTestId("sign-in").click();
      await p.getByTestId("signed-in").waitFor({ timeout: 15_000 });
      await screenshot(p, "dev-account");
    });

    await step("a service listed while the page is open appears live; after its deadline the buyer takes a refund", async () => {
      // Listed by the demo provider with a kind no executor serves, so its task stays unfinished.
      const provider = privateKeyToAccount(dev.accounts[dev.roles.provider].private_key);
      const providerClient = createWalletClient({ account: provider, transport: http(network.rpcUrl) });
      const chain = createPublicClient({ transport: http(network.rpcUrl) });
      const marketAbi = JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts/ComputeMarket.json"), "utf8")).abi;
      const metadata = {
        kind: "manual-review",
        name: { en: "Manual review", "zh-CN": "人工审核" },
        description: { en: "A person reviews your input.", "zh-CN": "由人工审核你的输入。" },
      };
      const before = (await getJson(`${node.base}/api/services`)).length;
      const hash = await providerClient.writeContract({
        chain: null,
        address: network.computeMarket,
        abi: marketAbi,
        functionName: "listService",
        args: [zeroAddress, 10n ** 15n, 60n, `data:application/json,${JSON.stringify(metadata)}`],
      });
      await chain.waitForTransactionReceipt({ hash });
      const id = before + 1;
      const card = p.getByTestId(`service-${id}`);
      await card.waitFor({ timeout: 15_000 });
      await expectText(card, "Manual review");
      await expectText(p.getByTestId(`price-${id}`), "0.001 ETH");
      await p.getByTestId(`buy-${id}`).click();
      const dialog = p.getByTestId("buy-dialog");
      await dialog.getByTestId("task-text").fill("please look at this");
      await dialog.getByTestId("confirm-buy").click();
      await dialog.getByTestId("task-created").waitFor({ timeout: 30_000 });
      const taskId = Number((await text(dialog.getByTestId("created-task-id"))).replace("#", ""));
      await dialog.getByRole("button", { name: "Close" }).click();
      const task = p.getByTestId(`task-${taskId}`);
      await task.waitFor();
      if (await task.getByTestId("claim-refund").count()) fail("a refund was offered before the deadline");
      // Past the deadline (60 s run time + 10 min grace) on the chain and in the page.
      const rpc = async (method, params) =>
        (await fetch(network.rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        })).json();
      await rpc("evm_increaseTime", [12 * 60]);
      await rpc("evm_mine", []);
      await bare.clock.fastForward("12:00");
      await task.getByTestId("claim-refund").click({ timeout: 15_000 });
      await p.locator(`[data-testid="task-${taskId}"][data-status="Refunded"]`).waitFor({ timeout: 30_000 });
      await expectText(task.getByTestId("failure-reason"), "Refunded to you after the deadline.");
      await task.locator('.timeline li[data-event="TaskRefunded"]').waitFor();
      const indexed = await getJson(`${node.base}/api/tasks/${taskId}`);
      if (indexed.status !== "Refunded") fail(`indexed status ${indexed.status}`);
      await task.scrollIntoViewIfNeeded();
      await screenshot(p, "refund-after-deadline");
      await bare.close();
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[14]/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stopNode(node);
    if (node && allPassed()) rmSync(node.dataDir, { recursive: true, force: true });
  }
}

runMain(main);
