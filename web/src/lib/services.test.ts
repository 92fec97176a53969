import { describe, expect, it } from "vitest";
import type { Service, ServiceInput } from "./api";
import {
  decodeTaskInput,
  defaultChoices,
  encodeTaskInput,
  fileLabelKey,
  inputSpec,
  servicePrice,
  upsertService,
} from "./services";

function service(id: number, extra: Partial<Service> = {}): Service {
  return {
    id,
    provider: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    token: "0x0000000000000000000000000000000000000000",
    price: "10000000000000000",
    maxRunTime: 600,
    metadataUri: "",
    metadata: null,
    active: true,
    ...extra,
  };
}

const transcode: ServiceInput = {
  modes: ["file"],
  accept: "video/*",
  options: [
    { name: "resolution", choices: ["240p", "360p", "480p", "720p"], default: "240p" },
    { name: "codec", choices: ["h264", "vp9"], default: "h264" },
  ],
};

describe("what a purchase takes as input", () => {
  it("follows the service's own description", () => {
    const spec = inputSpec(service(4, { input: transcode, metadata: { kind: "data-processing" } }));
    expect(spec.modes).toEqual(["file"]);
    expect(spec.accept).toBe("video/*");
    expect(spec.options.map((o) => o.name)).toEqual(["resolution", "codec"]);
  });
  it("falls back to what the page assumed per kind when the node sends no description", () => {
    expect(inputSpec(service(1, { metadata: { kind: "ai-inference" } }))).toEqual({
      modes: ["draw", "file"],
      accept: "image/png",
      options: [],
    });
    expect(inputSpec(service(2, { metadata: { kind: "video-transcode" } })).accept).toBe("video/*");
    expect(inputSpec(service(3, { metadata: { kind: "data-processing" } })).modes).toEqual(["text", "file"]);
    expect(inputSpec(service(5)).modes).toEqual(["text", "file"]);
  });
  it("drops what it cannot offer: unknown modes, options without choices or named like the input", () => {
    const odd = {
      modes: ["hologram", "text"],
      accept: "",
      options: [
        { name: "empty", choices: [], default: "x" },
        { name: "input", choices: ["a"], default: "a" },
        { name: "codec", choices: ["vp9"], default: "h264" },
      ],
    } as unknown as ServiceInput;
    const spec = inputSpec(service(6, { input: odd }));
    expect(spec.modes).toEqual(["text"]);
    expect(spec.accept).toBeNull();
    expect(spec.options.map((o) => o.name)).toEqual(["codec"]);
    expect(defaultChoices(spec)).toEqual({ codec: "vp9" });
    expect(inputSpec(service(7, { input: { modes: [], accept: null, options: [] } })).modes).toEqual(["text"]);
  });
});

describe("task input encoding", () => {
  it("sends the bare text, CID or digit for a service without options", () => {
    expect(encodeTaskInput({ modes: ["text"], accept: null, options: [] }, "to be", { codec: "vp9" })).toBe("to be");
  });
  it("wraps the input with every option for a service with options", () => {
    const cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    const input = encodeTaskInput(transcode, cid, { resolution: "480p" });
    expect(JSON.parse(input)).toEqual({ input: cid, resolution: "480p", codec: "h264" });
    expect(decodeTaskInput(input)).toEqual({
      value: cid,
      options: [
        ["resolution", "480p"],
        ["codec", "h264"],
      ],
    });
  });
  it("never sends a choice the service does not allow", () => {
    const input = JSON.parse(encodeTaskInput(transcode, "x", { resolution: "4k", codec: "vp9" }));
    expect(input).toEqual({ input: "x", resolution: "240p", codec: "vp9" });
  });
  it("reads other inputs as not wrapped", () => {
    expect(decodeTaskInput('{"pixels":[0,1]}')).toBeNull();
    expect(decodeTaskInput("hello")).toBeNull();
    expect(decodeTaskInput("[1,2]")).toBeNull();
  });
  it("labels the file field by the files it takes", () => {
    expect(fileLabelKey("video/*")).toBe("buy.fileLabelVideo");
    expect(fileLabelKey("image/png")).toBe("buy.fileLabelImage");
    expect(fileLabelKey(null)).toBe("buy.fileLabel");
  });
});

describe("service list", () => {
  it("replaces a pushed service in place and keeps the list ordered by id", () => {
    const list = [service(1), service(3)];
    const changed = upsertService(list, service(3, { active: false }));
    expect(changed.map((s) => [s.id, s.active])).toEqual([
      [1, true],
      [3, false],
    ]);
    expect(upsertService(changed, service(2)).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(upsertService(null, service(9)).map((s) => s.id)).toEqual([9]);
    expect(list[1].active).toBe(true);
  });
  it("prices a service once its token is known", () => {
    const tokens = { "0x0000000000000000000000000000000000000000": { symbol: "ETH", decimals: 18 } };
    expect(servicePrice(service(1), tokens)).toBe("0.01 ETH");
    expect(servicePrice(service(1, { token: "0x5fbdb2315678afecb367f032d93f642f64180aa3" }), tokens)).toBeNull();
  });
});
