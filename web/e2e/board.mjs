// End-to-end test of the community task market's pages (#/board…, #/communities, #/community/N) in
// Debian's Chromium, against a real `agora up` (embedded anvil with TaskBoard and Communities
// deployed, SQLite, the indexer following both). Every wallet is a fresh key topped up by the dev
// chain's faucet; every action goes through the page:
//
//   1. a community: the publisher creates it (its arbiter: a fresh account), gives the task board a
//      minting allowance of 100 points; the workers join;
//   2. publish: 0.1 AMT over 3 slots is refused in the form with the nearest values (0.099, 0.102);
//      the publisher takes 0.099, promises 5 points per worker, approves AMT and publishes in one flow;
//   3. accept → submit: worker A accepts and submits; the publisher's cancel button is disabled with
//      the reason (no cancel after a submission) and the contract refuses it too;
//   4. approve: the publisher approves; A's AMT rises by exactly 0.033 and A holds 5 points (the page
//      and the points token agree);
//   5. rejection and revision: B submits, is rejected with a reason, revises, is approved;
//   6. dispute: C submits, is rejected, disputes; the arbiter splits 50 % in the page; C and the
//      publisher get half of the slot each;
//   7. lapse: an ETH task with a 0.01 h review window; A submits, the chain's clock moves past the
//      window (anvil evm_increaseTime, not a sleep), and B — a stranger to that claim — approves it;
//   8. English and phone width without horizontal scrolling;
//   9. GraphQL and REST give the same answers for the reads of the run, every field selected.
//
// Screenshots and the node's log go to test-artifacts/e2e-board/.
//
// Needs the agora binary with the board API (`cargo build -p agora-cli`), web/dist (`make web`) and
// /usr/bin/chromium.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { createPublicClient, encodeFunctionData, http, parseEther } from "viem";
import { generatePrivateKey } from "viem/accounts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  REPO,
  allPassed,
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

const abiOf = (name) => JSON.parse(readFileSync(path.join(REPO, `crates/chain/artifacts/${name}.json`), "utf8")).abi;
const boardAbi = abiOf("TaskBoard");
const communitiesAbi = abiOf("Communities");
const tokenAbi = abiOf("MarketToken");
const pointsAbi = abiOf("CommunityPoints");
const ETH = "0x0000000000000000000000000000000000000000";

/// Fills the publish form and submits it; the new task's id (the page opens it).
async function publish(page, base, { community, token, reward, slots, points, reviewHours, expectNearest }) {
  await page.goto(`${base}/#/board/new`);
  const form = page.getByTestId("board-publish");
  await form.waitFor();
  await form.getByTestId("board-publish-spec").fill(`# ${reward} over ${slots}\n\nWrite **one** paragraph about kites. <script>window.__pwned = 1</script>`);
  if (community !== undefined) await form.getByTestId("board-publish-community").selectOption(String(community));
  await form.getByTestId("board-publish-token").selectOption(token);
  await form.getByTestId("board-publish-reward").fill(reward);
  await form.getByTestId("board-publish-slots").fill(String(slots));
  if (expectNearest) {
    const nearest = form.getByTestId("board-nearest");
    await waitFor("the nearest rewards", async () => (await nearest.count()) === 2, 5000);
    const offered = await nearest.allTextContents();
    if (JSON.stringify(offered) !== JSON.stringify(expectNearest.offered)) fail(`nearest values offered: ${offered}`);
    await nearest.nth(expectNearest.take).click();
    await expectText(form.getByTestId("board-reward-check"), expectNearest.perSlotText);
  }
  if (points !== undefined) await form.getByTestId("board-publish-points").fill(String(points));
  await form.getByTestId("board-publish-review").fill(String(reviewHours ?? 24));
  await form.getByTestId("board-publish-submit").click();
  const id = await waitFor("the page to open the new task", async () => /#\/board\/task\/(\d+)$/.exec(page.url())?.[1], 90_000, 200);
  await page.getByTestId("board-task-page").waitFor();
  return Number(id);
}

const claimOf = (page, worker) => page.getByTestId(`board-claim-${worker}`);
const claimState = (page, worker) => claimOf(page, worker).getAttribute("data-state");

async function waitClaim(page, worker, state, timeout = 60_000) {
  await waitFor(`${worker}'s claim to be ${state} on the page`, async () => (await claimOf(page, worker).count()) > 0 && (await claimState(page, worker)) === state, timeout, 200);
}

/// Opens the submit (or revise) form, types the work and sends it.
async function submitWork(page, kind, work) {
  await page.getByTestId(`board-${kind}`).click();
  await page.getByTestId("board-deliverable-text").fill(work);
  await page.getByTestId("board-deliverable-send").click();
}

async function main() {
  useArtifacts("e2e-board");
  let node;
  let browser;
  try {
    await step("agora up starts with TaskBoard and Communities deployed", async () => {
      node = await startNode();
    });
    const base = node.base;
    const network = await getJson(`${base}/api/network`);
    const config = await getJson(`${base}/api/board/config`);
    const board = config.taskBoard.toLowerCase();
    const communities = config.communities.toLowerCase();
    const chain = createPublicClient({ transport: http(network.rpcUrl) });
    const amt = network.marketToken.toLowerCase();
    const amtOf = (a) => chain.readContract({ address: amt, abi: tokenAbi, functionName: "balanceOf", args: [a] });
    const claimOnChain = (id, w) => chain.readContract({ address: board, abi: boardAbi, functionName: "getClaim", args: [BigInt(id), w] });

    const wallets = await fundedWallets(base, network, Object.fromEntries(["publisher", "a", "b", "c", "arbiter"].map((who) => [who, generatePrivateKey()])));
    const P = wallets.publisher.address;
    const A = wallets.a.address;
    const B = wallets.b.address;
    const C = wallets.c.address;
    const ARB = wallets.arbiter.address;

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const { pages, errors: consoleErrors } = await connectedPages(browser, wallets, `${base}/#/board`);
    const pub = pages.publisher;

    let communityId;
    await step("1. a community: created in the page, the board given 100 points of allowance, the workers join", async () => {
      await pub.goto(`${base}/#/communities`);
      const form = pub.getByTestId("community-create");
      await form.locator("summary").click();
      await form.getByTestId("community-create-name").fill("风筝匠");
      await form.getByTestId("community-create-symbol").fill("KITE");
      await form.getByTestId("community-create-arbiter").fill(ARB);
      await form.getByTestId("community-create-submit").click();
      communityId = Number(await waitFor("the new community's page", async () => /#\/community\/(\d+)$/.exec(pub.url())?.[1], 60_000, 200));
      await pub.getByTestId("community-admin").waitFor({ timeout: 30_000 });
      await pub.getByTestId("community-allowance").fill("100");
      await pub.getByTestId("community-allowance-submit").click();
      await expectText(pub.getByTestId("community-budget"), "100 KITE", 60_000);
      const budget = await chain.readContract({ address: communities, abi: communitiesAbi, functionName: "mintBudget", args: [BigInt(communityId), board] });
      if (budget.allowance !== 100n) fail(`the board's allowance is ${budget.allowance}`);
      for (const who of ["a", "b", "c"]) {
        const page = pages[who];
        await page.goto(`${base}/#/community/${communityId}`);
        await page.getByTestId("community-join").click();
        await page.getByTestId("community-leave").waitFor({ timeout: 60_000 });
      }
      await screenshot(pub, "board-1-community-zh", true);
    });

    await step("1b. threads: a member signs in and posts (its markdown's HTML stays text), another replies", async () => {
      const a = pages.a;
      await a.getByTestId("sign-in").click();
      const threads = a.getByTestId("community-threads");
      await threads.locator("summary").click();
      await a.getByTestId("community-thread-title").fill("谁会做风筝？");
      await a.getByTestId("community-thread-body").fill("**竹骨** <script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">");
      await a.getByTestId("community-thread-submit").click();
      const item = threads.locator("[data-testid^=community-thread-]").filter({ hasText: "谁会做风筝" });
      await item.waitFor({ timeout: 30_000 });
      // The author's new thread opens by itself.
      await item.locator("button[aria-expanded=true]").waitFor({ timeout: 30_000 });
      await expectText(item, "<script>", 30_000);
      if (await a.evaluate(() => window.__pwned !== undefined)) fail("a post's HTML ran in the page");
      if ((await item.locator("script, img").count()) !== 0) fail("a post's HTML became elements");
      const b = pages.b;
      await b.getByTestId("sign-in").click();
      const bItem = b.getByTestId("community-threads").locator("[data-testid^=community-thread-]").filter({ hasText: "谁会做风筝" });
      await bItem.waitFor({ timeout: 30_000 });
      await bItem.getByRole("button").first().click();
      await b.getByTestId("community-reply-body").fill("我会，周六来");
      await b.getByTestId("community-reply-submit").click();
      // The posted reply, not the form: a React textarea's text content follows what is typed in it.
      await bItem.locator("li[data-testid^=community-reply-]").filter({ hasText: "我会，周六来" }).waitFor({ timeout: 30_000 });
      const threadId = Number((await item.getAttribute("data-testid")).replace("community-thread-", ""));
      const api = await getJson(`${base}/api/threads/${threadId}`);
      if (api.replies.length !== 1 || api.replies[0].author !== B) fail(`the thread's replies: ${JSON.stringify(api.replies)}`);
      await screenshot(a, "board-1b-threads-zh", true);
    });

    let task;
    const perSlot = parseEther("0.033");
    await step("2. publish: 0.1 AMT over 3 slots refused with the nearest values; 0.099 AMT with 5 points each, approve → publish", async () => {
      const escrowBefore = await amtOf(board);
      task = await publish(pub, base, {
        community: communityId,
        token: amt,
        reward: "0.1",
        slots: 3,
        points: 5,
        expectNearest: { offered: ["0.099 AMT", "0.102 AMT"], take: 0, perSlotText: "0.033 AMT" },
      });
      if ((await amtOf(board)) - escrowBefore !== parseEther("0.099")) fail("the reward is not escrowed");
      // The description is markdown rendered as elements: the script tag is text, never run.
      await expectText(pub.getByTestId("board-spec"), "<script>");
      if (await pub.evaluate(() => window.__pwned === 1)) fail("the description's script ran");
      await screenshot(pub, "board-2-published-zh", true);
    });

    await step("3. accept → submit; cancel is disabled with its reason and the contract refuses it", async () => {
      const a = pages.a;
      await a.goto(`${base}/#/board/task/${task}`);
      await a.getByTestId("board-accept").click();
      await waitClaim(a, A, "working");
      await submitWork(a, "submit", "Kites fly because the wind pushes on them.");
      await waitClaim(a, A, "submitted");
      await pub.goto(`${base}/#/board/task/${task}`);
      await waitClaim(pub, A, "submitted");
      if (!(await pub.getByTestId("board-cancel").isDisabled())) fail("cancel is enabled after a submission");
      await pub.getByTestId("board-cancel-why").waitFor();
      const refused = await fetch(`${base}/api/tx/simulate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: P, to: board, data: encodeCancel(task) }),
      });
      if (refused.ok) fail("the node's simulation accepted a cancel after a submission");
      await screenshot(pub, "board-3-cancel-refused-zh", true);
    });

    const pointsToken = (await getJson(`${base}/api/communities/${communityId}`)).community.pointsToken.toLowerCase();
    const pointsOf = (a) => chain.readContract({ address: pointsToken, abi: pointsAbi, functionName: "balanceOf", args: [a] });
    await step("4. approve: worker A paid exactly 0.033 AMT and 5 points", async () => {
      const before = await amtOf(A);
      await claimOf(pub, A).getByTestId("board-approve").click();
      await waitClaim(pub, A, "approved");
      if ((await amtOf(A)) - before !== perSlot) fail(`A received ${(await amtOf(A)) - before}`);
      if ((await pointsOf(A)) !== 5n) fail(`A holds ${await pointsOf(A)} points`);
      await expectText(claimOf(pub, A).getByTestId("board-paid"), "0.033 AMT", 30_000);
      await expectText(claimOf(pub, A).getByTestId("board-points-minted"), "5 KITE", 30_000);
      await pages.a.goto(`${base}/#/community/${communityId}`);
      await expectText(pages.a.getByTestId("community-my-points"), "5 KITE", 30_000);
      await screenshot(pages.a, "board-4-points-zh", true);
    });

    await step("5. rejection and revision: B rejected with a reason, revises, approved", async () => {
      const b = pages.b;
      await b.goto(`${base}/#/board/task/${task}`);
      await b.getByTestId("board-accept").click();
      await waitClaim(b, B, "working");
      await submitWork(b, "submit", "kites");
      await waitClaim(pub, B, "submitted");
      await claimOf(pub, B).getByTestId("board-reject").click();
      await claimOf(pub, B).getByTestId("board-reject-reason").fill("One word is not a paragraph.");
      await claimOf(pub, B).getByTestId("board-reject-send").click();
      await waitClaim(b, B, "rejected");
      await expectText(claimOf(b, B).getByTestId("board-rejection-reason"), "One word is not a paragraph.", 30_000);
      await submitWork(b, "revise", "A kite is a tethered wing: the line holds it against the wind, and the wind lifts it.");
      await waitClaim(pub, B, "submitted");
      if ((await claimOnChain(task, B)).revisions !== 1) fail("the revision is not counted on chain");
      await claimOf(pub, B).getByTestId("board-approve").click();
      await waitClaim(pub, B, "approved");
      await screenshot(pub, "board-5-revised-zh", true);
    });

    await step("6. dispute: C rejected, disputes; the arbiter splits 50 % in the page", async () => {
      const c = pages.c;
      await c.goto(`${base}/#/board/task/${task}`);
      await c.getByTestId("board-accept").click();
      await waitClaim(c, C, "working");
      await submitWork(c, "submit", "Kites are older than paper.");
      await waitClaim(pub, C, "submitted");
      await claimOf(pub, C).getByTestId("board-reject").click();
      await claimOf(pub, C).getByTestId("board-reject-reason").fill("Off topic.");
      await claimOf(pub, C).getByTestId("board-reject-send").click();
      await waitClaim(c, C, "rejected");
      await c.getByTestId("board-dispute").click();
      await c.getByTestId("board-dispute-reason").fill("It is about kites.");
      await c.getByTestId("board-dispute-send").click();
      await waitClaim(c, C, "disputed");
      const arb = pages.arbiter;
      await arb.goto(`${base}/#/board/task/${task}`);
      await waitClaim(arb, C, "disputed");
      const cBefore = await amtOf(C);
      const pBefore = await amtOf(P);
      await claimOf(arb, C).getByTestId("board-resolve").click();
      await expectText(claimOf(arb, C).getByTestId("board-resolve-parts"), "0.0165 AMT");
      await claimOf(arb, C).getByTestId("board-resolve-send").click();
      await waitClaim(arb, C, "resolved");
      const half = perSlot / 2n;
      if ((await amtOf(C)) - cBefore !== half) fail(`C received ${(await amtOf(C)) - cBefore}`);
      if ((await amtOf(P)) - pBefore !== perSlot - half) fail(`the publisher received ${(await amtOf(P)) - pBefore}`);
      await screenshot(arb, "board-6-resolved-zh", true);
    });

    await step("7. lapse: the review window passes on the chain's clock and a stranger approves", async () => {
      const lapse = await publish(pub, base, { token: ETH, reward: "0.01", slots: 1, reviewHours: 0.01 });
      const a = pages.a;
      await a.goto(`${base}/#/board/task/${lapse}`);
      await a.getByTestId("board-accept").click();
      await waitClaim(a, A, "working");
      await submitWork(a, "submit", "Done.");
      await waitClaim(a, A, "submitted");
      const b = pages.b;
      await b.goto(`${base}/#/board/task/${lapse}`);
      await waitClaim(b, A, "submitted");
      if ((await b.getByTestId("board-approve-lapsed").count()) !== 0) fail("approve-lapsed offered inside the review window");
      await chain.request({ method: "evm_increaseTime", params: [120] });
      await chain.request({ method: "evm_mine", params: [] });
      // The page reads the chain's clock again on the next signal; a reload is that signal here.
      await b.reload();
      await claimOf(b, A).getByTestId("board-approve-lapsed").click({ timeout: 30_000 });
      await waitClaim(b, A, "approved");
      await screenshot(b, "board-7-lapsed-zh", true);
    });

    await step("8. English and phone width (375 px): the board's pages without horizontal scrolling", async () => {
      await pub.getByTestId("lang-select").selectOption("en");
      await pub.goto(`${base}/#/board/task/${task}`);
      await expectText(pub.getByTestId("board-timeline"), "Dispute decided", 30_000);
      await pub.setViewportSize({ width: 375, height: 812 });
      for (const hash of ["#/board", `#/board/task/${task}`, "#/board/new", "#/board/mine", "#/communities", `#/community/${communityId}`]) {
        await pub.goto(`${base}/${hash}`);
        await pub.locator("main h1").waitFor();
        await expectNoHorizontalScroll(pub, hash);
        await screenshot(pub, `board-mobile-${hash.replace(/[#/]+/g, "-").replace(/^-|-$/g, "")}-en`, true);
      }
      await pub.goto(`${base}/#/board/mine`);
      await expectText(pub.getByTestId("board-mine-published"), "0.033 AMT", 30_000);
      log(`task ${task}: approved, revised, disputed; community ${communityId}`);
    });

    await step("9. GraphQL and REST give the same answers (from the page, every field the schema has)", async () => {
      const pairs = [
        ["/api/board/tasks", "boardTasks", "", "BoardTaskList"],
        [`/api/board/tasks/${task}`, "boardTask", `(id: ${task})`, "BoardTaskDetail"],
        ["/api/communities", "communities", "", "CommunityList"],
        [`/api/communities/${communityId}`, "community", `(id: ${communityId})`, "CommunityDetail"],
        [`/api/communities/${communityId}/members`, "communityMembers", `(id: ${communityId})`, "CommunityMembers"],
        [`/api/accounts/${A}/board`, "accountBoard", `(address: "${A}")`, "AccountBoard"],
        [`/api/communities/${communityId}/threads`, "communityThreads", `(community: ${communityId})`, "ThreadList"],
      ];
      const results = await pub.evaluate(async (pairs) => {
        const gql = async (query) => (await fetch("/api/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })).json();
        const intro = await gql("{ __schema { types { name fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }");
        const types = Object.fromEntries(intro.data.__schema.types.map((t) => [t.name, t]));
        const select = (ty) => {
          const parts = types[ty].fields.map((f) => {
            let t = f.type;
            while (!t.name) t = t.ofType;
            return t.kind === "OBJECT" ? `${f.name} ${select(t.name)}` : f.name;
          });
          return `{ ${parts.join(" ")} }`;
        };
        const out = [];
        for (const [uri, field, args, ty] of pairs) {
          const rest = await (await fetch(uri)).json();
          const g = await gql(`{ ${field}${args} ${select(ty)} }`);
          out.push({ uri, rest: JSON.stringify(rest), gql: JSON.stringify(g.data?.[field] ?? g.errors) });
        }
        return out;
      }, pairs);
      for (const r of results) {
        if (r.rest !== r.gql) fail(`${r.uri}: REST and GraphQL differ\nREST:    ${r.rest.slice(0, 400)}\nGraphQL: ${r.gql.slice(0, 400)}`);
      }
      const detail = JSON.parse(results[1].rest);
      if (detail.claims.length < 3) fail(`task ${task} should hold its three claims: ${results[1].rest.slice(0, 200)}`);
      log(`GraphQL = REST over ${results.length} reads`);
    });

    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_|status of 40[1-4]/.test(e));
    if (unexpected.length) fail(`errors in the page:\n${unexpected.join("\n")}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stopNode(node);
    if (node && allPassed()) rmSync(node.dataDir, { recursive: true, force: true });
  }
}

/// `cancel(taskId)`'s calldata, for the node's simulation.
function encodeCancel(taskId) {
  return encodeFunctionData({ abi: boardAbi, functionName: "cancel", args: [BigInt(taskId)] });
}

runMain(main);
