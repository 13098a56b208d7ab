import { useMemo, useState } from 'react';
import { ApiError, api, isUnavailable, type Unavailable } from '../api';
import { useData } from '../hooks';
import { Down, Failure } from '../ui';

export interface ConfigFile {
  kind: 'rules' | 'routing' | 'escalation' | 'prices' | 'api-keys';
  file: string;
  text: string;
}
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}
type OwnerFiles = { service: string; files: ConfigFile[] } | (Unavailable & { service: string });

const KIND: Record<ConfigFile['kind'], string> = {
  rules: 'Alert rules (anomaly)',
  routing: 'Routes and receivers (notifier)',
  escalation: 'Escalation policies (notifier)',
  prices: 'Prices (billing)',
  'api-keys': 'API keys → tenant, team, project (tracing)',
};
/** The editor's line height in pixels: the gutter and the error notes line up with the text by it. */
const LINE = 18;

/** The problems the owning service found, out of a 422 CONFIG_REJECTED. */
function issuesOf(err: unknown): ConfigIssue[] | null {
  if (!(err instanceof ApiError) || err.code !== 'CONFIG_REJECTED') return null;
  const errors = (err.details as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? (errors as ConfigIssue[]) : null;
}

/**
 * One file: a text area with line numbers; after a refused save, each problem is marked on its
 * line in the gutter and written beside that line (line, column, field, message).
 */
function FileEditor({ service, file, editable }: { service: string; file: ConfigFile; editable: boolean }) {
  const [text, setText] = useState(file.text);
  const [issues, setIssues] = useState<ConfigIssue[]>([]);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const lines = useMemo(() => text.split('\n').length, [text]);
  const bad = useMemo(() => new Map(issues.map((i) => [i.line, i])), [issues]);
  const save = async () => {
    setSaving(true);
    setResult(null);
    try {
      const r = await api<{ summary: string }>('configuration/files', {
        method: 'PUT',
        body: { service, file: file.file, text },
      });
      setIssues([]);
      setResult({ ok: true, message: `Saved and in force: ${r.summary}` });
    } catch (err) {
      const found = issuesOf(err);
      setIssues(found ?? []);
      setResult({
        ok: false,
        message: found
          ? `${service} refused the file: ${found.length} problem${found.length === 1 ? '' : 's'}; nothing was changed`
          : err instanceof Error
            ? err.message
            : String(err),
      });
    } finally {
      setSaving(false);
    }
  };
  return (
    // Rule files open; the others (a price catalog runs to a hundred lines) open on a click.
    <details className="config-file" data-config-file={file.file} data-kind={file.kind} open={file.kind === 'rules'}>
      <summary>
        <h3>
          {KIND[file.kind]} <span className="mono muted">{file.file}</span>{' '}
          <span className="muted">({lines} lines)</span>
        </h3>
      </summary>
      <div className="editor" style={{ height: lines * LINE + 12 + 14 }}>
        <div className="gutter" aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} className={bad.has(i + 1) ? 'bad' : ''} style={{ height: LINE }}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          aria-label={`${file.file}`}
          value={text}
          readOnly={!editable}
          spellCheck={false}
          wrap="off"
          style={{ lineHeight: `${LINE}px` }}
          onChange={(e) => {
            setText(e.target.value);
            setResult(null);
          }}
        />
        <div className="notes">
          {issues.map((i, n) => (
            <div
              key={n}
              className="line-error"
              data-line={i.line}
              data-field={i.field}
              style={{ top: Math.max(0, i.line - 1) * LINE + 6 }}
              title={i.message}
            >
              {i.line}:{i.column} {i.field}: {i.message}
            </div>
          ))}
        </div>
      </div>
      {editable ? (
        <p>
          <button type="button" data-action="save-config" disabled={saving || text === file.text} onClick={save}>
            {saving ? 'Checking…' : 'Check and save'}
          </button>{' '}
          <button type="button" disabled={text === file.text} onClick={() => (setText(file.text), setIssues([]))}>
            Undo changes
          </button>
        </p>
      ) : null}
      {result ? (
        <p className={result.ok ? 'notice' : 'error'} role="status" data-result={result.ok ? 'saved' : 'refused'}>
          {result.message}
        </p>
      ) : null}
      {issues.length > 0 ? (
        <ul className="issues">
          {issues.map((i, n) => (
            <li key={n} className="mono">
              {i.file}:{i.line}:{i.column} {i.field}: {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

/**
 * The files each owning service loads, asked of that service; admins edit them, and the owner
 * checks, writes and reloads what is saved. The console never writes them itself.
 */
export function ConfigFiles({ editable }: { editable: boolean }) {
  const owners = useData(
    'configuration/files',
    () => api<{ services: OwnerFiles[] }>('configuration/files'),
    undefined,
  );
  return (
    <div className="block">
      <h2>Configuration files</h2>
      <p className="muted">
        {editable
          ? 'Saving sends the file to the service that owns it: it is checked as at start, written and reloaded, or refused with the line of each problem.'
          : 'Admins can edit these files.'}
      </p>
      {owners.error ? <Failure error={owners.error} /> : null}
      {(owners.data?.services ?? []).map((o) =>
        isUnavailable(o) ? (
          <Down key={o.service} service={o.service} message={o.unavailable.message} />
        ) : (
          o.files.map((f) => <FileEditor key={f.file} service={o.service} file={f} editable={editable} />)
        ),
      )}
    </div>
  );
}
