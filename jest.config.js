// One jest run over every project. Unit specs (*.spec.ts) are pure; integration specs
// (*.int-spec.ts) talk to the real PostgreSQL, NATS and Redis on 127.0.0.1; e2e/ starts every
// service as its own process. Select a tier with --selectProjects unit|integration|e2e.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const transform = { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] };
const roots = ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/tools', '<rootDir>/e2e'];
const common = {
  transform,
  roots,
  // jest's node environment with a plain (not contextified) global: see the file for why.
  testEnvironment: '<rootDir>/tools/jest-environment.js',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  // A global option in jest 30 (per-project values are ignored); unit specs finish far sooner.
  testTimeout: 60000,
  // Test files run in a worker process that is replaced once it holds more than this after a file:
  // in one process (jest's choice on two cores) the whole suite's leftovers reached Node's heap
  // limit and the run died near its end. Setting a limit is also what makes jest use a worker.
  workerIdleMemoryLimit: '1GB',
  // Two workers on two cores: most of the suite's time is spent waiting (services starting,
  // deliveries retried, alerts going through their for: windows), so a second file runs meanwhile.
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'] },
  ],
};
