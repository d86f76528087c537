#!/usr/bin/env node
// The `leaderboard` command (package.json "bin"): runs the CLI built into dist/ by `npm run build`.
const { existsSync } = require('node:fs');
const path = require('node:path');

const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`leaderboard: the CLI is not built (${main} is missing); run npm run build first\n`);
  // 6: "any other error", the code a CI step should not retry.
  process.exit(6);
}
require(main);
