// Bundles every target with esbuild: extension host, CLI, validation worker, webview, tests, benchmarks.
import * as esbuild from 'esbuild';
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  mkdirSync,
  cpSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

function walk(dir, pred) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out;
}

// The BPE ranks of the tokenizer (~2 MB) ship once, shared at run time by the extension host, the CLI
// and the workers instead of being bundled into each of them: dist/tokenizer.js is gpt-tokenizer's
// own encoding API (GptEncoding) over its own o200k_base ranks, which are written at build time as
// JSON (dist/o200k_base.json, the library's array as it is). Parsed as JSON rather than compiled as
// the library's 2 MB array literal, they cost each worker thread about 20 MB less resident memory
// and load faster; test/unit/stats/tokenizerBundle.test.ts holds the counts equal to the library's.
const TOKENIZER_BUNDLE = `
const { GptEncoding } = require('gpt-tokenizer/GptEncoding');
const ranks = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, 'o200k_base.json'), 'utf8'));
module.exports = GptEncoding.getEncodingApi('o200k_base', () => ranks);
`;
function writeTokenizerRanks() {
  const require = createRequire(import.meta.url);
  const ranks = require('gpt-tokenizer/bpeRanks/o200k_base').default;
  writeFileSync(join(root, 'dist/o200k_base.json'), JSON.stringify(ranks));
}
const sharedTokenizer = {
  name: 'shared-tokenizer',
  setup(build) {
    build.onResolve({ filter: /^gpt-tokenizer\/encoding\/o200k_base$/ }, () => ({
      path: './tokenizer.js',
      external: true,
    }));
  },
};

// The Parquet libraries ship once, in dist/parquet.js, loaded on first use by the Parquet container
// (its lazy require of ./parquetLib becomes a require of that file), never on activation.
const PARQUET_LIB = 'src/core/store/containers/parquetLib.ts';
const sharedParquet = {
  name: 'shared-parquet',
  setup(build) {
    build.onResolve({ filter: /\/parquetLib$/ }, () => ({ path: './parquet.js', external: true }));
  },
};

// The chat-template engine and the Hugging Face tokenizer ship once each too, loaded on first use.
const CHAT_LIBS = { '@huggingface/jinja': './hf-jinja.js', '@huggingface/tokenizers': './hf-tokenizers.js' };
const sharedChatLibs = {
  name: 'shared-chat-libs',
  setup(build) {
    build.onResolve({ filter: /^@huggingface\/(jinja|tokenizers)$/ }, (a) => ({
      path: CHAT_LIBS[a.path],
      external: true,
    }));
  },
};

// The built-in format schemas (schemas/*.schema.json) are compiled by ajv at build time into one
// CommonJS module of standalone validators (ajv/dist/standalone), one export per format id. The ajv
// options must stay those of newAjv in src/core/validate/schemas.ts.
function standaloneValidators(root) {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020').default;
  const standaloneCode = require('ajv/dist/standalone').default;
  const addFormats = require('ajv-formats').default;
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: false,
    allowUnionTypes: true,
    code: { source: true },
  });
  addFormats(ajv);
  const dir = join(root, 'schemas');
  const exports = {};
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.schema.json'))
    .sort()) {
    const schema = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    ajv.addSchema(schema);
    exports[name.replace(/\.schema\.json$/, '')] = schema.$id;
  }
  return standaloneCode(ajv, exports);
}

// The built-in format validators are compiled at build time (ajv standalone code, above)
// and ship once, in dist/validators.js, loaded on first use by src/core/validate/schemas.ts (its lazy
// require of ./builtinValidators). Test bundles get the generated module inline.
const SCHEMA_FILES = walk(join(root, 'schemas'), (p) => p.endsWith('.schema.json'));
const builtinValidators = (shared) => ({
  name: 'builtin-validators',
  setup(build) {
    build.onResolve({ filter: /(^|\/)builtinValidators$/ }, (a) =>
      shared && a.kind !== 'entry-point'
        ? { path: './validators.js', external: true }
        : { path: 'builtinValidators', namespace: 'builtin-validators' },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-validators' }, () => ({
      contents: standaloneValidators(root),
      loader: 'js',
      resolveDir: root,
      watchFiles: SCHEMA_FILES,
    }));
  },
});
const inlineValidators = builtinValidators(false);
const sharedValidators = builtinValidators(true);

// WebAssembly text (src/**/*.wat) is assembled with wabt and bundled as its bytes (a Uint8Array).
const wat = {
  name: 'wat',
  setup(build) {
    build.onLoad({ filter: /\.wat$/ }, async (a) => {
      const wabt = await (await import('wabt')).default();
      const m = wabt.parseWat(a.path, readFileSync(a.path, 'utf8'), { simd: true, bulk_memory: true });
      try {
        m.validate();
        return { contents: m.toBinary({}).buffer, loader: 'binary' };
      } finally {
        m.destroy();
      }
    });
  },
};

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  external: ['vscode'],
  logLevel: 'warning',
  absWorkingDir: root,
  plugins: [wat, inlineValidators],
};

const configs = [
  {
    ...node,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    plugins: [wat, sharedTokenizer, sharedParquet, sharedChatLibs, sharedValidators],
  },
  // The CLI: dist/cli.js runs dist/cli-main.js from V8's code cache (src/cli/launch.ts).
  {
    ...node,
    entryPoints: { cli: 'src/cli/launch.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...node,
    entryPoints: { 'cli-main': 'src/cli/main.ts' },
    outdir: 'dist',
    plugins: [wat, sharedTokenizer, sharedParquet, sharedChatLibs, sharedValidators],
  },
  { ...node, entryPoints: { parquet: PARQUET_LIB }, outdir: 'dist' },
  { ...node, entryPoints: { validators: 'builtinValidators' }, outdir: 'dist' },
  ...Object.entries(CHAT_LIBS).map(([lib, file]) => ({
    ...node,
    stdin: { contents: `module.exports = require('${lib}');`, resolveDir: root, loader: 'js' },
    outfile: join('dist', file),
  })),
  {
    ...node,
    stdin: { contents: TOKENIZER_BUNDLE, resolveDir: root, loader: 'js' },
    outfile: 'dist/tokenizer.js',
  },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    entryPoints: { webview: 'webview/main.ts', overview: 'webview/overview/main.ts' },
    outdir: 'dist',
    loader: { '.css': 'text' },
    logLevel: 'warning',
    absWorkingDir: root,
  },
];

// Worker entry points live next to the code that starts them: src/**/*.worker.ts -> dist/<name>.worker.js
const workers = walk(join(root, 'src'), (p) => p.endsWith('.worker.ts'));
if (workers.length) {
  configs.push({
    ...node,
    entryPoints: Object.fromEntries(
      workers.map((w) => [relative(root, w).split('/').pop().replace(/\.ts$/, ''), w]),
    ),
    outdir: 'dist',
    plugins: [wat, sharedTokenizer, sharedParquet, sharedChatLibs, sharedValidators],
  });
}

if (!production) {
  // Tests and benchmarks: one bundle per file, same relative layout under out/.
  const testEntries = walk(join(root, 'test'), (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
  const benchEntries = walk(join(root, 'bench'), (p) => p.endsWith('.ts'));
  const entries = [...testEntries, ...benchEntries];
  if (entries.length) {
    configs.push({
      ...node,
      entryPoints: entries.map((p) => relative(root, p)),
      outbase: '.',
      outdir: 'out',
      external: ['vscode', 'mocha', 'playwright-core'],
    });
  }
}

mkdirSync(join(root, 'dist'), { recursive: true });
writeTokenizerRanks();
if (existsSync(join(root, 'node_modules/@vscode/codicons/dist'))) {
  cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.css'), join(root, 'dist/codicon.css'));
  cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.ttf'), join(root, 'dist/codicon.ttf'));
}

if (watch) {
  for (const c of configs) (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}

// Bundles of deleted tests must not run: drop every out/ file whose source is gone.
for (const file of walk(join(root, 'out'), (p) => /\.js(\.map)?$/.test(p))) {
  const source = join(root, relative(join(root, 'out'), file).replace(/\.js(\.map)?$/, '.ts'));
  if (!existsSync(source)) rmSync(file, { force: true });
}
