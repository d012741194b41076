import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const here = import.meta.dirname;

/**
 * bundlePage writes the page into `outdir`: index.html and app.js, one ES
 * module bundling the page's TypeScript with Connect-Web and the client
 * package's descriptors, for current browsers.
 */
export async function bundlePage(outdir: string): Promise<void> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(here, "src/main.ts")],
    outfile: path.join(outdir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    logLevel: "warning",
  });
  await copyFile(path.join(here, "index.html"), path.join(outdir, "index.html"));
}

// `npm run build -w examples/web`: the page into examples/web/dist.
if (process.argv[1] === import.meta.filename) await bundlePage(path.join(here, "dist"));
