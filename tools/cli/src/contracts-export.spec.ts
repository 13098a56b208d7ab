import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { generateCatalog, PUBLIC_EVENTS } from '@arcwatch/contracts';
import { REPO_ROOT } from '@arcwatch/testing';
import { EVENTS_DOC_VERSION } from './contracts-export.command';

const DOCS = path.join(REPO_ROOT, 'docs/events');

describe('the public event catalogue in docs/events', () => {
  const generated = generateCatalog(PUBLIC_EVENTS, EVENTS_DOC_VERSION);

  it('is what the contracts generate today (run `npm run docs:events` after changing an event)', () => {
    expect(JSON.parse(readFileSync(path.join(DOCS, 'asyncapi.json'), 'utf8'))).toEqual(generated.asyncapi);
    const onDisk = readdirSync(path.join(DOCS, 'schemas'))
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    expect(onDisk).toEqual(Object.keys(generated.schemas).sort());
    for (const f of onDisk)
      expect([f, JSON.parse(readFileSync(path.join(DOCS, 'schemas', f), 'utf8'))]).toEqual([f, generated.schemas[f]]);
  });

  it('lists every public event with a channel, a message and publish and consume operations', () => {
    const api = generated.asyncapi as {
      channels: Record<string, { address: string }>;
      operations: Record<string, unknown>;
      components: { messages: Record<string, { name: string }> };
    };
    expect(
      Object.values(api.components.messages)
        .map((m) => m.name)
        .sort(),
    ).toEqual(PUBLIC_EVENTS.map((e) => e.type).sort());
    expect(Object.keys(api.operations)).toHaveLength(PUBLIC_EVENTS.length * 2);
    expect(new Set(Object.values(api.channels).map((c) => c.address))).toEqual(
      new Set(PUBLIC_EVENTS.map((e) => e.subject)),
    );
  });

  it('validates as AsyncAPI 3 with @asyncapi/parser, schemas resolved from the files', async () => {
    const file = path.join(DOCS, 'asyncapi.json');
    const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'), { source: file });
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.allMessages().length).toBe(PUBLIC_EVENTS.length);
  });
});
