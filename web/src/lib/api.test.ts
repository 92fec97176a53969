import { describe, expect, it } from "vitest";
import { errorFromBody, ipfsUrl } from "./api";

describe("API errors", () => {
  it("reads the API's error shape", () => {
    const e = errorFromBody(422, { error: { code: "InsufficientPayment", message: "sent 1 wei, the price is 2 wei" } });
    expect(e.status).toBe(422);
    expect(e.code).toBe("InsufficientPayment");
    expect(e.message).toBe("sent 1 wei, the price is 2 wei");
  });
  it("reads a bare {code, message} and survives garbage", () => {
    expect(errorFromBody(401, { code: "bad_signature", message: "no" }).code).toBe("bad_signature");
    const g = errorFromBody(502, "<html>");
    expect(g.code).toBe("http_502");
    expect(g.message).toBe("HTTP 502");
  });
  it("builds IPFS links", () => {
    expect(ipfsUrl("bafkabc")).toBe("/ipfs/bafkabc");
    expect(ipfsUrl("bafkabc", "task 1.txt")).toBe("/ipfs/bafkabc?download=task%201.txt");
  });
});
