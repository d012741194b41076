#!/usr/bin/env node
// buf runs this as the protoc-gen-openapi plugin (found on PATH in
// node_modules/.bin, this package being a workspace). The plugin is
// TypeScript: it is compiled first whenever a source is newer than the
// build, with tsc's output on stderr, since stdout carries the plugin's reply.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, "dist/tools/protoc-gen-openapi/src/protoc-gen-openapi.js");
const newest = (dir) => Math.max(...readdirSync(dir).map((name) => statSync(path.join(dir, name)).mtimeMs));
if (!existsSync(entry) || newest(path.join(here, "src")) > statSync(entry).mtimeMs) {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", here], { stdio: ["ignore", 2, 2] });
}
await import(pathToFileURL(entry).href);
