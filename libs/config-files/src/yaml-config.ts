import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

/**
 * Domain configuration files (scrape configs, rule files, API keys, prices, routes, escalation
 * policies, detectors, tenants): YAML validated with a zod schema, every problem reported as
 * file:line:column and a field path, all problems of a file at once.
 */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path with [index] for sequences, e.g. `scrape_configs[0].job_name`; `(yaml)` for syntax, `(file)` for I/O. */
  field: string;
  message: string;
}

export class ConfigFileError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigFileError';
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`;
}

export type PathKey = string | number;

export function fieldPath(path: readonly PathKey[]): string {
  return (
    path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(root)'
  );
}

/** A parsed YAML document that can say where a path points, for errors found after the schema. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses the text; YAML syntax errors throw a ConfigFileError with their positions. */
  static parse(text: string, file: string, opts: { merge?: boolean } = {}): YamlSource {
    // YAML allows no NUL (it is not printable), and nothing downstream could store one.
    const nul = text.indexOf('\u0000');
    if (nul >= 0) {
      const before = text.slice(0, nul).split('\n');
      throw new ConfigFileError([
        {
          file,
          line: before.length,
          column: (before.at(-1)?.length ?? 0) + 1,
          field: '(yaml)',
          message: 'a NUL character (U+0000) is not allowed in YAML',
        },
      ]);
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: opts.merge ?? true });
    if (doc.errors.length > 0) {
      throw new ConfigFileError(
        doc.errors.map((e) => {
          const pos = lines.linePos(e.pos[0]);
          return {
            file,
            line: pos.line,
            column: pos.col,
            field: '(yaml)',
            message: e.message.split('\n')[0] ?? e.message,
          };
        }),
      );
    }
    const source = new YamlSource(file, doc, lines);
    try {
      source.value = doc.toJS() ?? {};
    } catch (err) {
      // The yaml library parses `*name` before it knows whether the anchor exists, and throws
      // (a ReferenceError) only when the document is converted: report it like any YAML error.
      throw new ConfigFileError([{ file, line: 1, column: 1, field: '(yaml)', message: (err as Error).message }]);
    }
    return source;
  }

  private value: unknown = {};

  toJS(): unknown {
    return this.value;
  }

  /** An issue at `path`; with `key`, at that key within the map at `path` (unknown or misplaced keys). */
  issue(path: readonly PathKey[], message: string, key?: string): ConfigIssue {
    const at = (key !== undefined && this.keyPos(path, key)) || this.nodePos(path);
    return { file: this.file, ...at, field: fieldPath(key === undefined ? path : [...path, key]), message };
  }

  /** Every zod issue located in this document; `root` prefixes the paths (a schema applied to a sub-tree). */
  zodIssues(error: z.ZodError, root: readonly PathKey[] = []): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    for (const issue of error.issues) {
      const path = [...root, ...issue.path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number')];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) out.push(this.issue(path, 'unknown field', key));
      } else {
        out.push(this.issue(path, issue.message));
      }
    }
    return out;
  }

  private nodePos(path: readonly PathKey[]): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const node = sub.length === 0 ? this.doc.contents : this.doc.getIn(sub, true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const pos = this.lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  }

  private keyPos(parent: readonly PathKey[], key: string): { line: number; column: number } | undefined {
    const map = parent.length === 0 ? this.doc.contents : this.doc.getIn(parent, true);
    if (!isMap(map)) return undefined;
    const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return undefined;
    const pos = this.lines.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  }
}

/** Parses YAML text and validates it with `schema`; throws ConfigFileError with every problem. */
export function parseYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): { value: z.infer<S>; source: YamlSource } {
  const source = YamlSource.parse(text, file);
  const parsed = schema.safeParse(source.toJS());
  if (!parsed.success) throw new ConfigFileError(source.zodIssues(parsed.error));
  return { value: parsed.data, source };
}

/** Reads a file as UTF-8; an unreadable file is a ConfigFileError naming it. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError([
      { file, line: 0, column: 0, field: '(file)', message: `cannot read: ${(err as Error).message}` },
    ]);
  }
}

export function loadYamlConfig<S extends z.ZodType>(
  file: string,
  schema: S,
): { value: z.infer<S>; source: YamlSource } {
  return parseYamlConfig(readConfigText(file), file, schema);
}
