import { setFlagsFromString } from 'node:v8';

/**
 * V8's optimising compilers (Maglev, TurboFan) off for the deployed agent, unless its command line
 * says otherwise (`node --turbofan --maglev dist/agent/agent.cjs`). The agent's work once a second
 * is too little for them to pay back: without them the process touches about 8 MiB less of the
 * node binary, and its CPU did not rise (docs/decisions/0006-agent-runtime.md). NODE_OPTIONS
 * cannot carry these flags, so main.ts imports this module first, before any other code has run.
 */
if (!process.execArgv.some((a) => /^--(no-)?(opt|turbofan|maglev)$/.test(a)))
  setFlagsFromString('--no-opt --no-maglev');
