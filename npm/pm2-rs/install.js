'use strict';
// postinstall, local only (no network): replace the JavaScript shims in bin/ with symbolic
// links to the native binary of the platform package, so `pm2` starts in milliseconds and
// `pm2-runtime` is the binary itself as PID 1 (no Node process in between). The binary
// tells the four commands apart by the name it is run as. If anything here fails, the
// shims stay and still work, only slower.
const fs = require('fs');
const path = require('path');
const { binaryPath } = require('./lib/platform');

const COMMANDS = ['pm2', 'pm2-runtime', 'pm2-docker', 'pm2-dev'];

function main() {
  let binary;
  try {
    binary = binaryPath();
  } catch (e) {
    console.warn(`pm2-rs: ${e.message}; keeping the Node.js launchers`);
    return;
  }
  const binDir = path.join(__dirname, 'bin');
  for (const name of COMMANDS) {
    const shim = path.join(binDir, name);
    const tmp = `${shim}.link-${process.pid}`;
    try {
      fs.symlinkSync(path.relative(binDir, binary), tmp);
      fs.renameSync(tmp, shim);
    } catch (e) {
      try { fs.unlinkSync(tmp); } catch (_) { /* nothing to clean */ }
      console.warn(`pm2-rs: keeping the Node.js launcher for ${name}: ${e.message}`);
    }
  }
}

main();
