'use strict';
// Where the native pm2 binary of this machine lives: in the platform package npm installed
// as an optional dependency (@pm2-rs/<platform>-<arch>), found the way Node finds modules.
const path = require('path');

const PACKAGES = {
  'linux-x64': '@pm2-rs/linux-x64',
  'linux-arm64': '@pm2-rs/linux-arm64',
};

function packageName() {
  const key = `${process.platform}-${process.arch}`;
  const name = PACKAGES[key];
  if (!name) {
    throw new Error(`pm2-rs has no prebuilt binary for ${key}; build it with cargo (see the README)`);
  }
  return name;
}

function binaryPath() {
  const name = packageName();
  try {
    return require.resolve(`${name}/bin/pm2`, { paths: [path.join(__dirname, '..')] });
  } catch (e) {
    throw new Error(`${name} is not installed (it is an optional dependency of pm2-rs; ` +
      `reinstall without --omit=optional / --no-optional)`);
  }
}

module.exports = { binaryPath, packageName };
