// The decisions the hooks make, tested without a browser.
import { afterEach, describe, expect, it, vi } from "vitest";
import { flApi, parseTask, type FlReference, type FlRound } from "../lib/fl";
import { taskRow } from "../lib/fixtures/fl";
import type { NetworkInfo, Service, Session } from "../lib/api";
import { devWallet } from "../lib/wallet";
import { assistantChannels } from "./useChannels";
import { REFERENCE_WAIT_S, referencePending, withSpecs } from "./useFlData";
import { isBusy } from "./useFlTx";
import { tokensInUse } from "./useNetwork";
import { isSignedIn } from "./useSession";
import { onNetwork } from "./useWallet";

const net = {
  chainId: 31337,
  marketToken: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
} as unknown as NetworkInfo;
const ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

describe("useSession", () => {
  const session: Session = { address: ADDRESS.toLowerCase() as `0x${string}`, chainId: 31337, expiresAt: 0 };
  it("counts a session only for the wallet shown, whatever the case", () => {
    expect(isSignedIn(session, ADDRESS)).toBe(true);
    expect(isSignedIn(session, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).toBe(false);
    expect(isSignedIn(session, null)).toBe(false);
    expect(isSignedIn(null, ADDRESS)).toBe(false);
  });
});

describe("useWallet", () => {
  it("takes a dev key as on the network and an injected wallet only on the node's chain", () => {
    const dev = devWallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "owner");
    const injected = { kind: "injected" as const, address: ADDRESS as `0x${string}`, provider: { request: async () => null } };
    expect(onNetwork(dev, null, net)).toBe(true);
    expect(onNetwork(injected, 31337, net)).toBe(true);
    expect(onNetwork(injected, 1, net)).toBe(false);
    expect(onNetwork(injected, 31337, null)).toBe(false);
    expect(onNetwork(null, null, net)).toBe(false);
  });
});

describe("useNetwork", () => {
  it("reads every ERC-20 in use once, never ETH", () => {
    const services = [
      { token: "0x0000000000000000000000000000000000000000" },
      { token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
      { token: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" },
    ] as unknown as Service[];
    expect(tokensInUse(net, services)).toEqual([
      "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    ]);
    expect(tokensInUse(null, null)).toEqual([]);
  });
});

describe("useChannels", () => {
  it("lists the channels paying the assistant, open ones first", () => {
    const ch = (id: string, payee: string, state: "Open" | "Expired" | "Closed") => ({ id, payee, state }) as never;
    const payee = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const list = assistantChannels(
      [ch("a", payee, "Closed"), ch("b", "0x0000000000000000000000000000000000000001", "Open"), ch("c", payee.toLowerCase(), "Open"), ch("d", payee, "Expired")],
      payee,
    );
    expect(list.map((c: { id: string }) => c.id)).toEqual(["c", "d", "a"]);
  });
});

describe("the fl hooks", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("take a transaction as under way until it is done or failed", () => {
    expect(isBusy(null)).toBe(false);
    for (const phase of ["approve", "simulate", "wallet", "mining"] as const) expect(isBusy({ action: "join:1", phase, hash: null, error: null })).toBe(true);
    expect(isBusy({ action: "join:1", phase: "done", hash: null, error: null })).toBe(false);
    expect(isBusy({ action: "join:1", phase: "failed", hash: null, error: "no" })).toBe(false);
  });

  it("read each task's spec once from the content store, and again after a failure", async () => {
    const task = parseTask(taskRow);
    let fail = true;
    const fetch = vi.fn(async (url: string) => {
      if (fail) return new Response("gone", { status: 502 });
      return new Response(JSON.stringify({ rounds: 10, dataset: "digits", url }), { status: 200 });
    });
    vi.stubGlobal("fetch", fetch);
    const spec = { ...task, spec: "bafkspec-once" };
    expect((await withSpecs([spec]))[0].specInfo).toBeNull();
    fail = false;
    const [a, b] = await withSpecs([spec, { ...spec, id: 9 }]);
    expect(a.specInfo).toMatchObject({ rounds: 10, dataset: "digits", url: "/ipfs/bafkspec-once" });
    expect(b.specInfo).toBe(a.specInfo);
    await withSpecs([spec]);
    // One failed read, then one read for all the rest.
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("keep reading the centralised reference until it is complete, and give up on one that never starts", async () => {
    const task = parseTask(taskRow);
    const last: FlRound = { round: 3, accuracy: 0.8, loss: null, participants: [], aggregatedAt: 1000, recordCid: null };
    const ref = (n: number): FlReference => ({ epochs: 3, epochsPerRound: 1, samples: 10, accuracy: Array(n).fill(0.8), seconds: 1, complete: n >= 3 });
    const finished = { ...task, state: "Finished" as const };
    expect(referencePending({ ...task, state: "Training" as const }, [last], null, 1001)).toBe(false);
    expect(referencePending(finished, [last], null, 1001)).toBe(true);
    expect(referencePending(finished, [last], null, 1000 + REFERENCE_WAIT_S)).toBe(false);
    expect(referencePending(finished, [last], ref(1), 5000)).toBe(true);
    expect(referencePending(finished, [last], ref(3), 1001)).toBe(false);
    // A node without a reference for the task answers 404: read as none, not as an error.
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { code: "not_found", message: "no reference" } }), { status: 404 })));
    expect(await flApi.reference(1)).toBeNull();
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ taskId: 1, epochs: 3, epochsPerRound: 1, samples: 10, accuracy: [0.5, null], loss: [1, 1], seconds: 2, complete: false, updatedAt: 1 }), { status: 200 })));
    expect(await flApi.reference(1)).toEqual({ epochs: 3, epochsPerRound: 1, samples: 10, accuracy: [0.5, null], seconds: 2, complete: false });
  });
});
