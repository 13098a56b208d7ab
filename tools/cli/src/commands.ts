// Every subcommand, one line each: `registerCommand(group, name, () => import(...).then(m => m.command))`.
import { registerCommand } from './main';
import { command as traceAssemble } from './trace-assemble.command';
import { command as traceHashKey } from './trace-hash-key.command';
import { command as promqlTest } from './promql-test.command';
import { command as expositionValidate } from './exposition-validate.command';
export {};
registerCommand('trace', 'assemble', async () => traceAssemble);
registerCommand('trace', 'hash-key', async () => traceHashKey);
registerCommand('promql', 'test', async () => promqlTest);
registerCommand('exposition', 'validate', async () => expositionValidate);
