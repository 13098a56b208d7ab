import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import { parseDuration, type PathKey, type YamlSource } from '@arcwatch/config-files';

/**
 * Decodes YAML nodes the way Alertmanager's Go loader (yaml.v2, strict) does, so that ArcWatch
 * accepts and refuses the same files with the same words: unknown fields and type mismatches are
 * collected as "line N: …" type errors (which skip the enclosing object's own checks, as in Go),
 * while a failed check is fatal at once. Positions come from the config-files YamlSource.
 */
export type Path = readonly PathKey[];

export class AmLoadError extends Error {
  readonly code = 'ALERTMANAGER_CONFIG_INVALID' as const;
  constructor(
    message: string,
    readonly path: Path,
  ) {
    super(message);
    this.name = 'AmLoadError';
  }
}

export interface TypeIssue {
  path: Path;
  key?: string;
  message: string;
}

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

export type YNode = Node | null | undefined;

export class Decoder {
  readonly typeErrors: TypeIssue[] = [];
  private readonly doc: Document;

  constructor(readonly source: YamlSource) {
    this.doc = source.doc;
  }

  fatal(path: Path, message: string): never {
    throw new AmLoadError(message, path);
  }

  line(path: Path, key?: string): number {
    return this.source.issue(path, '', key).line;
  }

  typeError(path: Path, message: string, key?: string): void {
    this.typeErrors.push({ path, key, message: `line ${this.line(path, key)}: ${message}` });
  }

  resolve(node: YNode): YNode {
    if (node && isAlias(node)) return node.resolve(this.doc) as YNode;
    return node;
  }

  private tag(node: YNode): string {
    const n = this.resolve(node);
    if (isMap(n)) return '!!map';
    if (isSeq(n)) return '!!seq';
    if (isScalar(n)) {
      if (typeof n.value === 'number') return Number.isInteger(n.value) ? '!!int' : '!!float';
      if (typeof n.value === 'boolean') return '!!bool';
      return '!!str';
    }
    return '!!null';
  }

  private mismatch(node: YNode, path: Path, into: string): void {
    const n = this.resolve(node);
    const shown = isScalar(n) ? ` \`${String(n.source ?? n.value)}\`` : '';
    this.typeError(path, `cannot unmarshal ${this.tag(n)}${shown} into ${into}`);
  }

  isNull(node: YNode): boolean {
    const n = this.resolve(node);
    return n === null || n === undefined || (isScalar(n) && n.value === null);
  }

  /** A struct: unknown keys are type errors; returns false when any type error arose inside. */
  struct(node: YNode, path: Path, typeName: string, fields: Record<string, (n: YNode, p: Path) => void>): boolean {
    const before = this.typeErrors.length;
    const n = this.resolve(node);
    if (this.isNull(n)) return true;
    if (!isMap(n)) {
      this.mismatch(n, path, typeName);
      return false;
    }
    for (const pair of n.items as Pair<YNode, YNode>[]) {
      const key = this.keyText(pair.key);
      const f = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (!f) this.typeError(path, `field ${key} not found in type ${typeName}`, key);
      else f(pair.value, [...path, key]);
    }
    return this.typeErrors.length === before;
  }

  keyText(key: YNode): string {
    const k = this.resolve(key);
    if (isScalar(k)) return k.value === null ? '' : typeof k.value === 'string' ? k.value : String(k.source ?? k.value);
    return String(k);
  }

  str(node: YNode, path: Path): string {
    const n = this.resolve(node);
    if (this.isNull(n)) return '';
    if (isScalar(n)) return typeof n.value === 'string' ? n.value : String(n.source ?? n.value);
    this.mismatch(n, path, 'string');
    return '';
  }

  bool(node: YNode, path: Path): boolean {
    const n = this.resolve(node);
    if (this.isNull(n)) return false;
    if (isScalar(n)) {
      if (typeof n.value === 'boolean') return n.value;
      const text = String(n.source ?? n.value);
      if (YAML11_TRUE.has(text)) return true;
      if (YAML11_FALSE.has(text)) return false;
    }
    this.mismatch(n, path, 'bool');
    return false;
  }

  int(node: YNode, path: Path): number {
    const n = this.resolve(node);
    if (this.isNull(n)) return 0;
    if (isScalar(n) && typeof n.value === 'number' && Number.isInteger(n.value)) return n.value;
    this.mismatch(n, path, 'int');
    return 0;
  }

  /** A list of strings; undefined when absent or null (Go's nil slice). */
  strList(node: YNode, path: Path): string[] | undefined {
    const n = this.resolve(node);
    if (this.isNull(n)) return undefined;
    if (!isSeq(n)) {
      this.mismatch(n, path, '[]string');
      return [];
    }
    return n.items.map((item, i) => this.str(item as YNode, [...path, i]));
  }

  seq(node: YNode, path: Path, into: string): YNode[] {
    const n = this.resolve(node);
    if (this.isNull(n)) return [];
    if (!isSeq(n)) {
      this.mismatch(n, path, into);
      return [];
    }
    return n.items as YNode[];
  }

  strMap(node: YNode, path: Path): Record<string, string> | undefined {
    const n = this.resolve(node);
    if (this.isNull(n)) return undefined;
    if (!isMap(n)) {
      this.mismatch(n, path, 'map[string]string');
      return {};
    }
    const out: Record<string, string> = {};
    for (const pair of n.items as Pair<YNode, YNode>[]) {
      const k = this.keyText(pair.key);
      out[k] = this.str(pair.value, [...path, k]);
    }
    return out;
  }

  /** Prometheus model.Duration: fatal on bad text, as Go's custom unmarshaler is. Milliseconds. */
  duration(node: YNode, path: Path): number | undefined {
    if (this.isNull(node)) return undefined;
    const text = this.str(node, path);
    const ms = parseDuration(text);
    if (ms === undefined || text === '') this.fatal(path, `not a valid duration string: ${JSON.stringify(text)}`);
    return ms;
  }

  /** Anything, as plain JS (for blocks ArcWatch keeps but does not interpret). */
  opaque(node: YNode): unknown {
    const n = this.resolve(node);
    if (n === null || n === undefined) return null;
    return n.toJSON();
  }
}

/** Go's url.Parse plus Alertmanager's http/https and host checks. */
export function checkUrl(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) return `unsupported scheme "" for URL`;
    return `parse ${JSON.stringify(text)}: invalid URL`;
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return `unsupported scheme ${JSON.stringify(scheme)} for URL`;
  if (u.host === '') return 'host is missing in URL';
  return undefined;
}
