import { ConfigFileError } from '@arcwatch/config-files';
import { loadAgentEnv } from '../config';
import { checkAgentFile } from './agent-file.schema';
import { parseAgentFile } from './agent-settings.loader';

function problemsOf(yaml: string): string[] {
  try {
    parseAgentFile(yaml, 'agent.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigFileError);
    return (e as ConfigFileError).issues.map((i) => `${i.line}:${i.field}: ${i.message}`);
  }
  return [];
}

describe('the agent file, checked by hand as a strict schema would', () => {
  it('fills every default and keeps what the file says', () => {
    const r = checkAgentFile({
      interval: '500ms',
      logs: [{ name: 'vllm', kind: 'engine', engine: 'vllm', path: '/l', devices: ['GPU-1'], replica: '2' }],
      scrape: [{ job: 'vllm', url: 'http://127.0.0.1:8000/metrics' }],
    });
    expect(r).toEqual({
      ok: true,
      value: {
        cluster: 'default',
        interval: '500ms',
        nvidiaSmi: {
          path: 'nvidia-smi',
          mode: 'loop',
          timeoutMs: 5000,
          xmlEveryMs: 30_000,
          nvlink: true,
          nvlinkEveryMs: 30_000,
        },
        timeSliceReplicas: 1,
        scrape: [{ job: 'vllm', url: 'http://127.0.0.1:8000/metrics', timeoutMs: 2000 }],
        logs: [
          {
            name: 'vllm',
            kind: 'engine',
            engine: 'vllm',
            path: '/l',
            devices: ['GPU-1'],
            replica: '2',
            fromStart: false,
          },
        ],
        spool: { dir: '/var/lib/arcwatch-agent/spool', maxBytes: 268435456 },
      },
    });
  });

  it('reports every problem at once, each at its line: unknown fields, types, ranges, enums, missing fields', () => {
    const yaml = [
      'cluster: 3',
      'intervl: 1s',
      'interval: soon',
      'nvidiaSmi: { mode: daemon, xmlEveryMs: -2, nvlink: "yes" }',
      'logs:',
      '  - { name: k, path: /var/log/kern.log }',
      'timeSliceReplicas: 0.5',
      'spool: []',
    ].join('\n');
    expect(problemsOf(yaml).sort()).toEqual(
      [
        '1:cluster: expected text, got number',
        '2:intervl: unknown field',
        '3:interval: expected a duration such as 500ms, 1s or 1m, got "soon"',
        '4:nvidiaSmi.mode: expected one of loop, spawn, got "daemon"',
        '4:nvidiaSmi.xmlEveryMs: must be at least -1, got -2',
        '4:nvidiaSmi.nvlink: expected true or false, got string',
        '6:logs[0].kind: required',
        '7:timeSliceReplicas: expected a whole number, got number',
        '8:spool: expected a map, got a list',
      ].sort(),
    );
  });

  it('reads an empty file as every default, and AGENT_* variables with their names in errors', () => {
    expect(problemsOf('')).toEqual([]);
    expect(() => loadAgentEnv({ AGENT_PORT: 'http', AGENT_INTERVAL_MS: '10', LOG_LEVEL: 'loud' })).toThrow(
      'invalid environment: LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"; AGENT_PORT: expected a whole number, got "http"; AGENT_INTERVAL_MS: expected a number of at least 50, got 10',
    );
    expect(loadAgentEnv({ AGENT_PORT: '', AGENT_INTERVAL_MS: '250' })).toMatchObject({ port: 9410, intervalMs: 250 });
  });
});
