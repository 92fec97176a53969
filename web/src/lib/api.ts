// The node's HTTP API, same origin as the page. Every error the API sends is
// `{"error": {"code", "message"}}`; `ApiError` carries both plus the HTTP status.

export interface NetworkInfo {
  chainId: number;
  rpcUrl: string;
  computeMarket: `0x${string}`;
  marketToken: `0x${string}`;
  paymentChannel: `0x${string}`;
  deployBlock: number;
  embeddedChain: boolean;
}

export interface LocalizedText {
  en?: string;
  "zh-CN"?: string;
  [lang: string]: string | undefined;
}

export interface ServiceMetadata {
  kind?: string;
  name?: LocalizedText;
  description?: LocalizedText;
  [key: string]: unknown;
}

export interface Service {
  id: number;
  provider: `0x${string}`;
  token: `0x${string}`;
  price: string;
  maxRunTime: number;
  metadataUri: string;
  metadata: ServiceMetadata | null;
  active: boolean;
}

export type TaskStatus = "Created" | "Running" | "Completed" | "Refunded";

export interface TimelineEntry {
  event: string;
  blockNumber: number;
  blockTimestamp: number;
  txHash: `0x${string}`;
}

export interface IexecInfo {
  dealId: string;
  taskId: string;
  status: string;
}

export interface Task {
  id: number;
  user: string;
  serviceId: number;
  amount: string;
  token: string;
  status: TaskStatus;
  deadline: number | null;
  input: string | null;
  resultHash: string | null;
  failureReason: string | null;
  createdBlock: number;
  createdTx: string;
  createdAt: number;
  updatedBlock: number;
  updatedAt: number;
  timeline?: TimelineEntry[];
  iexec?: IexecInfo | null;
}

export interface DevAccount {
  index: number;
  address: `0x${string}`;
  privateKey: `0x${string}`;
  role: string;
}

export interface Session {
  address: string;
  chainId: number;
}

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
  network: () => request<NetworkInfo>("/api/network"),
  services: () => request<Service[]>("/api/services"),
  task: (id: number) => request<Task>(`/api/tasks/${id}`),
  myTasks: () => request<Task[]>("/api/me/tasks"),
  devAccounts: () => request<DevAccount[]>("/api/dev/accounts"),
  simulate: (tx: { from: string; to: string; data: string; value?: string }) =>
    request<{ ok: boolean }>("/api/tx/simulate", json("POST", tx)),
  upload: (body: Blob) =>
    request<{ cid: string; size?: number }>("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    }),
  nonce: () => request<{ nonce: string }>("/api/auth/nonce"),
  verify: (message: string, signature: string) => request<Session>("/api/auth/verify", json("POST", { message, signature })),
  session: () => request<Session>("/api/auth/session"),
  logout: () => request<void>("/api/auth/logout", { method: "POST" }),
};

/// The URL of a stored object; `download` makes it an attachment with that file name.
export function ipfsUrl(cid: string, download?: string): string {
  const base = `/ipfs/${encodeURIComponent(cid)}`;
  return download ? `${base}?download=${encodeURIComponent(download)}` : base;
}
