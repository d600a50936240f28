// Bundles src/widget.js, src/board.js and their css into ../jobs_widgets/static/.
//   node build.mjs          minified production build
//   node build.mjs --watch  rebuild on change, inline sourcemaps
import * as esbuild from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../jobs_widgets/static");
const watch = process.argv.includes("--watch");

mkdirSync(outdir, { recursive: true });

/** @type {import("esbuild").BuildOptions} */
const common = {
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  target: "es2020",
  logLevel: "info",
  legalComments: "none",
};

const builds = [
  { ...common, entryPoints: [resolve(here, "src/widget.js")], outfile: resolve(outdir, "widget.js"), format: "esm" },
  { ...common, entryPoints: [resolve(here, "src/widget.css")], outfile: resolve(outdir, "widget.css") },
  { ...common, entryPoints: [resolve(here, "src/board.js")], outfile: resolve(outdir, "board.js"), format: "esm" },
  { ...common, entryPoints: [resolve(here, "src/board.css")], outfile: resolve(outdir, "board.css") },
];

if (watch) {
  const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((ctx) => ctx.watch()));
  console.log(`watching src/ -> ${outdir}`);
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
