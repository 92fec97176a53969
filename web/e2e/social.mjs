// End-to-end test of the community market's personal pages in Debian's Chromium, against a real
// `agora up` whose mail goes to a loopback SMTP sink (scripts/smtp-sink.sh: every mail a file).
// Three fresh keys topped up by the dev chain's faucet — the owner, member A, member B (who also
// works on a task) — and every action goes through the page:
//
//   1. profile: the owner signs in on #/me, saves a display name and an avatar (uploaded, served
//      back byte for byte) and an e-mail address; the
//      verification mail reaches the SMTP server; its link opens #/verify-email (verified), and
//      the profile then shows the address verified;
//   2. a community: the owner creates it and watches it (a notification preference); A and B join;
//      A starts two threads, B replies to the first and reports it (then sees "reported");
//   3. moderation: the owner sees the report in the community's queue and hides the post (the log
//      says so); A, its author, still sees it marked hidden, B no longer sees it; the owner locks A's
//      second thread and B's reply to it is refused (409 thread_locked) with no reply form shown;
//   4. a task published by the owner (verified e-mail) and accepted by B: the owner's bell counts it
//      live (no reload), the panel links it to the task, and the mail "… accepted your task" reaches
//      the SMTP server; marking all read clears the count;
//   4b. the admin page (the owner is also among the node's [api] admins): B's report of A's other
//      thread dismissed from every community's queue; the task and the community in their tabs;
//   1b. the profile's other markets: a fresh owner sees the compute tasks (sign in first), payment
//      channels and data orders under their headings with their empty sentences; a channel the
//      owner then opens straight on chain is listed with what it can still pay and a link to the
//      assistant's channel panel, and compute bought straight on chain (a service B lists, which no
//      executor serves) is listed by the service's name, waiting for compute; a data order the
//      owner opens with B (registered as a seller on chain) is listed as bought in the owner's
//      profile, its price counted in escrow, and as sold in B's;
//   5. English at 375 px: the profile, notifications, community and verification pages and the
//      bell's panel without horizontal scrolling.
//
// Screenshots and the node's log go to test-artifacts/e2e-social/.
//
// Needs the agora binary (`cargo build -p agora-cli`), web/dist (`make web`), /usr/bin/chromium and
// the SMTP sink's environment (`make deps`, or made on first use by scripts/smtp-sink.sh).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
  artifactsDir,
  connectedPages,
  expectNoHorizontalScroll,
  expectText,
  fail,
  fundedWallets,
  getJson,
  log,
  runMain,
  screenshot,
  startNode,
  step,
  stopNode,
  useArtifacts,
  waitFor,
} from "./lib.mjs";
import { onChain } from "./onchain.mjs";

const ETH = "0x0000000000000000000000000000000000000000";
const OWNER_MAIL = "kite.owner@example.org";
/// A 1×1 PNG: the avatar.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

// --- the SMTP sink -------------------------------------------------------------------------------
/// Starts scripts/smtp-sink.sh on a free port writing into `dir`; its port once it listens.
async function startSink(dir) {
  const child = spawn("bash", [path.join(REPO, "scripts", "smtp-sink.sh"), "--port", "0", "--dir", dir], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exited = null;
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  child.on("exit", (code) => (exited = code));
  const port = await waitFor(
    "the SMTP sink to listen",
    async () => {
      if (exited !== null) fail(`smtp-sink.sh exited (${exited}): ${out}`);
      return /listening on [^:\s]+:(\d+)/.exec(out)?.[1];
    },
    120_000,
    100,
  );
  return { child, port: Number(port) };
}

/// A header's value with folded lines joined and RFC 2047 words decoded.
function headerOf(head, name) {
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return "";
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc, text) =>
      enc.toLowerCase() === "b" ? Buffer.from(text, "base64").toString("utf8") : decodeQuoted(text.replace(/_/g, " ")),
    );
}

function decodeQuoted(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, "");
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i], "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/// Every mail the sink holds: recipient, subject and the decoded text body.
function mails(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => {
      const raw = readFileSync(path.join(dir, f), "utf8");
      const split = raw.search(/\r?\n\r?\n/);
      const head = raw.slice(0, split);
      const body = raw.slice(split).replace(/^\r?\n\r?\n/, "");
      const encoding = headerOf(head, "Content-Transfer-Encoding").toLowerCase();
      const text = encoding === "base64" ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8") : encoding === "quoted-printable" ? decodeQuoted(body) : body;
      return { file: f, to: headerOf(head, "X-Sink-Rcpt-To"), subject: headerOf(head, "Subject"), text };
    });
}

async function waitMail(dir, what, match, timeout = 60_000) {
  return waitFor(what, async () => mails(dir).find(match), timeout, 200);
}

// --- the page ------------------------------------------------------------------------------------
const threadItem = (page, title) => page.getByTestId("community-threads").locator("li.board-thread").filter({ hasText: title });

async function signIn(page) {
  await page.getByTestId("sign-in").click();
  await page.getByTestId("signed-in").waitFor({ timeout: 30_000 });
}

/// Publishes an ETH task of one slot from the form; its id (the page opens it).
async function publishTask(page, base) {
  await page.goto(`${base}/#/board/new`);
  const form = page.getByTestId("board-publish");
  await form.waitFor();
  await form.getByTestId("board-publish-spec").fill("# Draw a kite\n\nOne drawing of a diamond kite.");
  await form.getByTestId("board-publish-token").selectOption(ETH);
  await form.getByTestId("board-publish-reward").fill("0.01");
  await form.getByTestId("board-publish-slots").fill("1");
  await form.getByTestId("board-publish-review").fill("24");
  await form.getByTestId("board-publish-submit").click();
  const id = await waitFor("the page to open the new task", async () => /#\/board\/task\/(\d+)$/.exec(page.url())?.[1], 90_000, 200);
  await page.getByTestId("board-task-page").waitFor();
  return Number(id);
}

async function main() {
  useArtifacts("e2e-social");
  const mailDir = mkdtempSync(path.join(os.tmpdir(), "agora-e2e-mail-"));
  let sink;
  let node;
  let browser;
  try {
    const keys = { owner: generatePrivateKey(), a: generatePrivateKey(), b: generatePrivateKey() };
    await step("an SMTP sink listens; agora up starts with [mail] smtp_url pointing at it and the owner among [api] admins", async () => {
      sink = await startSink(mailDir);
      const admin = privateKeyToAccount(keys.owner).address;
      node = await startNode({ config: `[api]\nadmins = ["${admin}"]\n\n[mail]\nsmtp_url = "smtp://127.0.0.1:${sink.port}"\npoll_ms = 250\nretry_base_ms = 250\n` });
    });
    const base = node.base;
    const network = await getJson(`${base}/api/network`);

    const wallets = await fundedWallets(base, network, keys);
    const O = wallets.owner.address;
    const B = wallets.b.address;

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const { pages, errors: consoleErrors } = await connectedPages(browser, wallets, `${base}/#/me`);
    const own = pages.owner;

    await step("1. profile: a display name saved, an e-mail verified through the mailed link", async () => {
      await own.getByTestId("sign-in-first").waitFor();
      // The compute tasks are the session's: the section asks for a signature first.
      await own.getByTestId("me-tasks").getByTestId("me-tasks-sign-in").waitFor();
      await signIn(own);
      for (const [id, heading, empty] of [
        ["me-tasks", "计算任务", "你还没有购买过计算。"],
        ["me-channels", "支付通道", "你还没有通过支付通道付款。"],
        ["me-orders", "数据订单", "你还没有买卖过数据。"],
      ]) {
        const section = own.getByTestId(id);
        await expectText(section.locator("h2"), heading);
        await expectText(section.getByTestId(`${id}-empty`), empty, 15_000);
      }
      const profile = own.getByTestId("profile");
      await profile.getByTestId("profile-name").fill("风筝店主");
      // The avatar is uploaded when chosen and previewed; saving the profile makes it the avatar.
      await profile.getByTestId("profile-avatar-file").setInputFiles({ name: "kite.png", mimeType: "image/png", buffer: PNG });
      await profile.getByTestId("profile-avatar").waitFor({ timeout: 15_000 });
      await waitFor("the upload to finish", async () => !(await profile.getByTestId("profile-save").isDisabled()), 15_000, 100);
      await profile.getByTestId("profile-save").click();
      await expectText(own.getByTestId("profile-message"), "资料已保存", 15_000);
      const saved = await getJson(`${base}/api/profiles/${O}`);
      if (saved.displayName !== "风筝店主" || !saved.avatar) fail(`the profile the node holds: ${JSON.stringify(saved)}`);
      const served = await fetch(`${base}${saved.avatarUrl}`);
      if (!served.ok || !Buffer.from(await served.arrayBuffer()).equals(PNG)) fail(`the avatar served at ${saved.avatarUrl} is not the one uploaded`);
      await own.getByTestId("email-input").fill(OWNER_MAIL);
      await own.getByTestId("email-save").click();
      await own.getByTestId("email-unverified").waitFor({ timeout: 15_000 });
      await expectText(own.getByTestId("profile-email"), `请查看 ${OWNER_MAIL}`);
      const mail = await waitMail(mailDir, "the verification mail at the SMTP sink", (m) => m.to.includes(OWNER_MAIL) && /confirm your e-mail/i.test(m.subject));
      const link = /(http:\/\/\S+\/#\/verify-email\?token=[0-9a-f]{64})/.exec(mail.text)?.[1];
      if (!link) fail(`no verification link in the mail:\n${mail.text}`);
      if (!link.startsWith(base)) fail(`the link ${link} does not lead to this node (${base})`);
      await screenshot(own, "social-1-email-sent-zh", true);
      await own.goto(link);
      await own.getByTestId("verify-done").waitFor({ timeout: 15_000 });
      await expectText(own.getByTestId("verify-done"), OWNER_MAIL);
      await screenshot(own, "social-1-verified-zh");
      // The same link again: already used, said in words.
      await own.goto(`${base}/#/me`);
      await own.getByTestId("email-verified").waitFor({ timeout: 15_000 });
      await own.goto(link);
      await waitFor("a used link to be refused", async () => (await own.getByTestId("verify-failed").getAttribute("data-why")) === "used", 15_000);
    });

    await step("1b. a payment channel, compute and a data order bought on chain are listed in the profile", async () => {
      const owner = onChain(network, keys.owner);
      const seller = onChain(network, keys.b);
      const id = await owner.openChannel(B, 10n ** 16n);
      await waitFor("the node to index the channel", async () => (await getJson(`${base}/api/channels?payer=${O}`)).some((c) => c.id.toLowerCase() === id), 30_000);
      await own.goto(`${base}/#/me`);
      const section = own.getByTestId("me-channels");
      const line = section.getByTestId(`me-channel-${id}`);
      await line.waitFor({ timeout: 15_000 });
      if ((await line.getAttribute("data-state")) !== "Open") fail(`the channel's state in the profile: ${await line.getAttribute("data-state")}`);
      await expectText(line.getByTestId("me-channel-remaining"), "0.01 ETH");
      await expectText(section.getByTestId("me-channels-summary"), "0.01 ETH");
      if ((await section.getByTestId("me-channels-empty").count()) !== 0) fail("the channels' empty sentence shows beside a channel");
      if ((await section.getByTestId("me-channels-link").getAttribute("href")) !== "#/assistant") fail("the channels do not link to the assistant's panel");

      const price = 10n ** 15n;
      const serviceId = await seller.listService({ kind: "manual-review", name: { en: "Kite check", "zh-CN": "风筝检查" } }, price);
      const taskId = await owner.buyCompute(serviceId, "a kite", price);
      await waitFor("the node to index the task", async () => (await getJson(`${base}/api/tasks?user=${O}`)).some((t) => t.id === taskId), 30_000);
      await own.reload();
      const tasks = own.getByTestId("me-tasks");
      const item = tasks.getByTestId(`me-task-${taskId}`);
      await item.waitFor({ timeout: 15_000 });
      if ((await item.getAttribute("data-status")) !== "Created") fail(`the task's status in the profile: ${await item.getAttribute("data-status")}`);
      await expectText(item, "风筝检查", 15_000);
      await expectText(item, "0.001 ETH");
      await expectText(tasks.getByTestId("me-tasks-summary"), "已创建");
      if ((await tasks.getByTestId("me-tasks-link").getAttribute("href")) !== "#/") fail("the compute tasks do not link to the compute market");

      await seller.registerSeller();
      const orderId = await owner.openOrder(B, 2n * 10n ** 15n, 4096);
      await waitFor("the node to index the order", async () => (await getJson(`${base}/api/data/orders?buyer=${O}`)).some((o) => o.id.toLowerCase() === orderId), 30_000);
      await own.reload();
      const orders = own.getByTestId("me-orders");
      const asBuyer = orders.getByTestId(`me-order-${orderId}`);
      await asBuyer.waitFor({ timeout: 15_000 });
      if ((await asBuyer.getAttribute("data-state")) !== "Open") fail(`the order's state in the profile: ${await asBuyer.getAttribute("data-state")}`);
      await expectText(asBuyer, "买自");
      await expectText(asBuyer, "0.002 ETH");
      await expectText(orders.getByTestId("me-orders-summary"), "托管中：0.002 ETH");
      await screenshot(own, "social-1b-markets-zh", true);
      const b = pages.b;
      await b.reload();
      const asSeller = b.getByTestId("me-orders").getByTestId(`me-order-${orderId}`);
      await asSeller.waitFor({ timeout: 15_000 });
      await expectText(asSeller, "卖给");
    });

    let communityId;
    const first = "风筝线用什么好？";
    const second = "周末放风筝";
    await step("2. a community created and watched by its owner; A starts threads, B replies and reports the first", async () => {
      await own.goto(`${base}/#/communities`);
      const form = own.getByTestId("community-create");
      await form.locator("summary").click();
      await form.getByTestId("community-create-name").fill("风筝会");
      await form.getByTestId("community-create-symbol").fill("KITE");
      await form.getByTestId("community-create-submit").click();
      communityId = Number(await waitFor("the new community's page", async () => /#\/community\/(\d+)$/.exec(own.url())?.[1], 60_000, 200));
      const watch = own.getByTestId("watch-toggle");
      await watch.click();
      await waitFor("the Watch toggle to be pressed", async () => (await watch.getAttribute("aria-pressed")) === "true", 15_000);
      const prefs = await own.evaluate(async () => (await fetch("/api/me/notification-prefs")).json());
      if (!prefs.prefs.some((p) => p.scope === `community:${communityId}` && p.level === "watching")) fail(`prefs after Watch: ${JSON.stringify(prefs)}`);
      for (const who of ["a", "b"]) {
        const page = pages[who];
        await page.goto(`${base}/#/community/${communityId}`);
        await page.getByTestId("community-join").click();
        await page.getByTestId("community-leave").waitFor({ timeout: 60_000 });
        await signIn(page);
      }
      const a = pages.a;
      for (const [title, body] of [
        [first, "尼龙线还是棉线？"],
        [second, "周六上午去公园。"],
      ]) {
        const form = a.getByTestId("community-threads").locator("details.board-new-thread");
        // After the first thread the form stays open.
        if ((await form.getAttribute("open")) === null) await form.locator("summary").click();
        await a.getByTestId("community-thread-title").fill(title);
        await a.getByTestId("community-thread-body").fill(body);
        await a.getByTestId("community-thread-submit").click();
        await threadItem(a, title).waitFor({ timeout: 30_000 });
      }
      const b = pages.b;
      await b.reload();
      const item = threadItem(b, first);
      await item.waitFor({ timeout: 30_000 });
      await item.getByRole("button").first().click();
      await b.getByTestId("community-reply-body").fill("用尼龙线");
      await b.getByTestId("community-reply-submit").click();
      // The posted reply, not the form: a React textarea's text content follows what is typed in it.
      await item.locator("li[data-testid^=community-reply-]").filter({ hasText: "用尼龙线" }).waitFor({ timeout: 30_000 });
      await item.getByTestId("post-report").first().click();
      await item.getByTestId("moderation-reason").fill("广告");
      await item.getByTestId("post-report-submit").click();
      await item.getByTestId("post-reported").waitFor({ timeout: 15_000 });
      await screenshot(b, "social-2-reported-zh", true);
    });

    await step("3. moderation: the owner hides the reported thread from the queue and locks the other; replies refused", async () => {
      // The owner opens the community afresh (reports reach no event stream; the panel reads them then).
      await own.goto(`${base}/#/community/${communityId}`);
      await own.reload();
      const panel = own.getByTestId("moderation-panel");
      await panel.waitFor({ timeout: 30_000 });
      const queued = panel.locator("[data-testid^=queue-post-]").filter({ hasText: first });
      await queued.waitFor({ timeout: 30_000 });
      await expectText(queued, "广告");
      await queued.getByTestId("queue-reason").fill("离题");
      await queued.getByTestId("queue-hide").click();
      await waitFor("the queue to empty", async () => (await panel.locator("[data-testid^=queue-post-]").count()) === 0, 30_000);
      await expectText(panel.getByTestId("moderation-log"), "隐藏 帖子 #", 15_000);
      const hidden = threadItem(own, first);
      await hidden.getByText("已被管理员隐藏").waitFor({ timeout: 15_000 });
      // Its author still sees it, marked; another member does not.
      const a = pages.a;
      await a.reload();
      await threadItem(a, first).getByText("已被管理员隐藏").waitFor({ timeout: 30_000 });
      const b = pages.b;
      await b.reload();
      await threadItem(b, second).waitFor({ timeout: 30_000 });
      if ((await threadItem(b, first).count()) !== 0) fail("a hidden thread is shown to a member who is not its author");
      // Lock the second thread from its list entry.
      const locking = threadItem(own, second);
      await locking.getByTestId("post-moderate").first().click();
      await locking.getByTestId("moderation-reason").fill("活动已结束");
      await locking.getByTestId("post-action-lock").click();
      await locking.getByText("已锁定").waitFor({ timeout: 15_000 });
      await b.reload();
      const lockedItem = threadItem(b, second);
      await lockedItem.waitFor({ timeout: 30_000 });
      await lockedItem.getByRole("button").first().click();
      await lockedItem.getByText("此讨论已锁定").waitFor({ timeout: 15_000 });
      if ((await lockedItem.getByTestId("community-reply-body").count()) !== 0) fail("a locked thread offers a reply form");
      const threadId = Number((await lockedItem.getAttribute("data-testid")).replace("community-thread-", ""));
      const refused = await b.evaluate(async (id) => {
        const res = await fetch(`/api/threads/${id}/replies`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ body: "还能回复吗？" }) });
        return { status: res.status, body: await res.json() };
      }, threadId);
      if (refused.status !== 409 || refused.body.error?.code !== "thread_locked") fail(`a reply to a locked thread: ${JSON.stringify(refused)}`);
      await screenshot(own, "social-3-moderated-zh", true);
    });

    let task;
    await step("4. B accepts the owner's task: the bell counts it live and the mail reaches the SMTP sink", async () => {
      task = await publishTask(own, base);
      const bell = own.getByTestId("notif-bell");
      await bell.waitFor();
      const before = await own.evaluate(async () => (await (await fetch("/api/me/notifications?limit=1")).json()).unread);
      const b = pages.b;
      await b.goto(`${base}/#/board/task/${task}`);
      await b.getByTestId("board-accept").click();
      await waitFor("B's claim on the page", async () => (await b.getByTestId(`board-claim-${B}`).count()) > 0, 60_000, 200);
      // The owner's page is not reloaded: the stream brings it.
      await expectText(own.getByTestId("notif-count"), String(before + 1), 60_000);
      await bell.click();
      const item = own.getByTestId("notif-panel").locator('[data-kind="board-accepted"]').first();
      await item.waitFor({ timeout: 15_000 });
      await expectText(item, `任务 #${task}`);
      if ((await item.locator("a").getAttribute("href")) !== `#/board/task/${task}`) fail("the notification does not link to its task");
      await screenshot(own, "social-4-bell-zh");
      const mail = await waitMail(mailDir, "the mail about the acceptance", (m) => m.to.includes(OWNER_MAIL) && /accepted your task/.test(m.subject));
      if (!mail.subject.includes(`#${task}`)) fail(`the mail's subject names another task: ${mail.subject}`);
      await own.getByTestId("notif-read-all").click();
      await waitFor("the unread count to clear", async () => (await own.getByTestId("notif-count").count()) === 0, 15_000);
      const after = await own.evaluate(async () => (await (await fetch("/api/me/notifications?limit=1")).json()).unread);
      if (after !== 0) fail(`${after} notifications still unread after "mark all read"`);
    });

    await step("4b. the admin page: a report in every community's queue dismissed; the task and the community listed", async () => {
      const b = pages.b;
      await b.goto(`${base}/#/community/${communityId}`);
      const item = threadItem(b, second);
      await item.waitFor({ timeout: 30_000 });
      await item.getByTestId("post-report").first().click();
      await item.getByTestId("moderation-reason").fill("重复");
      await item.getByTestId("post-report-submit").click();
      await item.getByTestId("post-reported").waitFor({ timeout: 15_000 });
      await own.goto(`${base}/#/admin`);
      await own.getByTestId("admin-tab-posts").click();
      const posts = own.getByTestId("admin-posts");
      const queued = posts.locator("[data-testid^=queue-post-]").filter({ hasText: second });
      await queued.waitFor({ timeout: 30_000 });
      if ((await queued.locator(`a[href="#/community/${communityId}"]`).count()) !== 1) fail("the admin's queue does not link the post's community");
      await queued.getByTestId("queue-reason").fill("没有违规");
      await queued.getByTestId("queue-dismiss").click();
      await waitFor("the admin's queue to empty", async () => (await posts.locator("[data-testid^=queue-post-]").count()) === 0, 30_000);
      await own.getByTestId("admin-tab-tasks").click();
      await own.getByTestId(`admin-task-${task}`).locator(`a[href="#/board/task/${task}"]`).waitFor({ timeout: 30_000 });
      await own.getByTestId("admin-tab-communities").click();
      await own.getByTestId("admin-communities").locator(`a[href="#/community/${communityId}"]`).waitFor({ timeout: 30_000 });
      await screenshot(own, "social-4b-admin-zh", true);
    });

    await step("5. English at 375 px: profile, notifications, community, verification and the bell's panel fit", async () => {
      await own.getByTestId("lang-select").selectOption("en");
      await own.setViewportSize({ width: 375, height: 812 });
      for (const hash of ["#/me", "#/notifications", `#/community/${communityId}`, "#/verify-email"]) {
        await own.goto(`${base}/${hash}`);
        await own.locator("main h1").waitFor();
        await expectNoHorizontalScroll(own, hash);
        await screenshot(own, `social-mobile-${hash.replace(/[#/]+/g, "-").replace(/^-|-$/g, "")}-en`, true);
      }
      await own.goto(`${base}/#/me`);
      await expectText(own.getByTestId("profile-email"), "verified", 15_000);
      await expectText(own.getByTestId("me-board-published"), "Draw a kite", 30_000);
      await own.getByTestId("notif-bell").click();
      await own.getByTestId("notif-panel").waitFor();
      await expectText(own.getByTestId("notif-panel"), `accepted task #${task}`);
      await expectNoHorizontalScroll(own, "the bell's panel");
      const box = await own.getByTestId("notif-panel").boundingBox();
      if (!box || box.x < 0 || box.x + box.width > 375) fail(`the bell's panel sticks out of the screen: ${JSON.stringify(box)}`);
      await screenshot(own, "social-5-bell-en");
      log(`community ${communityId}, task ${task}; mails: ${mails(mailDir).length} in ${path.relative(REPO, artifactsDir())}`);
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[1-9]/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stopNode(node);
    sink?.child.kill("SIGTERM");
    if (node && allPassed()) {
      rmSync(node.dataDir, { recursive: true, force: true });
      rmSync(mailDir, { recursive: true, force: true });
    }
  }
}

runMain(main);
