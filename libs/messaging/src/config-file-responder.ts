import type { Msg, Subscription } from '@nats-io/nats-core';
import {
  applyConfigFileRequestV1Schema,
  configFileSubjects,
  formatZodError,
  type ApplyConfigFileReplyV1,
  type ConfigFileService,
  type ConfigFileV1,
} from '@arcwatch/contracts';
import { ConfigFileError } from '@arcwatch/config-files';
import type { EventBus } from './event-bus';
import type { MessagingLogger } from './logger';

/** What a service that owns configuration files tells the responder. */
export interface ConfigFileOwner {
  /** The files the service loads, with their current text. */
  files(): ConfigFileV1[];
  /**
   * Validates `text` as `file` with the checks the service runs at start (throwing ConfigFileError
   * with every problem, before anything is written), then writes it atomically and reloads.
   * Resolves with a short summary of what is now in force.
   */
  apply(file: string, text: string): Promise<string>;
}

/**
 * Serves `aw.query.<service>.config-files` and `aw.cmd.<service>.config-files.apply` over core
 * NATS request/reply (queue group `<service>`, so one replica answers). Applies are serialised:
 * two editors saving at once are validated and written one after the other.
 */
export function serveConfigFiles(
  bus: EventBus,
  service: ConfigFileService,
  owner: ConfigFileOwner,
  logger: MessagingLogger,
): Subscription[] {
  const subjects = configFileSubjects(service);
  let chain: Promise<unknown> = Promise.resolve();
  const respond = (msg: Msg, body: unknown) => {
    if (msg.reply) msg.respond(JSON.stringify(body));
  };
  const read = bus.nc.subscribe(bus.naming.toWire(subjects.read), {
    queue: service,
    callback: (err, msg) => {
      if (err) return;
      try {
        respond(msg, { files: owner.files() });
      } catch (e) {
        respond(msg, { error: (e as Error).message });
      }
    },
  });
  const apply = bus.nc.subscribe(bus.naming.toWire(subjects.apply), {
    queue: service,
    callback: (err, msg) => {
      if (err) return;
      // A failed answer must not stop the applies queued behind it.
      chain = chain
        .then(async () => respond(msg, await applyOne(owner, msg, logger)))
        .catch((e: unknown) => logger.error({ err: e }, 'configuration apply not answered'));
    },
  });
  return [read, apply];
}

async function applyOne(owner: ConfigFileOwner, msg: Msg, logger: MessagingLogger): Promise<ApplyConfigFileReplyV1> {
  let body: unknown;
  try {
    body = msg.json<unknown>();
  } catch {
    return { ok: false, errors: [{ file: '(request)', line: 0, column: 0, field: '(json)', message: 'not JSON' }] };
  }
  const req = applyConfigFileRequestV1Schema.safeParse(body);
  if (!req.success)
    return {
      ok: false,
      errors: [{ file: '(request)', line: 0, column: 0, field: '(request)', message: formatZodError(req.error) }],
    };
  const { file, text, actor } = req.data;
  if (!owner.files().some((f) => f.file === file))
    return {
      ok: false,
      errors: [{ file, line: 0, column: 0, field: '(file)', message: 'not a configuration file this service loads' }],
    };
  try {
    const summary = await owner.apply(file, text);
    logger.info({ file, actor }, `configuration file applied: ${summary}`);
    return { ok: true, file, summary };
  } catch (e) {
    if (e instanceof ConfigFileError) return { ok: false, errors: e.issues };
    logger.error({ err: e, file, actor }, 'configuration file not applied');
    return { ok: false, errors: [{ file, line: 0, column: 0, field: '(file)', message: (e as Error).message }] };
  }
}
