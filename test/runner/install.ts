// Installs the test host (Node 24 + code-server, see codeserver.ts) once, before runners that need it
// start side by side. Usage: node out/test/runner/install.js
import { ensureCodeServer } from './codeserver';

try {
  const install = ensureCodeServer();
  console.log(`Test host: code-server ${install.version}.`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
