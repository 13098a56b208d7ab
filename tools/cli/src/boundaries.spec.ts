import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';

/**
 * Probe files linted with the project's own configuration: each import that crosses a boundary
 * must be refused, including from a service folder that does not exist yet.
 */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  // The eslint CLI, as `npm test` runs it (its config loader needs a real ES module loader).
  const r = spawnSync(
    path.join(REPO_ROOT, 'node_modules/.bin/eslint'),
    ['--format', 'json', '--stdin', '--stdin-filename', path.join(REPO_ROOT, file)],
    {
      cwd: REPO_ROOT,
      input: code,
      encoding: 'utf8',
    },
  );
  const [result] = JSON.parse(r.stdout) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
  return result.messages.filter((m) => m.ruleId === 'arcwatch/boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it('refuse a service importing another service, by package name or by relative path', async () => {
    expect(
      await boundaryErrors(
        'services/tracing/src/probe.ts',
        "import { createCollectorApp } from '@arcwatch/service-collector';\nexport { createCollectorApp };\n",
      ),
    ).toEqual(['services may import libs only: services/tracing imports services/collector']);
    expect(
      await boundaryErrors('services/tracing/src/a/probe.ts', "export * from '../../../collector/src/config';\n"),
    ).toEqual(['services/tracing reaches into services/collector by relative path: import it by its package name']);
  });

  it('cover a service folder created later, with no change to the lint configuration', async () => {
    expect(
      await boundaryErrors(
        'services/brand-new/src/probe.ts',
        "import '@arcwatch/service-tracing';\nimport '../../billing/src/x';\n",
      ),
    ).toHaveLength(2);
  });

  it('refuse libs importing services or tools, and tools importing services', async () => {
    expect(await boundaryErrors('libs/promql/src/probe.ts', "import '@arcwatch/service-tracing';\n")).toEqual([
      'libs may import libs only: libs/promql imports services/tracing',
    ]);
    expect(await boundaryErrors('libs/promql/src/probe.ts', "import '@arcwatch/cli';\n")).toEqual([
      'libs may import libs only: libs/promql imports tools/cli',
    ]);
    expect(await boundaryErrors('tools/cli/src/probe.ts', "import '@arcwatch/service-tracing';\n")).toEqual([
      'tools may import libs only: tools/cli imports services/tracing',
    ]);
    expect(await boundaryErrors('libs/promql/src/probe.ts', "import '../../storage/src/pool';\n")).toHaveLength(1);
  });

  it('let services, libs and tools import libs by package name, and their own files by path', async () => {
    expect(
      await boundaryErrors(
        'services/tracing/src/a/probe.ts',
        "import '@arcwatch/contracts';\nimport '../config';\nimport 'zod';\n",
      ),
    ).toEqual([]);
    expect(await boundaryErrors('tools/cli/src/probe.ts', "import '@arcwatch/request-assembly';\n")).toEqual([]);
  });
});
