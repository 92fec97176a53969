// The node's HTTP API, same origin as the page. Every shape comes from crates/api/openapi.json
// through the generated `src/generated/api.ts` (scripts/gen.mjs); nothing here restates a field.
// Every error the API sends is `{"error": {"code", "message"}}`; `ApiError` carries both plus the
// HTTP status.
import type { components, paths } from "../generated/api";

type Schemas = components["schemas"];

export type NetworkInfo = Schemas["Network"];
export type Service = Schemas["Service"];
export type ServiceMetadata = Schemas["ServiceMetadata"];
export type ServiceInput = Schemas["ServiceInput"];
export type ServiceOption = Schemas["ServiceOption"];
export type InputMode = ServiceInput["modes"][number];
export type LocalizedText = Schemas["LocalizedText"];
export type TimelineEntry = Schemas["TimelineEntry"];
export type IexecInfo = Schemas["Iexec"];
export type TaskStatus = Schemas["Task"]["status"];
/// A task as the page holds it. The list endpoints (`/api/me/tasks`) answer tasks without their
/// timeline, and the page keeps the timeline it already has until a full view arrives, so the page
/// treats `timeline` as optional even though the document marks it required.
export type Task = Omit<Schemas["Task"], "timeline"> & { timeline?: TimelineEntry[] };
export type DevAccount = Schemas["DevAccount"];
export type Session = Schemas["Session"];
export type SimulateRequest = Schemas["SimulateRequest"];
export type Channel = Schemas["Channel"];
export type ChannelState = Schemas["ChannelState"];
export type DataSeller = Schemas["DataSeller"];
export type DataOrder = Schemas["DataOrder"];
export type DataOrderState = Schemas["DataOrderState"];
export type DataOrderDetail = Schemas["DataOrderDetail"];

/// The JSON body of a successful answer to `method path` with status `code`, as documented. An
/// answer the document does not describe yields a type nothing fits, so the call fails to compile.
type Answer<P extends keyof paths, M extends "get" | "post", C extends number = 200> = paths[P][M] extends {
  responses: { [K in C]: { content: { "application/json": infer J } } };
}
  ? J
  : { undocumented: [P, M, C] };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/// Reads an error body in the API's shape (or a bare `{code, message}`); anything else becomes a
/// generic error naming the status.
export function errorFromBody(status: number, body: unknown): ApiError {
  const obj = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const inner = (obj.error && typeof obj.error === "object" ? obj.error : obj) as Record<string, unknown>;
  const code = typeof inner.code === "string" ? inner.code : `http_${status}`;
  const message = typeof inner.message === "string" && inner.message ? inner.message : `HTTP ${status}`;
  return new ApiError(status, code, message);
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, body ?? { message: text.slice(0, 200) });
  return body as T;
}

function json(method: string, body: unknown): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export const api = {
  network: () => request<Answer<"/api/network", "get">>("/api/network"),
  services: () => request<Answer<"/api/services", "get">>("/api/services"),
  task: (id: number): Promise<Task> => request<Answer<"/api/tasks/{id}", "get">>(`/api/tasks/${id}`),
  myTasks: (): Promise<Task[]> => request<Answer<"/api/me/tasks", "get">>("/api/me/tasks"),
  devAccounts: () => request<Answer<"/api/dev/accounts", "get">>("/api/dev/accounts"),
  simulate: (tx: SimulateRequest) => request<Answer<"/api/tx/simulate", "post">>("/api/tx/simulate", json("POST", tx)),
  upload: (body: Blob) =>
    request<Answer<"/api/uploads", "post", 201>>("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    }),
  nonce: () => request<Answer<"/api/auth/nonce", "get">>("/api/auth/nonce"),
  verify: (message: string, signature: string) =>
    request<Answer<"/api/auth/verify", "post">>("/api/auth/verify", json("POST", { message, signature })),
  session: () => request<Answer<"/api/auth/session", "get">>("/api/auth/session"),
  channels: (query: { payer?: string; payee?: string }) => {
    const q = new URLSearchParams();
    if (query.payer) q.set("payer", query.payer.toLowerCase());
    if (query.payee) q.set("payee", query.payee.toLowerCase());
    return request<Answer<"/api/channels", "get">>(`/api/channels?${q}`);
  },
  channel: (id: string) => request<Answer<"/api/channels/{id}", "get">>(`/api/channels/${encodeURIComponent(id)}`),
  logout: () => request<void>("/api/auth/logout", { method: "POST" }),
  dataSellers: () => request<Answer<"/api/data/sellers", "get">>("/api/data/sellers"),
  dataOrders: (query: { buyer?: string; seller?: string; limit?: number }) => {
    const q = new URLSearchParams();
    if (query.buyer) q.set("buyer", query.buyer.toLowerCase());
    if (query.seller) q.set("seller", query.seller.toLowerCase());
    if (query.limit) q.set("limit", String(query.limit));
    return request<Answer<"/api/data/orders", "get">>(`/api/data/orders?${q}`);
  },
  dataOrder: (id: string) => request<Answer<"/api/data/orders/{id}", "get">>(`/api/data/orders/${encodeURIComponent(id)}`),
};

/// The URL of a stored object; `download` makes it an attachment with that file name.
export function ipfsUrl(cid: string, download?: string): string {
  const base = `/ipfs/${encodeURIComponent(cid)}`;
  return download ? `${base}?download=${encodeURIComponent(download)}` : base;
}
