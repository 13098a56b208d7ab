#!/usr/bin/env node
'use strict';
require('../../register.js');
require('../src/main.ts')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`arcwatch: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  });
