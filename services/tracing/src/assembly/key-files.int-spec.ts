/**
 * Editing the API-key mapping over NATS request/reply (what the console's editor sends): a file
 * with a bad hash or a duplicate is refused with its line and field and nothing is written; a good
 * one is written and is what ingest and assembly look keys up in from then on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  configFileSubjects,
  hashApiKey,
  type ApplyConfigFileReplyV1,
  type ConfigFilesReplyV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import type { KeyDirectory } from '@arcwatch/request-assembly';
import { createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createTracingApp } from '../app';
import { testConfig } from '../testing/tracing-test-kit';
import { KEY_DIRECTORY } from './key-directory.provider';

const SALT = 'integration-test-salt';
const acme = hashApiKey('sk-acme', SALT);
const globex = hashApiKey('sk-globex', SALT);
const keys = (...entries: Array<[string, string]>) =>
  ['apiKeys:', ...entries.flatMap(([hash, tenant]) => [`  - keyHash: ${hash}`, `    tenant: ${tenant}`]), ''].join(
    '\n',
  );

describe('tracing: API-key mapping edited over NATS request/reply', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-tracing-keys-'));
  const file = path.join(dir, 'api-keys.yaml');
  const subjects = configFileSubjects('tracing');

  const ask = async <T>(subject: string, body: unknown): Promise<T> =>
    (await bus.nc.request(bus.naming.toWire(subject), JSON.stringify(body), { timeout: 10_000 })).json<T>();
  const apply = (text: string) => ask<ApplyConfigFileReplyV1>(subjects.apply, { file, text, actor: 'test-editor' });
  const owner = (hash: string) => app.get<KeyDirectory>(KEY_DIRECTORY)(hash)?.tenant;

  beforeAll(async () => {
    db = await createTestDatabase();
    writeFileSync(file, keys([acme, 'acme']));
    app = await createTracingApp({
      config: testConfig(db.url, ns, { TRACING_API_KEYS_FILE: file }),
      disableWorkerTimer: true,
    });
    await app.init();
    bus = await EventBus.connect({ name: 'tracing-keys-test', namespace: ns });
  });
  afterAll(async () => {
    await app?.close();
    for (const key of ['requests', 'metrics', 'deadLetter'] as const)
      await bus?.jsm.streams.delete(bus.streamName(key)).catch(() => false);
    await bus?.drain();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the mapping file', async () => {
    expect(await ask<ConfigFilesReplyV1>(subjects.read, {})).toEqual({
      files: [{ kind: 'api-keys', file, text: keys([acme, 'acme']) }],
    });
  });

  it('refuses a key that is not a hash and a duplicate, with their lines, and writes nothing', async () => {
    const reply = await apply(keys([acme, 'acme'], ['sk-plain-key', 'globex'], [acme, 'initech']));
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    // Line 4 holds the plain key; the duplicate hash is checked once every entry parses.
    expect(reply.errors.map((e) => [e.line, e.field])).toEqual([[4, 'apiKeys[1].keyHash']]);
    const dup = await apply(keys([acme, 'acme'], [acme, 'initech']));
    expect(dup).toMatchObject({ ok: false, errors: [{ line: 4, field: 'apiKeys[1].keyHash' }] });
    expect(readFileSync(file, 'utf8')).toBe(keys([acme, 'acme']));
    expect(owner(globex)).toBeUndefined();
  });

  it('writes a good mapping and looks keys up in it at once', async () => {
    const reply = await apply(keys([acme, 'acme'], [globex, 'globex']));
    expect(reply).toEqual({ ok: true, file, summary: '2 API keys' });
    expect(readFileSync(file, 'utf8')).toBe(keys([acme, 'acme'], [globex, 'globex']));
    expect([owner(acme), owner(globex)]).toEqual(['acme', 'globex']);
  });
});
