import { z } from 'zod';
import { STREAMS } from '../subjects';
import type { PublicEvent } from './public-event';

/**
 * The AsyncAPI 3 document and JSON Schemas of the public events, generated from the catalogue.
 * Billing systems and notification integrations read these files, not our code; a test keeps
 * the copies in docs/events/ equal to what this produces.
 */
export interface GeneratedCatalog {
  asyncapi: Record<string, unknown>;
  /** File name (`<type>.schema.json`) → JSON Schema of the whole CloudEvent. */
  schemas: Record<string, Record<string, unknown>>;
}

const ENVELOPE_DOC = 'CloudEvents 1.0, structured JSON mode.';

export function schemaFileName(type: string): string {
  return `${type}.schema.json`;
}

/** The JSON Schema of the full CloudEvent of one public event (envelope plus its data). */
export function eventJsonSchema(e: PublicEvent): Record<string, unknown> {
  const data = z.toJSONSchema(e.schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete data.$schema;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://arcwatch.io/schemas/events/${schemaFileName(e.type)}`,
    title: e.title,
    description: `${e.description} ${ENVELOPE_DOC}`,
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'data'],
    properties: {
      specversion: { const: '1.0' },
      id: { type: 'string', minLength: 1, description: `Also the Nats-Msg-Id. ${e.idPromise}.` },
      source: { type: 'string', minLength: 1, description: 'The publishing service, e.g. arcwatch/billing.' },
      type: { const: e.type },
      time: { type: 'string', format: 'date-time' },
      subject: { type: 'string' },
      datacontenttype: { const: 'application/json' },
      data,
    },
    additionalProperties: false,
  };
}

function messageName(type: string): string {
  return type.replace(/^io\.arcwatch\./, '').replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());
}

function channelId(address: string): string {
  return address
    .replace(/^aw\./, '')
    .replace(/\{([^}]+)\}/g, 'by-$1')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/-$/, '');
}

export function generateCatalog(events: readonly PublicEvent[], version: string): GeneratedCatalog {
  const schemas: GeneratedCatalog['schemas'] = {};
  const messages: Record<string, unknown> = {};
  const channels: Record<
    string,
    {
      address: string;
      description: string;
      parameters: Record<string, unknown>;
      messages: Record<string, unknown>;
      'x-arcwatch-stream': string;
    }
  > = {};
  const operations: Record<string, unknown> = {};
  for (const e of events) {
    const file = schemaFileName(e.type);
    schemas[file] = eventJsonSchema(e);
    const name = messageName(e.type);
    messages[name] = {
      name: e.type,
      title: e.title,
      summary: e.description,
      contentType: 'application/cloudevents+json',
      payload: { schemaFormat: 'application/schema+json;version=draft-07', schema: { $ref: `./schemas/${file}` } },
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': {
            type: 'string',
            description: `Equals the CloudEvent id. ${e.idPromise}; JetStream drops a repeat within its 2-minute window, consumers by id after that.`,
          },
        },
      },
      'x-arcwatch-ordering': e.ordering,
    };
    const id = channelId(e.subject);
    const stream = STREAMS[e.stream];
    const channel = (channels[id] ??= {
      address: e.subject,
      description: `JetStream stream ${stream.name} (subjects ${stream.subjects.join(', ')}); file storage, duplicate window 2 minutes.`,
      parameters: Object.fromEntries(Object.entries(e.subjectTokens ?? {}).map(([k, d]) => [k, { description: d }])),
      messages: {},
      'x-arcwatch-stream': stream.name,
    });
    channel.messages[name] = { $ref: `#/components/messages/${name}` };
    operations[`publish${name[0].toUpperCase()}${name.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${name}` }],
      summary: `Published by ${e.publishers.join(', ')}.`,
    };
    operations[`consume${name[0].toUpperCase()}${name.slice(1)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${name}` }],
      summary: `Consumed by ${e.consumers.join(', ')} (durable JetStream pull consumers, explicit ack after the effect is committed).`,
      bindings: { nats: { bindingVersion: '0.1.0' } },
    };
  }
  const asyncapi = {
    asyncapi: '3.0.0',
    info: {
      title: 'ArcWatch events',
      version,
      description:
        'Every public event of ArcWatch: CloudEvents 1.0 JSON on NATS JetStream. Ids are deterministic where the fact is, sent as Nats-Msg-Id, so a retry or a replay changes nothing. A breaking change is a new version (v2 subject and type) published beside v1 until consumers move.',
    },
    defaultContentType: 'application/cloudevents+json',
    servers: { local: { host: '127.0.0.1:4222', protocol: 'nats', description: 'NATS with JetStream' } },
    channels,
    operations,
    components: { messages },
  };
  return { asyncapi, schemas };
}
