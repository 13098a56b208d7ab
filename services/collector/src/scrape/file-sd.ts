import { globSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { TargetGroup } from './target';

/**
 * file_sd_configs: JSON or YAML files holding `[{targets: [...], labels: {...}}]`, with globs
 * in the file name. Files are re-read when they change (fs.watch on their directories, plus a
 * poll every refresh_interval because watches miss some editors and network filesystems). A file
 * that stops parsing keeps its last good targets, as in Prometheus, and the problem is reported.
 */
const fileSdSchema = z.array(
  z.object({
    targets: z.array(z.string().min(1)),
    labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
  }),
);

export interface FileSdProblem {
  file: string;
  message: string;
}

export function parseFileSd(text: string, file: string): TargetGroup[] {
  const data: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  const parsed = fileSdSchema.safeParse(data ?? []);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  }
  return parsed.data.map((g, i) => ({
    targets: g.targets,
    labels: { __meta_filepath: file, ...g.labels },
    source: `${file}[${i}]`,
  }));
}

export class FileSdWatcher {
  private readonly lastGood = new Map<string, { mtimeMs: number; size: number; groups: TargetGroup[] }>();
  private watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly patterns: readonly string[],
    private readonly refreshIntervalMs: number,
    private readonly onChange: (groups: TargetGroup[]) => void,
    private readonly onProblem: (p: FileSdProblem) => void,
  ) {}

  /** Reads every file now and returns the target groups; then watches for changes. */
  start(): TargetGroup[] {
    const groups = this.refresh().groups;
    for (const dir of new Set(this.patterns.map((p) => path.dirname(p)))) {
      try {
        this.watchers.push(watch(dir, () => this.scheduleRefresh()));
      } catch (err) {
        this.onProblem({ file: dir, message: `cannot watch: ${(err as Error).message}` });
      }
    }
    this.poll = setInterval(() => this.check(), this.refreshIntervalMs);
    this.poll.unref();
    return groups;
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private scheduleRefresh(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), 100);
  }

  private check(): void {
    const { groups, changed } = this.refresh();
    if (changed) this.onChange(groups);
  }

  private refresh(): { groups: TargetGroup[]; changed: boolean } {
    const files = new Set(this.patterns.flatMap((p) => globSync(p)).map((f) => path.resolve(f)));
    let changed = false;
    for (const known of [...this.lastGood.keys()]) {
      if (!files.has(known)) {
        this.lastGood.delete(known);
        changed = true;
      }
    }
    for (const file of [...files].sort()) {
      try {
        const st = statSync(file);
        const prev = this.lastGood.get(file);
        if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) continue;
        const groups = parseFileSd(readFileSync(file, 'utf8'), file);
        this.lastGood.set(file, { mtimeMs: st.mtimeMs, size: st.size, groups });
        changed = true;
      } catch (err) {
        this.onProblem({ file, message: (err as Error).message });
      }
    }
    return { groups: [...this.lastGood.values()].flatMap((v) => v.groups), changed };
  }
}
