#!/usr/bin/env node
'use strict';
require('../../register.js');

// Exit only once stdout and stderr have handed everything to the OS: when stdout is a pipe its
// writes are asynchronous, and process.exit() right away would drop what is still queued.
function flushed(stream) {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

async function finish(code) {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

require('../src/main.ts')
  .main(process.argv.slice(2))
  .then(finish)
  .catch((err) => {
    process.stderr.write(`arcwatch: ${err && err.stack ? err.stack : err}\n`);
    return finish(2);
  });
