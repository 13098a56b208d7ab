// Runs TypeScript sources directly: a require hook that compiles each .ts file with swc, using
// the same settings (.swcrc) as the tests, so Nest's decorator metadata survives.
// Usage: node tools/register.js path/to/main.ts [args…]   or   node -r ./tools/register.js …
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.swcrc'), 'utf8'));
delete swcrc.$schema;

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTs(module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const { code } = swc.transformSync(source, { ...swcrc, filename, swcrc: false, configFile: false });
    module._compile(code, filename);
  };
}

if (require.main === module) {
  const entry = process.argv[2];
  if (!entry) {
    process.stderr.write('usage: node tools/register.js FILE.ts [args…]\n');
    process.exit(2);
  }
  process.argv.splice(1, 1);
  process.argv[1] = path.resolve(entry);
  require(process.argv[1]);
}
