import { encodeErrorResult } from "viem";
import { describe, expect, it } from "vitest";
import { communitiesAbi, taskBoardAbi } from "../generated/abi";
import { decodeBoardRevert, publishCall } from "./boardCalls";
import { communityFormProblem, communityRights, communityRole, readCommunity, type Community } from "./community";

const OWNER = "0x00000000000000000000000000000000000000a1";
const ADMIN = "0x00000000000000000000000000000000000000a3";
const c: Community = {
  id: 1,
  owner: OWNER,
  arbiter: "0x00000000000000000000000000000000000000a2",
  pointsToken: "0x00000000000000000000000000000000000000f1",
  name: "Kite makers",
  symbol: "KITE",
  metadataUri: "",
  transfersEnabled: false,
  memberCount: 2,
  admins: [OWNER, ADMIN],
  createdAt: 1,
};

describe("community roles", () => {
  it("tells the owner, an admin, a member and a visitor apart", () => {
    expect(communityRole(c, OWNER, true)).toBe("owner");
    expect(communityRole(c, ADMIN.toUpperCase().replace("0X", "0x"), true)).toBe("admin");
    expect(communityRole(c, "0x00000000000000000000000000000000000000b1", true)).toBe("member");
    expect(communityRole(c, "0x00000000000000000000000000000000000000b1", false)).toBe("visitor");
    expect(communityRole(c, null, false)).toBe("visitor");
  });
  it("gives each role what Communities.sol allows", () => {
    expect(communityRights("owner", true, true)).toEqual({ join: false, leave: false, manageAdmins: true, setTransfers: true, mint: true, setAllowance: true });
    expect(communityRights("admin", true, true)).toEqual({ join: false, leave: true, manageAdmins: false, setTransfers: false, mint: true, setAllowance: true });
    expect(communityRights("member", true, true)).toEqual({ join: false, leave: true, manageAdmins: false, setTransfers: false, mint: false, setAllowance: false });
    expect(communityRights("visitor", true, false)).toEqual({ join: true, leave: false, manageAdmins: false, setTransfers: false, mint: false, setAllowance: false });
    expect(communityRights("visitor", false, false).join).toBe(false);
  });
  it("checks the create form against the contract's limits", () => {
    const ok = { name: "Kite makers", symbol: "KITE", metadataUri: "", arbiter: OWNER };
    expect(communityFormProblem(ok)).toBeNull();
    expect(communityFormProblem({ ...ok, name: " " })).toBe("name");
    expect(communityFormProblem({ ...ok, name: "风".repeat(22) })).toBe("name"); // 66 bytes
    expect(communityFormProblem({ ...ok, symbol: "S".repeat(17) })).toBe("symbol");
    expect(communityFormProblem({ ...ok, metadataUri: "u".repeat(513) })).toBe("metadataUri");
    expect(communityFormProblem({ ...ok, arbiter: "0x0000000000000000000000000000000000000000" })).toBe("arbiter");
    expect(communityFormProblem({ ...ok, arbiter: "alice" })).toBe("arbiter");
  });
  it("reads a community and refuses a malformed one", () => {
    expect(readCommunity({ ...c, owner: OWNER.toUpperCase().replace("0X", "0x") }).owner).toBe(OWNER);
    expect(() => readCommunity({ ...c, transfersEnabled: "no" })).toThrow(/transfersEnabled/);
    expect(() => readCommunity({ ...c, memberCount: -1 })).toThrow(/memberCount/);
  });
});

describe("board calls", () => {
  const board = "0x00000000000000000000000000000000000000e1";
  const terms = { token: "0x0000000000000000000000000000000000000000" as const, reward: 300n, slots: 3, communityId: 0, points: 0n, deadline: 2_000_000_000, reviewWindow: 60, workTimeout: 60, maxRevisions: 1, spec: "bafy" };
  it("sends an ETH reward as the value and a token's not", () => {
    expect(publishCall(board, terms).value).toBe(300n);
    expect(publishCall(board, { ...terms, token: "0x00000000000000000000000000000000000000d1" }).value).toBe(0n);
  });
  it("decodes the board's and the communities' refusals from the node's sentence", () => {
    const data = encodeErrorResult({ abi: taskBoardAbi, errorName: "RewardNotDivisible", args: [100n, 3] });
    expect(decodeBoardRevert(new Error(`execution reverted: call reverted with unknown data ${data}`))).toEqual({ name: "RewardNotDivisible", figures: "reward 100, slots 3" });
    const c2 = encodeErrorResult({ abi: communitiesAbi, errorName: "NotCommunityAdmin", args: [1n, OWNER] });
    expect(decodeBoardRevert(`unknown data ${c2}`)?.name).toBe("NotCommunityAdmin");
    expect(decodeBoardRevert(new Error("unknown data 0xdeadbeef"))).toBeNull();
    expect(decodeBoardRevert(new Error("nonce too low"))).toBeNull();
  });
});
