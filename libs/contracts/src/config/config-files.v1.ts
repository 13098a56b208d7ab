import { z } from 'zod';

/**
 * Editing a service's domain configuration files (rules, routing and escalation policies, prices)
 * and API-key mapping from the console without the console touching another service's files: core NATS
 * request/reply to the service that owns them, one queue group per service. The owner answers
 * `read` with the files it loads and `apply` by validating the new text with the same checks it
 * runs at start, then writing it (temporary file + rename) and reloading; nothing is written when
 * the text has a problem, and the answer lists every problem with its line, column and field.
 */
export const CONFIG_FILE_SERVICES = ['anomaly', 'notifier', 'billing', 'tracing'] as const;
export type ConfigFileService = (typeof CONFIG_FILE_SERVICES)[number];

export const configFileSubjects = (service: ConfigFileService) =>
  ({
    read: `aw.query.${service}.config-files`,
    apply: `aw.cmd.${service}.config-files.apply`,
  }) as const;

export const configFileKindSchema = z.enum(['rules', 'routing', 'escalation', 'prices', 'api-keys']);
export type ConfigFileKind = z.infer<typeof configFileKindSchema>;

export const configFileV1Schema = z.object({
  kind: configFileKindSchema,
  /** The path as the service knows it (its env variable's value); the only paths `apply` accepts. */
  file: z.string().min(1),
  text: z.string(),
});
export type ConfigFileV1 = z.infer<typeof configFileV1Schema>;

export const configFilesReplyV1Schema = z.object({ files: z.array(configFileV1Schema) });
export type ConfigFilesReplyV1 = z.infer<typeof configFilesReplyV1Schema>;

export const applyConfigFileRequestV1Schema = z.object({
  file: z.string().min(1),
  /** At most 1 MiB: a rule or routing file is a few kilobytes. */
  text: z.string().max(1 << 20),
  /** Who asked (a token's name), for the owner's log. */
  actor: z.string().min(1).max(200),
});
export type ApplyConfigFileRequestV1 = z.infer<typeof applyConfigFileRequestV1Schema>;

export const configFileIssueV1Schema = z.object({
  file: z.string(),
  line: z.number().int().min(0),
  column: z.number().int().min(0),
  field: z.string(),
  message: z.string(),
});
export type ConfigFileIssueV1 = z.infer<typeof configFileIssueV1Schema>;

export const applyConfigFileReplyV1Schema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    file: z.string(),
    /** What the reload installed, in the owner's words (e.g. "2 groups, 5 rules"). */
    summary: z.string(),
  }),
  z.object({ ok: z.literal(false), errors: z.array(configFileIssueV1Schema).min(1) }),
]);
export type ApplyConfigFileReplyV1 = z.infer<typeof applyConfigFileReplyV1Schema>;
