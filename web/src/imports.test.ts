/// <reference types="node" />
// The page's modules import each other without a cycle: components take their types and helpers
// from lib/ and hooks/, never from App.tsx or from one another in both directions.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findCycles, relativeImports } from "./lib/imports";

const SRC = path.dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [full] : [];
  });
}

function resolve(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts"), path.join(base, "index.tsx")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

describe("module graph", () => {
  it("finds cycles, type-only imports included", () => {
    expect(relativeImports('import type { A } from "../App";\nexport { b } from "./b";\nimport "./c.css";')).toEqual([
      "../App",
      "./b",
      "./c.css",
    ]);
    const graph = new Map([
      ["App", ["Header", "lib"]],
      ["Header", ["App"]],
      ["lib", []],
      ["Buy", ["Tasks"]],
      ["Tasks", ["Buy"]],
    ]);
    expect(findCycles(graph)).toEqual([
      ["App", "Header"],
      ["Buy", "Tasks"],
    ]);
    expect(findCycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", []]]))).toEqual([]);
  });

  it("has no cycle in src/", () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(10);
    const graph = new Map<string, string[]>();
    for (const file of files) {
      const deps = relativeImports(readFileSync(file, "utf8"))
        .map((spec) => resolve(file, spec))
        .filter((f): f is string => f !== null && /\.tsx?$/.test(f));
      graph.set(path.relative(SRC, file), deps.map((d) => path.relative(SRC, d)));
    }
    expect(graph.get("App.tsx")).toContain("components/Header.tsx");
    expect(findCycles(graph)).toEqual([]);
  });
});
