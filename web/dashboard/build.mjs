// Builds the dashboard page: esbuild bundles src/main.js (and the CSS it imports) into
// <out>/assets/<name>-<hash>.js|css and writes <out>/index.html from src/index.html with those
// names. Prints each file's raw and gzip size and fails when the JS+CSS bundle exceeds the budget
// (150 KB gzipped, issue 12). <out> is emptied first, so it holds exactly the current files: the
// CMake rule (CMakeLists.txt) turns every file in it into the binary's asset table.
//
//   node build.mjs --out DIR [--node-modules DIR] [--max-gzip-kb 150]
//
// --node-modules: where `npm ci` put the packages (the build dir in CMake builds; default
// ./node_modules next to this file).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { out: null, nodeModules: path.join(here, 'node_modules'), maxGzipKb: 150 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) fail(`${a} needs a value`);
    return process.argv[++i];
  };
  if (a === '--out') args.out = path.resolve(next());
  else if (a === '--node-modules') args.nodeModules = path.resolve(next());
  else if (a === '--max-gzip-kb') args.maxGzipKb = Number(next());
  else fail(`unknown argument ${a}`);
}
if (!args.out) fail('--out DIR is required');

function fail(message) {
  console.error(`dashboard build: ${message}`);
  process.exit(1);
}

// esbuild is resolved from --node-modules, so the build dir's packages are used, not whatever
// a parent folder might hold.
const require = createRequire(path.join(args.nodeModules, 'noop.js'));
let esbuild;
try {
  esbuild = require('esbuild');
} catch (e) {
  fail(`cannot load esbuild from ${args.nodeModules} (run npm ci): ${e.message}`);
}

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: 'assets',
  nodePaths: [args.nodeModules],
  legalComments: 'eof',
  charset: 'utf8',
  write: false,
  logLevel: 'warning',
});

fs.rmSync(args.out, { recursive: true, force: true });
fs.mkdirSync(path.join(args.out, 'assets'), { recursive: true });

const written = [];
let js = null;
let css = null;
for (const file of result.outputFiles) {
  const rel = path.relative(here, file.path).split(path.sep).join('/');
  if (!/^assets\/[A-Za-z0-9_.-]+-[A-Z0-9]+\.(js|css)$/.test(rel)) fail(`unexpected output ${rel}`);
  fs.writeFileSync(path.join(args.out, rel), file.contents);
  written.push({ rel, bytes: file.contents });
  if (rel.endsWith('.js')) js = rel;
  else css = rel;
}
if (!js || !css) fail('esbuild wrote no JS or no CSS');

const template = fs.readFileSync(path.join(here, 'src/index.html'), 'utf8');
if (!template.includes('%APP_JS%') || !template.includes('%APP_CSS%')) {
  fail('src/index.html must contain %APP_JS% and %APP_CSS%');
}
const html = template.replace('%APP_JS%', `/${js}`).replace('%APP_CSS%', `/${css}`);
fs.writeFileSync(path.join(args.out, 'index.html'), html);
written.push({ rel: 'index.html', bytes: Buffer.from(html) });

const gz = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;
let rawTotal = 0;
let gzTotal = 0;
for (const { rel, bytes } of written) {
  const g = gz(bytes);
  console.log(`dashboard build: ${rel.padEnd(32)} ${String(bytes.length).padStart(8)} B raw ${String(g).padStart(7)} B gzip`);
  if (rel.startsWith('assets/')) {
    rawTotal += bytes.length;
    gzTotal += g;
  }
}
const kb = (n) => (n / 1024).toFixed(1);
console.log(`dashboard build: JS+CSS bundle ${kb(rawTotal)} KB raw, ${kb(gzTotal)} KB gzip ` +
  `(budget ${args.maxGzipKb} KB gzip)`);
if (gzTotal > args.maxGzipKb * 1024) fail(`the bundle is over budget: ${kb(gzTotal)} KB gzip > ${args.maxGzipKb} KB`);
