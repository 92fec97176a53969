// The module graph of the page's sources, for the test that keeps it free of cycles (type-only
// imports count: a cycle of types is still two modules that must change together).

/// Relative specifiers a module imports or re-exports (`import … from "./x"`, `export … from`,
/// `import "./x"`, `import("./x")`).
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

/// Every cycle in `graph` (module → modules it imports), each once, starting at its first module in
/// sorted order.
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(" → "), canonical);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}
