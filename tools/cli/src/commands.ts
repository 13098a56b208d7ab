// Every subcommand, one line each: `registerCommand(group, name, () => import(...).then(m => m.command))`.
import { registerCommand } from './main';
import { command as traceAssemble } from './trace-assemble.command';
import { command as traceHashKey } from './trace-hash-key.command';
import { command as promqlTest } from './promql-test.command';
import { command as expositionValidate } from './exposition-validate.command';
import { command as contractsExport } from './contracts-export.command';
import { command as nabScore } from './nab-score.command';
import { command as rulesCheck } from './rules-check.command';
import { command as rulesTest } from './rules-test.command';
export {};
registerCommand('trace', 'assemble', async () => traceAssemble);
registerCommand('trace', 'hash-key', async () => traceHashKey);
registerCommand('promql', 'test', async () => promqlTest);
registerCommand('exposition', 'validate', async () => expositionValidate);
registerCommand('contracts', 'export', async () => contractsExport);
registerCommand('nab', 'score', async () => nabScore);
registerCommand('rules', 'check', async () => rulesCheck);
registerCommand('rules', 'test', async () => rulesTest);
