// End-to-end test of the federated-learning market's pages (#/fl, #/fl/task/N, #/me,
// #/fl/predict/N) in Debian's Chromium, against a real `agora up` (embedded anvil with
// FederatedMarket deployed, SQLite, the node as the tasks' coordinator) and real `agora fl-client`
// participants, following the seed's seven steps (seed 002, BlockFed):
//
//   1. sign up: a brand-new wallet (a random key, as a fresh MetaMask account) opens #/me with
//      nothing on it;
//   2. top up: the dev chain's faucet gives it 1 ETH and 100 MarketToken, once (a second try is
//      refused);
//   3. create: an investor (dev account) creates, in the page, a reward-pool task (0.5 ETH escrowed)
//      and a shareholding task (1 AMT per prediction), both on Fashion-MNIST;
//   4. join: the new wallet joins both in the page and buys two data blocks (approve, then
//      buyBlocks); a second trainer joins from this script; training starts by itself at two;
//   5. train: the task page shows the round, the accuracy curve, the contributions and the logs
//      moving without a reload, then Finished;
//   6. earnings: reward pool — the page shows the new wallet's amount and claims it with the node's
//      proof (paid exactly, the pool divided exactly); shareholding — the shareholders add up to
//      100 %;
//   7. use the model: the investor draws an image, pays the fee and reads the class and confidence;
//      the new wallet's dividends appear on #/me and are withdrawn;
//   8. pay from a channel: the investor opens a MarketToken channel (approve, open, a fresh session
//      key as its signer) and pays two predictions by vouchers the session key signs, with no wallet
//      prompt; the node's fl-fee-forward job pays both fees into the contract and the new wallet's
//      dividends grow by them.
//
// Then English and phone width without horizontal scrolling. Screenshots, the node's and the
// participants' logs go to test-artifacts/e2e-fl/.
//
// Needs the agora binary (`cargo build -p agora-cli`), web/dist (`make web`), /usr/bin/chromium and
// Fashion-MNIST under /usr/share/datasets/fashion-mnist (`make datasets`).
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { createPublicClient, createWalletClient, formatUnits, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
  expectNoHorizontalScroll,
  expectText,
  fail,
  getJson,
  injectWallet,
  log,
  makeWallet,
  runMain,
  screenshot,
  spawnAgora,
  startNode,
  step,
  stopNode,
  stopProcess,
  text,
  useArtifacts,
  waitFor,
  openChannelForm,
} from "./lib.mjs";

/// A participant training `taskId` with `key` against the node at `base` (assumed flags).
const FL_CLIENT = (base, taskId, key) => ({ args: ["fl-client", "--api", base, "--task", String(taskId)], env: { AGORA_KEY: key } });
/// The second trainer: a dev account with no role in the demo.
const TRAINER2_INDEX = 4;
const TRAINING_MS = 8 * 60_000;
const marketAbi = JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts/FederatedMarket.json"), "utf8")).abi;
const tokenAbi = JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts/MarketToken.json"), "utf8")).abi;
const amt = (v) => `${formatUnits(BigInt(v), 18)} AMT`;
const TOTAL_SHARES = 10n ** 18n;

/// Fills the create form and submits it; the new task's id (the page opens its page).
async function createTask(page, { mode, token, pool, fee }) {
  await page.goto(`${page.url().split("#")[0]}#/fl`);
  const form = page.getByTestId("fl-create");
  if (!(await form.evaluate((d) => d.open))) await form.locator("summary").click();
  await form.getByTestId(`fl-create-mode-${mode}`).check();
  await form.getByTestId("fl-create-token").selectOption(token);
  if (mode === "reward") await form.getByTestId("fl-create-pool").fill(pool);
  await form.getByTestId("fl-create-fee").fill(fee ?? "");
  await form.getByTestId("fl-create-block-price").fill("10");
  await form.getByTestId("fl-create-dataset").selectOption("fashion-mnist");
  for (const [k, v] of [["blocks", "60"], ["blocksPerMember", "2"], ["rounds", "3"], ["localEpochs", "1"], ["minParticipants", "2"]]) {
    await form.getByTestId(`fl-create-${k}`).fill(v);
  }
  await form.getByTestId("fl-create-for-sale").fill("20");
  await form.getByTestId("fl-create-submit").click();
  const id = await waitFor("the page to open the new task", async () => /#\/fl\/task\/(\d+)$/.exec(page.url())?.[1], 60_000, 200);
  await page.getByTestId("fl-task-page").waitFor();
  return Number(id);
}

/// Draws a rough trouser (two legs) on the predict page's canvas.
async function drawTrouser(page) {
  await page.getByTestId("predict-source-draw").check();
  const box = await page.getByTestId("predict-canvas").boundingBox();
  for (const x of [0.38, 0.62]) {
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * x, box.y + box.height * 0.9, { steps: 12 });
    await page.mouse.up();
  }
}

/// Percentages like `33.33%` summed in hundredths.
const sumPercent = (cells) => cells.reduce((s, c) => s + Math.round(Number(c.replace("%", "")) * 100), 0);

async function main() {
  useArtifacts("e2e-fl");
  let node;
  let browser;
  const clients = [];
  try {
    await step("agora up starts with FederatedMarket deployed and the faucet on", async () => {
      // The fee receiver forwards voucher-paid prediction fees every 5 seconds (step 8).
      node = await startNode({ env: { AGORA_FL__FORWARD_FEES_EVERY_SECS: "5" } });
    });
    const network = await getJson(`${node.base}/api/network`);
    const market = (network.federatedMarket ?? network.federated_market)?.toLowerCase();
    if (!market) fail(`/api/network names no federatedMarket: ${JSON.stringify(network)}`);
    const dev = JSON.parse(readFileSync(path.join(node.dataDir, "dev.json"), "utf8"));
    if (Object.values(dev.roles).includes(TRAINER2_INDEX)) fail(`dev account ${TRAINER2_INDEX} has a role: ${JSON.stringify(dev.roles)}`);
    const investorKey = dev.accounts[dev.roles.first_buyer].private_key;
    const trainer2Key = dev.accounts[TRAINER2_INDEX].private_key;
    const chain = createPublicClient({ transport: http(network.rpcUrl) });
    const token = network.marketToken.toLowerCase();
    const balanceOf = (a) => chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [a] });
    const taskOnChain = (id) => chain.readContract({ address: market, abi: marketAbi, functionName: "getTask", args: [BigInt(id)] });

    // The new person's wallet: a key nobody has used.
    const freshKey = generatePrivateKey();
    const fresh = makeWallet(freshKey, network.rpcUrl, network.chainId);
    const me = fresh.account.address.toLowerCase();
    const investor = makeWallet(investorKey, network.rpcUrl, network.chainId);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const consoleErrors = [];
    const open = async (wallet, locale) => {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
      await injectWallet(context, wallet);
      const page = await context.newPage();
      page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
      page.on("console", (m) => m.type() === "error" && consoleErrors.push(`console: ${m.text()}`));
      await page.goto(`${node.base}/#/me`);
      await page.getByTestId("connect-wallet").click();
      await page.getByTestId("wallet-address").waitFor();
      return page;
    };
    const page = await open(fresh, "zh-CN");
    const investorPage = await open(investor, "zh-CN");

    await step("1. sign up: a new wallet opens 个人资产 with nothing on it", async () => {
      await page.getByTestId("nav-me").click();
      for (const [id, want] of [["me-eth", "0 ETH"], ["me-token", "0 AMT"]]) {
        await waitFor(`${id} to read ${want}`, async () => (await text(page.getByTestId(id))) === want, 30_000);
      }
      await screenshot(page, "fl-1-new-wallet-zh");
    });

    await step("2. top up: the faucet gives 1 ETH and 100 MarketToken, once", async () => {
      await page.getByTestId("me-faucet").click();
      await page.getByTestId("me-faucet-done").waitFor({ timeout: 30_000 });
      await expectText(page.getByTestId("me-eth"), "1 ETH", 30_000);
      await expectText(page.getByTestId("me-token"), "100 AMT", 30_000);
      if ((await balanceOf(me)) !== parseEther("100")) fail(`the new wallet holds ${amt(await balanceOf(me))}`);
      const again = await fetch(`${node.base}/api/faucet`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address: me }) });
      if (again.status !== 409) fail(`a second faucet request answered ${again.status}`);
      await screenshot(page, "fl-2-faucet-zh");
    });

    let rewardTask;
    let sharesTask;
    await step("3. create: a reward-pool task (0.5 ETH escrowed) and a shareholding task (1 AMT a prediction)", async () => {
      const before = await chain.getBalance({ address: market });
      rewardTask = await createTask(investorPage, { mode: "reward", token: "0x0000000000000000000000000000000000000000", pool: "0.5" });
      await expectText(investorPage.getByTestId("fl-state"), "招募中");
      if ((await chain.getBalance({ address: market })) - before !== parseEther("0.5")) fail("the pool is not escrowed");
      sharesTask = await createTask(investorPage, { mode: "shares", token, fee: "1" });
      const t = await taskOnChain(sharesTask);
      if (t.mode !== 1 || t.predictionFee !== parseEther("1") || t.totalBlocks !== 20) fail(`task ${sharesTask} on chain: ${JSON.stringify(t, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
      await screenshot(investorPage, "fl-3-created-zh", true);
    });

    await step("4. join: the new wallet joins both, buys two blocks (approve + buyBlocks); a second trainer joins; training starts", async () => {
      for (const id of [rewardTask, sharesTask]) {
        await page.goto(`${node.base}/#/fl/task/${id}`);
        await page.getByTestId("fl-join").click();
        await page.getByTestId("fl-my-blocks").waitFor({ timeout: 60_000 });
      }
      const sold = (await taskOnChain(rewardTask)).blocksSold;
      await page.goto(`${node.base}/#/fl/task/${rewardTask}`);
      await page.getByTestId("fl-block-count").fill("2");
      await page.getByTestId("fl-buy-blocks").click();
      await waitFor("two blocks sold on chain", async () => (await taskOnChain(rewardTask)).blocksSold === sold + 2, 60_000);
      if ((await balanceOf(me)) !== parseEther("80")) fail(`after 2 blocks at 10 AMT the wallet holds ${amt(await balanceOf(me))}`);
      // The second trainer joins from here (it is not the person using the page).
      const t2 = createWalletClient({ account: privateKeyToAccount(trainer2Key), transport: http(network.rpcUrl) });
      for (const id of [rewardTask, sharesTask]) {
        const hash = await t2.writeContract({ chain: null, address: market, abi: marketAbi, functionName: "join", args: [BigInt(id)] });
        await chain.waitForTransactionReceipt({ hash });
      }
      // Each trainer trains on its own machine: here, an `agora fl-client` per trainer and task.
      for (const id of [rewardTask, sharesTask]) {
        for (const [who, key] of [["me", freshKey], ["t2", trainer2Key]]) {
          const c = FL_CLIENT(node.base, id, key);
          clients.push(spawnAgora(c.args, { env: c.env, logName: `fl-client-${id}-${who}.log` }));
        }
      }
      await expectText(page.getByTestId("fl-state"), "训练中", 120_000);
      await screenshot(page, "fl-4-training-zh", true);
    });

    await step("5. train: round, accuracy curve, contributions and logs move without a reload, then Finished", async () => {
      const roundOf = async () => Number(await page.getByTestId("fl-round").getAttribute("data-round"));
      await waitFor("round 1 on the page", async () => (await roundOf()) >= 1, TRAINING_MS, 500);
      const points = Number(await page.getByTestId("fl-accuracy-chart").getAttribute("data-points"));
      if (points < 1) fail("no accuracy point after round 1");
      if (Number(await page.getByTestId("fl-contribution-chart").getAttribute("data-segments")) < 1) fail("no contribution drawn");
      if ((await page.getByTestId("fl-logs").locator("li").count()) < 1) fail("no log line");
      await screenshot(page, "fl-5-round-zh", true);
      await page.waitForSelector(`[data-testid=fl-task-page][data-task="${rewardTask}"][data-state=Finished]`, { timeout: TRAINING_MS });
      if ((await roundOf()) !== 3) fail(`finished at round ${await roundOf()}`);
      await expectText(page.getByTestId("fl-accuracy-chart").locator("figcaption"), "第 3 轮");
      // Each round's record links to the content store, and is that round's entry.
      const links = page.getByTestId("fl-round-record");
      if ((await links.count()) !== 3) fail(`${await links.count()} round records linked, not 3`);
      const href = await links.nth(2).getAttribute("href");
      const entry = await (await page.request.get(new URL(href, page.url()).toString())).json();
      if (entry.round !== 3 || !Array.isArray(entry.utilities)) fail(`round 3's record link serves ${JSON.stringify(entry).slice(0, 200)}`);
    });

    await step("6. earnings: the reward is claimed with the node's proof and the pool divided exactly; shares add up to 100 %", async () => {
      const all = await getJson(`${node.base}/api/fl/tasks/${rewardTask}/result`);
      const total = all.entries.reduce((s, e) => s + BigInt(e.amount), 0n);
      if (total !== parseEther("0.5")) fail(`the rewards sum to ${total}, not the pool`);
      const mine = all.entries.find((e) => e.account.toLowerCase() === me);
      if (!mine || BigInt(mine.amount) === 0n) fail(`no reward for the new wallet: ${JSON.stringify(all.entries)}`);
      const reward = page.getByTestId("fl-my-reward");
      await reward.waitFor({ timeout: 30_000 });
      if ((await reward.getAttribute("data-amount")) !== mine.amount) fail(`the page shows ${await reward.getAttribute("data-amount")}, the node ${mine.amount}`);
      const before = await chain.getBalance({ address: me });
      await page.getByTestId("fl-claim").click();
      await page.getByTestId("fl-claimed").waitFor({ timeout: 60_000 });
      const claimed = (await taskOnChain(rewardTask)).claimed;
      if (claimed !== BigInt(mine.amount)) fail(`claimed on chain ${claimed}, expected ${mine.amount}`);
      if ((await chain.getBalance({ address: me })) <= before) fail("the claim paid nothing");
      await screenshot(page, "fl-6-claimed-zh", true);
      await page.goto(`${node.base}/#/fl/task/${sharesTask}`);
      await page.waitForSelector(`[data-testid=fl-task-page][data-task="${sharesTask}"][data-state=Finished]`, { timeout: TRAINING_MS });
      const holders = page.getByTestId("fl-shareholder");
      await waitFor("both shareholders listed", async () => (await holders.count()) === 2, 30_000, 200);
      const cells = await holders.locator("td:nth-child(2)").allTextContents();
      const hundredths = sumPercent(cells);
      // Each share is cut (not rounded) to two decimals: at most 0.01 % lost per holder.
      if (hundredths > 10000 || hundredths < 10000 - cells.length) fail(`shares add up to ${hundredths / 100}%`);
      const onChainShares = await chain.readContract({ address: market, abi: marketAbi, functionName: "sharesOf", args: [BigInt(sharesTask), me] });
      if (onChainShares === 0n || onChainShares >= TOTAL_SHARES) fail(`the new wallet holds ${onChainShares} shares`);
    });

    await step("7. use the model: the investor draws, pays 1 AMT and reads the class; the dividends are withdrawn", async () => {
      await investorPage.goto(`${node.base}/#/fl/predict/${sharesTask}`);
      await drawTrouser(investorPage);
      await investorPage.getByTestId("predict-pay").click();
      const result = investorPage.getByTestId("predict-result");
      await result.waitFor({ timeout: 90_000 });
      const cls = Number(await result.getAttribute("data-class"));
      if (!(cls >= 0 && cls <= 9)) fail(`class ${cls}`);
      if (!/置信度 \d+\.\d%/.test(await text(result))) fail(`no confidence in ${await text(result)}`);
      await screenshot(investorPage, "fl-7-predicted-zh", true);
      const owed = await chain.readContract({ address: market, abi: marketAbi, functionName: "withdrawableDividendOf", args: [BigInt(sharesTask), me] });
      if (owed === 0n) fail("no dividends after a paid prediction");
      await page.goto(`${node.base}/#/me`);
      const row = page.getByTestId(`me-share-${sharesTask}`);
      await waitFor("the withdrawable dividends on #/me", async () => (await row.getByTestId("me-withdrawable").getAttribute("data-amount")) === String(owed), 30_000);
      const before = await balanceOf(me);
      await row.getByTestId("me-withdraw").click();
      await waitFor("the dividends paid", async () => (await balanceOf(me)) === before + owed, 60_000);
      await screenshot(page, "fl-7-me-zh", true);
      await investorPage.goto(`${node.base}/#/me`);
      await expectText(investorPage.getByTestId("me-predictions"), "1 AMT", 30_000);
    });

    await step("8. pay from a channel: the investor opens a MarketToken channel with a session key, pays two predictions by voucher with no wallet prompt; the node forwards the fees to the shareholders", async () => {
      const prefix = `agora.assistant.channel.${network.chainId}.`;
      const localIds = () => investorPage.evaluate((p) => Object.keys(localStorage).filter((k) => k.startsWith(p)).map((k) => k.slice(p.length)), prefix);
      await investorPage.goto(`${node.base}/#/assistant`);
      const panel = investorPage.getByTestId("channel-panel");
      await panel.waitFor({ timeout: 30_000 });
      const form = await openChannelForm(panel);
      await form.getByTestId("channel-create-amount").fill("3");
      const sentBefore = investor.state.sent.length;
      await form.getByTestId("channel-create-submit").click();
      const channelId = await waitFor("the new channel's session key kept in this browser", async () => (await localIds())[0], 60_000, 200);
      await waitFor("the channel indexed by the node", async () => (await fetch(`${node.base}/api/channels/${channelId}`)).ok, 60_000, 200);
      await panel.getByTestId("channel-tx").waitFor({ state: "detached", timeout: 60_000 });
      if (investor.state.sent.length !== sentBefore + 2) fail(`opening sent ${investor.state.sent.length - sentBefore} transactions, not approve + open`);

      await investorPage.goto(`${node.base}/#/fl/predict/${sharesTask}`);
      await drawTrouser(investorPage);
      await investorPage.getByTestId("predict-pay-by-channel").check();
      await waitFor("the channel offered on the predict page", async () => (await investorPage.getByTestId("predict-channel").inputValue().catch(() => "")).toLowerCase() === channelId.toLowerCase(), 30_000, 200);
      const prompts = () => investor.state.requests.filter((m) => m === "eth_sendTransaction" || m.startsWith("personal_sign") || m.startsWith("eth_sign")).length;
      const promptsBefore = prompts();
      const fee = parseEther("1");
      const result = investorPage.getByTestId("predict-result");
      for (const n of [1n, 2n]) {
        await investorPage.getByTestId("predict-pay").click();
        await waitFor(`prediction ${n} billed to the channel`, async () => BigInt((await getJson(`${node.base}/api/fl/channels/${channelId}/predictions`)).billed) === n * fee, 60_000, 200);
        await result.waitFor({ timeout: 60_000 });
        const cls = Number(await result.getAttribute("data-class"));
        if (!(cls >= 0 && cls <= 9)) fail(`class ${cls}`);
      }
      if (prompts() !== promptsBefore) fail("a voucher payment asked the wallet");
      await screenshot(investorPage, "fl-8-paid-by-voucher-zh", true);

      // The fee receiver's fl-fee-forward job pays both fees in: the new wallet's dividends grow.
      const owed = () => chain.readContract({ address: market, abi: marketAbi, functionName: "withdrawableDividendOf", args: [BigInt(sharesTask), me] });
      const fees = async () => (await getJson(`${node.base}/api/fl/fees`)).tasks.find((t) => t.taskId === sharesTask);
      await waitFor("both fees forwarded and indexed", async () => (await fees())?.forwarded === 2, 90_000, 500);
      const f = await fees();
      if (f.recorded !== 2 || f.owed !== 0 || BigInt(f.forwardedAmount) !== 2n * fee) fail(`fees: ${JSON.stringify(f)}`);
      const dividends = await owed();
      if (dividends === 0n) fail("no dividends from the forwarded fees");
      // Away and back: #/me reads the assets again.
      await page.goto(`${node.base}/#/fl`);
      await page.goto(`${node.base}/#/me`);
      const row = page.getByTestId(`me-share-${sharesTask}`);
      await waitFor("the forwarded fees' dividends on #/me", async () => (await row.getByTestId("me-withdrawable").getAttribute("data-amount")) === String(dividends), 30_000);
    });

    await step("English and phone width (375 px): the fl pages without horizontal scrolling", async () => {
      await page.getByTestId("lang-select").selectOption("en");
      await page.goto(`${node.base}/#/fl/task/${rewardTask}`);
      await expectText(page.getByTestId("fl-state"), "Finished");
      await screenshot(page, "fl-task-en", true);
      await page.setViewportSize({ width: 375, height: 812 });
      for (const hash of ["#/fl", `#/fl/task/${rewardTask}`, `#/fl/task/${sharesTask}`, "#/me", `#/fl/predict/${sharesTask}`]) {
        await page.goto(`${node.base}/${hash}`);
        await page.locator("main h1").waitFor();
        await expectNoHorizontalScroll(page, hash);
        await screenshot(page, `fl-mobile-${hash.replace(/[#/]+/g, "-").replace(/^-|-$/g, "")}-en`, true);
      }
      log(`tasks ${rewardTask} (reward pool) and ${sharesTask} (shareholding) trained, claimed and paid`);
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[1-4]/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    for (const c of clients) await stopProcess(c);
    await stopNode(node);
    if (node && allPassed()) rmSync(node.dataDir, { recursive: true, force: true });
  }
}

runMain(main);
