import { describe, expect, it } from "vitest";
import { postProblem, readPost, readThreadList, readThreadPage } from "./communityThreads";

const POST = {
  id: 4,
  communityId: 1,
  threadId: 4,
  author: "0x00000000000000000000000000000000000000A1",
  authorName: null,
  authorAvatar: null,
  title: "Kites in winter",
  body: "**Cold** air <script>x</script>",
  createdAt: 1_800_000_000,
  editedAt: null,
  deleted: false,
  deletedAt: null,
  hidden: false,
  locked: false,
  pinned: true,
  replies: 2,
};

describe("community threads", () => {
  it("reads posts, a list and a thread page", () => {
    const p = readPost(POST);
    expect(p.author).toBe("0x00000000000000000000000000000000000000a1");
    expect(p.pinned).toBe(true);
    const l = readThreadList({ threads: [POST], nextOffset: 20, canPost: true, canModerate: false });
    expect(l.nextOffset).toBe(20);
    expect(l.canPost).toBe(true);
    const page = readThreadPage({ thread: POST, replies: [{ ...POST, id: 5, title: null, replies: 0 }], nextOffset: null, canReply: false, canModerate: true });
    expect(page.replies[0].title).toBeNull();
    expect(page.canModerate).toBe(true);
  });
  it("refuses malformed posts", () => {
    expect(() => readPost({ ...POST, author: "alice" })).toThrow(/post.author/);
    expect(() => readPost({ ...POST, createdAt: "now" })).toThrow(/post.createdAt/);
    expect(() => readThreadList({ threads: "none" })).toThrow(/threads is not a list/);
  });
  it("checks titles and bodies as the node does", () => {
    expect(postProblem("Kites", "body")).toBeNull();
    expect(postProblem("  ", "body")).toBe("title");
    expect(postProblem("a\nb", "body")).toBe("title");
    expect(postProblem("风".repeat(120), "body")).toBeNull();
    expect(postProblem("风".repeat(121), "body")).toBe("title");
    expect(postProblem(null, " ")).toBe("body");
    expect(postProblem(null, "x".repeat(20_001))).toBe("body");
    expect(postProblem(null, "x")).toBeNull();
  });
});
