/**
 * Editing rule files over NATS request/reply (what the console's editor sends): a file with
 * mistakes is refused with each problem's line, column and field and nothing is written; a good
 * one is written and in force at once, and an alert that was pending stays pending with its
 * start time.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configFileSubjects, type ApplyConfigFileReplyV1, type ConfigFilesReplyV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { authHeaders, createTestDatabase, testNamespace, TestClock, type TestDatabase } from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { testConfig, tearDown } from '../testing/anomaly-test-kit';
import { RulesService } from './rules.service';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const RULES = [
  'groups:',
  '  - name: gpu',
  '    interval: 10s',
  '    rules:',
  '      - alert: GpuHot',
  '        expr: gpu_temp > 90',
  '        for: 1m',
  '',
].join('\n');

describe('anomaly: rule files edited over NATS request/reply', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-edit-'));
  const ruleFile = path.join(dir, 'gpu.rules.yml');
  writeFileSync(ruleFile, RULES);
  const subjects = configFileSubjects('anomaly');

  const ask = async <T>(subject: string, body: unknown): Promise<T> =>
    (await bus.nc.request(bus.naming.toWire(subject), JSON.stringify(body), { timeout: 10_000 })).json<T>();
  const apply = (text: string, file = ruleFile) =>
    ask<ApplyConfigFileReplyV1>(subjects.apply, { file, text, actor: 'test-editor' });
  const rulesApi = async () =>
    (
      (
        await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/api/v1/rules', headers: authHeaders() })
      ).json() as {
        data: {
          groups: Array<{ rules: Array<{ name: string; state?: string; alerts?: Array<{ activeAt: string }> }> }>;
        };
      }
    ).data.groups.flatMap((g) => g.rules);

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-edit-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: ruleFile }),
      clock: new TestClock(T0),
    });
    await app.init();
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('reads the rule files it loads', async () => {
    const reply = await ask<ConfigFilesReplyV1>(subjects.read, {});
    expect(reply.files).toEqual([{ kind: 'rules', file: ruleFile, text: RULES }]);
  });

  it('refuses broken YAML and invalid rules with line, column and field, and writes nothing', async () => {
    const badYaml = await apply('groups:\n  - name: gpu\n    rules: [\n');
    expect(badYaml.ok).toBe(false);
    if (badYaml.ok) return;
    expect(badYaml.errors[0]).toMatchObject({ file: ruleFile, field: '(yaml)' });
    expect(badYaml.errors[0].line).toBeGreaterThanOrEqual(3);

    // Line 7 of the file as sent: a duration that is not one.
    const badFor = await apply(RULES.replace('for: 1m', 'for: soon'));
    expect(badFor.ok).toBe(false);
    if (badFor.ok) return;
    expect(badFor.errors.map((e) => [e.line, e.column, e.field])).toEqual([[7, 14, 'groups[0].rules[0].for']]);
    // Line 6: an expression PromQL cannot parse.
    const badExpr = await apply(RULES.replace('gpu_temp > 90', 'gpu_temp >'));
    expect(badExpr.ok).toBe(false);
    if (badExpr.ok) return;
    expect(badExpr.errors.map((e) => [e.line, e.field])).toEqual([[6, 'groups[0].rules[0].expr']]);
    expect(readFileSync(ruleFile, 'utf8')).toBe(RULES);
    expect((await rulesApi()).map((r) => r.name)).toEqual(['GpuHot']);
  });

  it('refuses a path the service does not load', async () => {
    const reply = await apply(RULES, path.join(dir, 'other.yml'));
    expect(reply).toMatchObject({ ok: false, errors: [{ field: '(file)' }] });
  });

  it('writes a good file and loads it at once; a pending alert keeps its start', async () => {
    const rules = app.get(RulesService);
    rules.ingest([{ labels: { __name__: 'gpu_temp', node: 'n1', gpu: '0' }, t: T0, v: 95 }]);
    await rules.evaluateAll();
    const before = (await rulesApi()).find((r) => r.name === 'GpuHot');
    expect(before?.state).toBe('pending');

    const next = `${RULES}      - alert: GpuCold\n        expr: gpu_temp < 10\n`;
    const reply = await apply(next);
    expect(reply).toEqual({ ok: true, file: ruleFile, summary: '1 group, 2 rules' });
    expect(readFileSync(ruleFile, 'utf8')).toBe(next);
    const after = await rulesApi();
    expect(after.map((r) => r.name)).toEqual(['GpuHot', 'GpuCold']);
    expect(after[0].state).toBe('pending');
    expect(after[0].alerts?.[0].activeAt).toBe(before?.alerts?.[0].activeAt);
  });
});
