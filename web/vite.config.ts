import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { generate, inputs } from "./scripts/gen.mjs";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/// Regenerates src/generated/ (ABIs and API types) when a build, the dev server or a test run
/// starts, and again whenever the dev server sees an artifact or openapi.json change.
function generated(): Plugin {
  const run = () =>
    generate().catch((e: unknown) => {
      throw new Error(`generating src/generated failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  return {
    name: "agora-generated",
    async buildStart() {
      await run();
    },
    configureServer(server) {
      const files = inputs();
      server.watcher.add(files);
      server.watcher.on("change", (file) => {
        if (files.includes(file)) run().catch((e: Error) => server.config.logger.error(e.message));
      });
    },
  };
}
// `vite dev` proxies the API to a running `agora up`; the built app is served by the node itself.
const api = process.env.AGORA_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [generated(), react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { output: { manualChunks: { react: ["react", "react-dom"], viem: ["viem"] } } },
  },
  server: {
    fs: { allow: [repoRoot] },
    proxy: {
      "/api": {
        target: api,
        // the assistant's conversation is a WebSocket (/api/assistant/ws)
        ws: true,
        // Node holds response headers back until the first body byte; an event stream's first
        // byte may be a heartbeat 15 s away, so send its headers at once (EventSource opens then).
        configure: (proxy) =>
          proxy.on("proxyRes", (proxyRes, _req, res) => {
            if (String(proxyRes.headers["content-type"]).startsWith("text/event-stream")) {
              res.on("pipe", () => res.flushHeaders());
            }
          }),
      },
      "/ipfs": { target: api },
    },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
