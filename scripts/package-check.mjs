// What a .vsix may contain, and a minimal reader of a zip's file list (central directory).

export const MAX_VSIX_BYTES = 4 * 1024 * 1024;

/** File names in a zip archive, read from its central directory. */
export function listZip(buf) {
  // End of central directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory record)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry at byte ${p}`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

const FORBIDDEN = [
  [/\.map$/, 'source map'],
  [/\.tsx?$/, 'TypeScript source'],
  [
    /^extension\/(src|test|out|bench|webview|scripts|examples|node_modules|\.vscode-test|test-artifacts)\//,
    'not shipped',
  ],
  [/(^|\/)\.(git|ci|vscode)(\/|$)/, 'tooling'],
  [/(^|\/)(tsconfig|eslint\.config|\.prettierrc|\.mocharc|\.vscode-test)\b/, 'tooling config'],
  [/\.vsix$/, 'package inside package'],
  // The walkthrough's sample is the one dataset that ships.
  [/^(?!extension\/media\/walkthrough\/sample\.jsonl$).*\.jsonl$/, 'dataset'],
];

const REQUIRED = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/LICENSE.txt',
  // The o200k tokenizer reads its ranks from this file beside it (scripts/build.mjs).
  'extension/dist/tokenizer.js',
  'extension/dist/o200k_base.json',
];

/** Problems with a packaged extension's file list (empty when it ships only what it should). */
export function checkVsix(entries, size) {
  const problems = [];
  for (const e of entries) {
    for (const [re, why] of FORBIDDEN) if (re.test(e)) problems.push(`${e} (${why})`);
  }
  for (const r of REQUIRED) if (!entries.includes(r)) problems.push(`${r} is missing`);
  if (size >= MAX_VSIX_BYTES) problems.push(`size ${size} bytes >= ${MAX_VSIX_BYTES}`);
  return problems;
}
