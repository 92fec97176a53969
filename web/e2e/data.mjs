// End-to-end test of the data market page (#/data) in Debian's Chromium, against a real `agora up`
// (embedded anvil with DataMarket deployed, SQLite) and a real `agora seller` process serving a
// catalogue of random files in MarketToken, on one port for TCP and WebSocket. The buyer's wallet is
// injected as in run.mjs.
//
// Steps: the seller and its rating in the list; its signed menu read over the WebSocket; a purchase
// (approve → openOrder, then the transfer straight from the browser to the seller) whose progress
// bar moves and completes, saved and hashed equal to the file, settled on chain with the whole
// price to the seller, and the seller rated on chain; a second purchase held after five chunks by
// the test (Playwright routes that WebSocket and holds the seller's next frames, so the pause always
// lands strictly inside the transfer), paused, resumed from its last ACK — the seller's first chunk
// on the new connection is at exactly that offset — and completed; a third stopped after seven
// chunks with a rating in its `exit`, ended by the seller with its last ACK, then (seller gone, the
// challenge window passed on the dev chain) settled from the page with the seller paid exactly
// price × acked / size and the rest refunded; zh-CN, English and phone-width screenshots without
// horizontal scrolling. Screenshots, the node's and the seller's logs go to test-artifacts/e2e-data/.
//
// Needs the agora binary (`cargo build -p agora-cli`), web/dist (`make web`) and /usr/bin/chromium.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { createPublicClient, formatUnits, http, keccak256, toBytes } from "viem";
import {
  AGORA_BIN,
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
  artifactsDir,
  expectText,
  fail,
  freePort,
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
} from "./lib.mjs";

/// The seller: a dev account that plays no other part in the demo (as crates/cli/tests/data.rs; 7
/// is `agora up`'s own demo data seller).
const SELLER_INDEX = 8;
const CHUNK = 64 * 1024;
/// MarketToken per MiB, smallest unit (0.001 AMT).
const PRICE_PER_MIB = 10n ** 15n;
const ORDER_STATE = ["None", "Open", "Ending", "Settled", "Paid", "Expired"];
const marketAbi = JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts/DataMarket.json"), "utf8")).abi;

const amt = (v) => `${formatUnits(BigInt(v), 18)} AMT`;
const MIB = 1024n * 1024n;
/// The seller's price for `size` bytes: `price_per_mib × size / MiB`, rounded up (catalogue.rs).
const priceOf = (size) => (PRICE_PER_MIB * BigInt(size) + MIB - 1n) / MIB;
const sha256 = (bytes) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

/// One protocol frame as the test sees it on the wire: its type and payload.
function frameOf(message) {
  const buf = typeof message === "string" ? Buffer.from(message) : message;
  const headerLen = buf.readUInt32BE(4);
  const env = JSON.parse(buf.subarray(8, 8 + headerLen).toString("utf8"));
  return { type: env.message_type, payload: env.payload, verification: env.verification, bodyLength: buf.length - 8 - headerLen };
}

/// `agora seller` on `port`: the process and its first line (`{"seller": …}`) once it listens.
async function startSeller(api, key, catalogue, dir, port, env) {
  mkdirSync(dir, { recursive: true });
  const logPath = path.join(artifactsDir(), "seller.log");
  const err = openSync(logPath, "w");
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AGORA_")));
  Object.assign(childEnv, { RUST_LOG: "info", AGORA_DATA__SELLER_KEY: key, ...env });
  const child = spawn(
    AGORA_BIN,
    [
      "seller",
      "--config",
      path.join(dir, "agora.toml"),
      "--api",
      api,
      "--listen",
      `127.0.0.1:${port}`,
      "--json",
      "--price-per-mib",
      String(PRICE_PER_MIB),
      "--catalogue",
      catalogue,
      "--data-dir",
      dir,
    ],
    { cwd: REPO, env: childEnv, stdio: ["ignore", "pipe", err] },
  );
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once("line", resolve)),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`agora seller said nothing in 60 s; see ${logPath}`)), 60_000)),
    new Promise((_, reject) => child.once("exit", () => reject(new Error(`agora seller exited (${JSON.stringify(exited)}); see ${logPath}`)))),
  ]);
  const said = JSON.parse(first);
  if (!said.seller) fail(`agora seller said ${first}`);
  return { child, said: said.seller, exited: () => exited, logPath };
}

async function stopSeller(seller) {
  if (!seller || seller.exited()) return;
  seller.child.kill("SIGTERM");
  await waitFor("agora seller to exit", async () => seller.exited(), 10_000, 100).catch(() => seller.child.kill("SIGKILL"));
}

async function main() {
  useArtifacts("e2e-data");
  let node;
  let seller;
  let browser;
  try {
    await step("agora up starts with DataMarket deployed", async () => {
      node = await startNode();
    });
    const network = await getJson(`${node.base}/api/network`);
    if (!network.dataMarket) fail(`/api/network names no dataMarket: ${JSON.stringify(network)}`);
    const dev = JSON.parse(readFileSync(path.join(node.dataDir, "dev.json"), "utf8"));
    if (Object.values(dev.roles).includes(SELLER_INDEX)) fail(`dev account ${SELLER_INDEX} has a role: ${JSON.stringify(dev.roles)}`);
    const sellerKey = dev.accounts[SELLER_INDEX].private_key;
    const sellerAddr = dev.accounts[SELLER_INDEX].address.toLowerCase();
    const buyerKey = dev.accounts[dev.roles.first_buyer].private_key;
    const token = network.marketToken.toLowerCase();
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
      const o = await chain.readContract({ address: network.dataMarket, abi: marketAbi, functionName: "getOrder", args: [id] });
      return { state: ORDER_STATE[o.state], received: Number(o.received), price: BigInt(o.price), total: Number(o.totalBytes) };
    };
    const orderDetail = (id) => getJson(`${node.base}/api/data/orders/${id}`);
    const waitOrder = (id, what, done, ms = 60_000) =>
      waitFor(what, async () => {
        const d = await orderDetail(id);
        return done(d) ? d : null;
      }, ms, 200);

    // The catalogue: random bytes, sizes that are not whole MiB.
    const catalogue = path.join(node.dataDir, "catalogue");
    mkdirSync(catalogue, { recursive: true });
    const files = { "sample.bin": randomBytes(4 * 1024 * 1024 + 12_345), "archive.bin": randomBytes(2 * 1024 * 1024 + 777) };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(catalogue, name), bytes);
    const sellerPort = await freePort();

    await step("agora seller serves the catalogue in MarketToken (64 KiB chunks, one in flight) and registers", async () => {
      seller = await startSeller(node.base, sellerKey, catalogue, path.join(node.dataDir, "seller"), sellerPort, {
        AGORA_DATA__TOKEN: token,
        AGORA_DATA__CHUNK_SIZE: String(CHUNK),
        AGORA_DATA__WINDOW_INITIAL: String(CHUNK),
        AGORA_DATA__WINDOW_STEP: "0",
        AGORA_DATA__WINDOW_MAX: String(CHUNK),
        AGORA_DATA__SETTLE_INTERVAL_MS: "100",
      });
      if (seller.said.account.toLowerCase() !== sellerAddr) fail(`the seller is ${seller.said.account}, not account ${SELLER_INDEX}`);
      await waitFor("the registry (as indexed) to list the seller", async () => {
        const list = await getJson(`${node.base}/api/data/sellers`);
        return list.some((s) => s.address.toLowerCase() === sellerAddr && s.endpoint === `127.0.0.1:${sellerPort}`);
      }, 30_000);
    });

    const wallet = makeWallet(buyerKey, network.rpcUrl, network.chainId);
    const buyer = wallet.account.address.toLowerCase();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await injectWallet(context, wallet);
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(`console: ${m.text()}`));

    // Connections to the seller are the browser's own unless the test routes them: "observe"
    // forwards everything and records the frames; "gate" also holds the seller's frames after
    // `gateAfter` chunks (until the page sends `exit`), so a pause or a stop lands mid-transfer.
    const routing = { mode: "off", gateAfter: 0, conns: [] };
    await page.routeWebSocket(
      (url) => routing.mode !== "off" && url.port === String(sellerPort),
      (ws) => {
        const conn = { fromPage: [], toPage: [], held: [], chunks: 0, gateAfter: routing.mode === "gate" ? routing.gateAfter : Infinity, closed: false };
        routing.conns.push(conn);
        const server = ws.connectToServer();
        const release = () => {
          conn.gateAfter = Infinity;
          for (const m of conn.held.splice(0)) ws.send(m);
        };
        ws.onMessage((m) => {
          const f = frameOf(m);
          conn.fromPage.push(f);
          if (f.type === "exit") release();
          server.send(m);
        });
        server.onMessage((m) => {
          const f = frameOf(m);
          conn.toPage.push(f);
          if (conn.held.length || (f.type === "data" && conn.chunks >= conn.gateAfter)) {
            conn.held.push(m);
            return;
          }
          if (f.type === "data") conn.chunks += 1;
          ws.send(m);
        });
        ws.onClose(() => {
          conn.closed = true;
          void server.close().catch(() => undefined);
        });
        server.onClose(() => void ws.close().catch(() => undefined));
      },
    );

    const purchase = page.getByTestId("data-purchase");
    const progressBytes = purchase.getByTestId("progress-bytes");
    const received = async () => Number(await progressBytes.getAttribute("data-received"));
    const phase = () => purchase.getAttribute("data-phase");
    const waitPhase = (want, ms = 60_000) =>
      waitFor(`the purchase to be ${want}`, async () => {
        const p = await phase();
        if (p === "failed") fail(`the purchase failed: ${await text(purchase.getByTestId("purchase-error"))}`);
        return p === want;
      }, ms, 100);
    const sellerCard = page.getByTestId(`data-seller-${sellerAddr}`);
    /// The order id the purchase shows (its full id is the title).
    const purchaseOrder = async () => (await purchase.getByTestId("purchase-order").getAttribute("title")).toLowerCase();
    /// Records every value the progress bar shows, so a short-lived one is never missed.
    const watchProgress = () =>
      page.evaluate(() => {
        window.__progress = [];
        if (window.__progressObserver) return;
        const seen = () => {
          const el = document.querySelector('[data-testid="progress-bytes"]');
          const v = el ? Number(el.getAttribute("data-received")) : null;
          if (v !== null && window.__progress.at(-1) !== v) window.__progress.push(v);
        };
        window.__progressObserver = new MutationObserver(seen);
        window.__progressObserver.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      });
    /// Saves the item through the page's link and returns the downloaded bytes.
    async function saveItem() {
      const [download] = await Promise.all([page.waitForEvent("download"), purchase.getByTestId("save-item").click()]);
      return readFileSync(await download.path());
    }
    let item;
    const menuItem = (name) => sellerCard.getByTestId("data-item").filter({ hasText: name });

    await step("the data page in Chinese: the seller with its endpoint, no rating yet, and its signed menu read over the WebSocket", async () => {
      await page.goto(`${node.base}/#/data`, { waitUntil: "domcontentloaded" });
      await page.getByRole("heading", { name: "数据市场", level: 1 }).waitFor();
      await page.getByTestId("connect-wallet").click();
      await sellerCard.waitFor({ timeout: 15_000 });
      await expectText(sellerCard.getByTestId("seller-endpoint"), `127.0.0.1:${sellerPort}`);
      await expectText(sellerCard.getByTestId("seller-rating"), "暂无评分");
      await expectText(sellerCard.getByTestId("seller-orders"), "0");
      await sellerCard.getByTestId("show-menu").click();
      await sellerCard.getByTestId("data-menu").waitFor({ timeout: 15_000 });
      if ((await sellerCard.getByTestId("data-item").count()) !== 2) fail("the menu should list both files");
      const sizes = Object.fromEntries(Object.entries(files).map(([n, b]) => [n, b.length]));
      for (const [name, size] of Object.entries(sizes)) {
        await expectText(menuItem(name), `${size.toLocaleString("en")} 字节`);
        await expectText(menuItem(name).getByTestId("item-price"), amt(priceOf(size)));
      }
      await screenshot(page, "data-menu-zh");
    });

    await step("buy sample.bin: approve → openOrder, the progress bar moves, the whole is checked and saved byte for byte", async () => {
      const sentBefore = wallet.state.sent.length;
      await watchProgress();
      await menuItem("sample.bin").getByTestId("buy-item").click();
      await purchase.waitFor();
      await waitPhase("complete", 120_000);
      if (wallet.state.sent.length !== sentBefore + 2) fail(`expected approve + openOrder, the wallet sent ${wallet.state.sent.length - sentBefore}`);
      const size = files["sample.bin"].length;
      const seen = await page.evaluate(() => window.__progress);
      const between = seen.filter((v) => v > 0 && v < size);
      if (between.length < 3) fail(`the progress bar should move through the transfer; it showed ${JSON.stringify(seen)}`);
      if (seen.some((v, i) => i > 0 && v < seen[i - 1])) fail(`the progress went backwards: ${JSON.stringify(seen)}`);
      await expectText(progressBytes, "（100%）");
      if ((await received()) !== size) fail(`the bar shows ${await received()} of ${size}`);
      await expectText(purchase.getByTestId("purchase-complete"), "SHA-256");
      const bytes = await saveItem();
      if (sha256(bytes) !== sha256(files["sample.bin"])) fail(`the saved file hashes to ${sha256(bytes)}, the item to ${sha256(files["sample.bin"])}`);
      const id = await purchaseOrder();
      const detail = await waitOrder(id, "the order settled with the whole price to the seller", (d) => d.order.state === "Settled");
      const price = priceOf(size);
      if (detail.order.price !== String(price) || detail.order.paidToSeller !== String(price) || detail.order.refundedToBuyer !== "0") fail(`order ${JSON.stringify(detail.order)}`);
      if (detail.order.received !== size || detail.order.buyer !== buyer || detail.order.token !== token) fail(`order ${JSON.stringify(detail.order)}`);
      await expectText(purchase.getByTestId("progress-paid"), `${amt(price)} / ${amt(price)}`);
      item = { id, price };
      await screenshot(page, "data-complete-zh");
    });

    await step("rate the seller on chain once the order is settled: the rating is indexed and shown on the seller", async () => {
      const row = page.getByTestId(`data-order-${item.id}`);
      await expectText(row.getByTestId("order-state"), "已结算", 30_000);
      await expectText(row.getByTestId("order-paid"), amt(item.price));
      await row.getByTestId("rate-score").selectOption("4");
      await row.getByLabel("评语").fill("fast, as described");
      await row.getByTestId("rate-submit").click();
      await row.getByTestId("order-rated").waitFor({ timeout: 30_000 });
      const detail = await waitOrder(item.id, "the buyer's rating indexed", (d) => d.ratings.some((r) => r.rater === buyer));
      const mine = detail.ratings.find((r) => r.rater === buyer);
      if (mine.score !== 4 || mine.rated !== sellerAddr || mine.commentHash !== keccak256(toBytes("fast, as described"))) fail(`rating ${JSON.stringify(mine)}`);
      await expectText(sellerCard.getByTestId("seller-rating"), "4.0 / 5（1 条评分）", 15_000);
    });

    const archive = files["archive.bin"];
    const archivePrice = priceOf(archive.length);
    await step("buy archive.bin, pause after five chunks (the seller's next frames held), resume from the last ACK and complete", async () => {
      routing.mode = "gate";
      routing.gateAfter = 5;
      routing.conns = [];
      await page.getByRole("button", { name: "关闭" }).click();
      await menuItem("archive.bin").getByTestId("buy-item").click();
      await waitFor("five chunks received and acknowledged", async () => (await received()) === 5 * CHUNK, 60_000, 50);
      const first = routing.conns[0];
      await waitFor("the fifth ACK on the wire", async () => first.fromPage.some((f) => f.type === "ack" && f.payload.received === 5 * CHUNK), 10_000, 50);
      await purchase.getByTestId("pause").click();
      await waitPhase("paused");
      if ((await received()) !== 5 * CHUNK) fail(`paused at ${await received()}`);
      await expectText(purchase.getByTestId("purchase-status"), "已暂停");
      await screenshot(page, "data-paused-zh");
      const id = await purchaseOrder();
      const open = await onChain(id);
      if (open.state !== "Open") fail(`a paused order stays open; it is ${open.state}`);

      routing.mode = "observe";
      await purchase.getByTestId("resume").click();
      await waitPhase("complete", 120_000);
      const second = routing.conns[1];
      if (!second) fail("the resume opened no new connection");
      const hello = second.fromPage[0];
      if (hello.type !== "hello" || hello.payload.resume?.acked !== 5 * CHUNK || hello.payload.resume.order_id !== id) fail(`resume hello ${JSON.stringify(hello)}`);
      const lastAck = first.fromPage.filter((f) => f.type === "ack").at(-1);
      if (hello.verification !== lastAck.verification) fail("the resume should carry the last ACK's voucher");
      const offsets = second.toPage.filter((f) => f.type === "data").map((f) => f.payload.offset);
      if (offsets[0] !== 5 * CHUNK) fail(`the seller resumed at ${offsets[0]}, not at the last ACK ${5 * CHUNK}`);
      const acks = [...first.fromPage, ...second.fromPage].filter((f) => f.type === "ack").map((f) => f.payload.received);
      if (acks.some((v, i) => i > 0 && v <= acks[i - 1])) fail(`every ACK rises, none repeats: ${acks}`);
      const bytes = await saveItem();
      if (sha256(bytes) !== sha256(archive)) fail("the resumed file is not the item");
      const detail = await waitOrder(id, "the resumed order settled once for the whole price", (d) => d.order.state === "Settled");
      if (detail.order.paidToSeller !== String(archivePrice) || detail.order.refundedToBuyer !== "0" || detail.order.received !== archive.length) fail(`order ${JSON.stringify(detail.order)}`);
    });

    await step("buy archive.bin again, stop after seven chunks with a rating in exit: the seller ends the order with its last ACK", async () => {
      routing.mode = "gate";
      routing.gateAfter = 7;
      routing.conns = [];
      await page.getByRole("button", { name: "关闭" }).click();
      await menuItem("archive.bin").getByTestId("buy-item").click();
      await waitFor("seven chunks received and acknowledged", async () => (await received()) === 7 * CHUNK, 60_000, 50);
      const conn = routing.conns[0];
      await waitFor("the seventh ACK on the wire", async () => conn.fromPage.some((f) => f.type === "ack" && f.payload.received === 7 * CHUNK), 10_000, 50);
      await purchase.getByTestId("exit-score").selectOption("4");
      await purchase.getByTestId("exit-comment").fill("good until I stopped");
      const acked = 7 * CHUNK;
      const paid = (archivePrice * BigInt(acked)) / BigInt(archive.length);
      await expectText(purchase.getByTestId("progress-paid"), `${amt(paid)} / ${amt(archivePrice)}`);
      await purchase.getByTestId("stop").click();
      await waitPhase("stopped");
      const exit = conn.fromPage.find((f) => f.type === "exit");
      if (!exit || exit.payload.reason !== "stopped" || exit.payload.received !== acked) fail(`exit ${JSON.stringify(exit)}`);
      if (exit.payload.rating?.score !== 4 || exit.payload.rating.comment !== "good until I stopped") fail(`exit rating ${JSON.stringify(exit.payload.rating)}`);
      await expectText(purchase.getByTestId("purchase-stopped"), amt(paid));
      const id = await purchaseOrder();
      const ending = await waitOrder(id, "the seller to end the order with its last ACK", (d) => d.order.state === "Ending" && d.order.received === acked);
      if (ending.order.endedBy !== sellerAddr) fail(`ended by ${ending.order.endedBy}`);
      item = { id, acked, paid };
      await screenshot(page, "data-stopped-zh");
    });

    await step("the challenge window passes (seller gone): the page settles, the seller is paid exactly price × acked / size", async () => {
      await stopSeller(seller);
      const { id, acked, paid } = item;
      const before = await onChain(id);
      if (before.state !== "Ending" || before.received !== acked) fail(`on chain ${JSON.stringify(before)}`);
      const { settleAt } = (await orderDetail(id)).order;
      const head = Number((await chain.getBlock()).timestamp);
      await rpc("evm_increaseTime", [settleAt - head + 1]);
      await rpc("evm_mine");
      const row = page.getByTestId(`data-order-${id}`);
      await page.getByRole("button", { name: "刷新" }).last().click();
      await row.getByTestId("settle").click();
      await expectText(row.getByTestId("order-state"), "已结算", 30_000);
      const detail = await orderDetail(id);
      const o = detail.order;
      const after = await onChain(id);
      if (after.state !== "Settled" || after.received !== acked) fail(`on chain ${JSON.stringify(after)}`);
      if (o.paidToSeller !== String(paid) || BigInt(o.refundedToBuyer) !== archivePrice - paid) fail(`split ${o.paidToSeller} / ${o.refundedToBuyer}, expected ${paid} / ${archivePrice - paid}`);
      if (paid * BigInt(archive.length) === archivePrice * BigInt(acked)) log("note: the split divided evenly");
      await expectText(row.getByTestId("order-paid"), amt(paid));
      await expectText(row.getByTestId("order-refunded"), amt(archivePrice - paid));
      await screenshot(page, "data-orders-zh", true);
      log(`stopped order ${id}: ${acked} of ${archive.length} bytes, ${paid} to the seller, ${archivePrice - paid} back`);
    });

    await step("English and phone width (375 px): the data page without horizontal scrolling", async () => {
      await page.getByTestId("lang-select").selectOption("en");
      await page.getByRole("heading", { name: "Data market", level: 1 }).waitFor();
      await expectText(page.getByTestId(`data-order-${item.id}`).getByTestId("order-state"), "Settled");
      await screenshot(page, "data-en", true);
      await page.setViewportSize({ width: 375, height: 812 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) {
        const wide = await page.evaluate(() =>
          [...document.querySelectorAll("body *")]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
            .slice(0, 5)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${el.getAttribute("data-testid") ?? ""})`),
        );
        fail(`the data page is ${overflow}px wider than the screen: ${wide.join(", ")}`);
      }
      await screenshot(page, "data-mobile-en", true);
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[1-4]|WebSocket/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stopSeller(seller);
    await stopNode(node);
    if (node && allPassed()) rmSync(node.dataDir, { recursive: true, force: true });
  }
}

runMain(main);
