// Types of gen.mjs for vite.config.ts.
/// Writes src/generated/; answers the names of the files whose text changed.
export function generate(): Promise<string[]>;
/// Every file generation reads.
export function inputs(): string[];
