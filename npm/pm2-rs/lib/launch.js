'use strict';
// The command shims (bin/pm2, bin/pm2-runtime, ...) until install.js replaces them with
// links to the native binary (it does unless npm ran with --ignore-scripts): run the binary
// under the command's name, pass signals on, and exit as it exits.
const { spawn } = require('child_process');
const { binaryPath } = require('./platform');

module.exports = function launch(name) {
  let binary;
  try {
    binary = binaryPath();
  } catch (e) {
    console.error(`${name}: ${e.message}`);
    process.exit(1);
  }
  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', argv0: name });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (e) => {
    console.error(`${name}: cannot run ${binary}: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code);
    }
  });
};
