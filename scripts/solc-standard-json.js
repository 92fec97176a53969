#!/usr/bin/env node
// A native-solc stand-in for forge, backed by solcjs (the npm `solc` package).
//
// forge cannot download compilers here, so contracts/foundry.toml points `solc` at this script.
// forge calls it in two ways:
//   solc --version                       -> print the banner forge parses for the version
//   solc [--base-path P] [--include-path P]... [--allow-paths P,...] --standard-json
//                                        -> read standard-JSON on stdin, write the output on stdout
// forge already inlines every source's content in the input; the import callback only matters for
// imports it did not resolve, and looks them up under the base path, the include paths, the
// remappings, node_modules and the contracts directory.
"use strict";

const fs = require("fs");
const path = require("path");

const repoRoot = path.resolve(__dirname, "..");
const contractsDir = path.join(repoRoot, "contracts");
const nodeModules = path.join(repoRoot, "node_modules");
// Resolve `solc` from the repository's node_modules whatever the working directory is.
const solc = require(require.resolve("solc", { paths: [repoRoot] }));

function banner() {
  // solcjs reports e.g. "0.8.30+commit.73712a01.Emscripten.clang"; forge wants a native-looking banner.
  const version = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
  return `solc, the solidity compiler commandline interface\nVersion: ${version}\n`;
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${arg}`);
      return argv[++i];
    };
    if (arg === "--version" || arg === "-v") opts.version = true;
    else if (arg === "--standard-json") opts.standardJson = true;
    else if (arg === "--base-path") opts.basePath = value();
    else if (arg.startsWith("--base-path=")) opts.basePath = arg.slice("--base-path=".length);
    else if (arg === "--include-path") opts.includePaths.push(value());
    else if (arg.startsWith("--include-path=")) opts.includePaths.push(arg.slice("--include-path=".length));
    else if (arg === "--allow-paths") opts.allowPaths.push(...value().split(","));
    else if (arg.startsWith("--allow-paths=")) opts.allowPaths.push(...arg.slice("--allow-paths=".length).split(","));
    // Anything else (e.g. flags a newer forge adds) is ignored: standard JSON carries the settings.
  }
  return opts;
}

function makeFindImports(opts, remappings) {
  const roots = [opts.basePath, ...opts.includePaths, contractsDir, nodeModules, process.cwd()].filter(Boolean);
  return function findImports(importPath) {
    const candidates = [];
    for (const mapping of remappings) {
      const eq = mapping.indexOf("=");
      if (eq < 0) continue;
      // Remappings may carry a context prefix ("ctx:prefix=target"); the context is ignored here.
      const prefix = mapping.slice(0, eq).replace(/^[^:]*:/, "");
      const target = mapping.slice(eq + 1);
      if (prefix && importPath.startsWith(prefix)) candidates.push(target + importPath.slice(prefix.length));
    }
    candidates.push(importPath);
    for (const candidate of candidates) {
      const tries = path.isAbsolute(candidate) ? [candidate] : roots.map((root) => path.resolve(root, candidate));
      for (const file of tries) {
        try {
          return { contents: fs.readFileSync(file, "utf8") };
        } catch (_) {
          // try the next location
        }
      }
    }
    return { error: `File not found: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(banner());
    return;
  }
  const input = fs.readFileSync(0, "utf8");
  let remappings = [];
  try {
    remappings = (JSON.parse(input).settings || {}).remappings || [];
  } catch (_) {
    // solc itself reports malformed input in its JSON output
  }
  const output = solc.compile(input, { import: makeFindImports(opts, remappings) });
  process.stdout.write(output);
}

try {
  main();
} catch (err) {
  process.stderr.write(`solc-standard-json: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}
