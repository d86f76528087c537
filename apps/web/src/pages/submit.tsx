import { useEffect, useRef, useState } from 'preact/hooks';
import { parse as parseYaml } from 'yaml';
import { settle } from '../api-result';
import { ErrorNote } from '../components/error-note';
import { insideFolder, keepInFolder, packFolder, readDroppedFolder, type PickedFile } from '../folder';
import { href } from '../router';
import type { Session } from '../session';
import { uploadSubmission, type UploadFile } from '../upload';
import { useApi } from '../use-api';

const NO_BENCHMARK = '(none)';
const SERVER_DEFAULT = '(default)';

/** A fresh key per click: a double click is one job, a second submit is a deliberate second run. */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** The overrides text as the `config` object; a clear message when it is not a YAML mapping. */
export function parseOverrides(text: string): { config?: Record<string, unknown>; problem?: string } {
  if (!text.trim()) return {};
  try {
    const value: unknown = parseYaml(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) return { problem: 'write a YAML mapping (key: value lines), not a list or a single value' };
    return { config: value as Record<string, unknown> };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

export function SubmitPage({ session }: { session: Session }) {
  const [files, setFiles] = useState<UploadFile[]>([]);
  const [entrypoint, setEntrypoint] = useState('main.py');
  const [configFile, setConfigFile] = useState('config.yaml');
  const [overrides, setOverrides] = useState('');
  const [resourceClass, setResourceClass] = useState<'small' | 'medium'>('small');
  const [benchmark, setBenchmark] = useState<string>();
  const [progress, setProgress] = useState<number>();
  const [phase, setPhase] = useState<'idle' | 'packing' | 'uploading' | 'queueing'>('idle');
  const [errors, setErrors] = useState<{ files?: string; overrides?: string; upload?: string; job?: string }>({});
  const [dragging, setDragging] = useState(false);
  const folderInput = useRef<HTMLInputElement>(null);
  const { result: benchmarks } = useApi(() => settle(session.client.GET('/benchmarks')), [session]);

  useEffect(() => {
    if (folderInput.current) folderInput.current.webkitdirectory = true;
  }, []);
  const available = benchmarks?.ok ? benchmarks.data.benchmarks.filter((item) => item.available) : [];
  const chosenBenchmark = benchmark ?? available[0]?.id ?? SERVER_DEFAULT;

  function addFiles(added: UploadFile[]) {
    setErrors((previous) => ({ ...previous, files: undefined }));
    setFiles((previous) => [...previous.filter((file) => !added.some((next) => next.name === file.name)), ...added]);
  }

  async function addFolder(picked: PickedFile[], folderName: string) {
    if (picked.length === 0) {
      setErrors((previous) => ({ ...previous, files: 'the folder has no files to send (caches and hidden files are left out)' }));
      return;
    }
    setPhase('packing');
    try {
      addFiles([{ name: `${folderName || 'folder'}.tar.gz`, blob: await packFolder(picked) }]);
    } catch (error) {
      setErrors((previous) => ({ ...previous, files: error instanceof Error ? error.message : String(error) }));
    } finally {
      setPhase('idle');
    }
  }

  function onFolderPicked(list: FileList | null) {
    const picked = Array.from(list ?? [])
      .map((file) => ({ path: insideFolder(file.webkitRelativePath || file.name), file }))
      .filter((item) => keepInFolder(item.path));
    const folderName = list?.[0]?.webkitRelativePath.split('/')[0] ?? 'folder';
    void addFolder(picked, folderName);
  }

  async function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const items = Array.from(event.dataTransfer?.items ?? []);
    const plain: UploadFile[] = [];
    for (const item of items) {
      const entry = item.webkitGetAsEntry?.();
      if (entry?.isDirectory) await addFolder(await readDroppedFolder(entry as FileSystemDirectoryEntry), entry.name);
      else {
        const file = item.getAsFile();
        if (file) plain.push({ name: file.name, blob: file });
      }
    }
    if (plain.length) addFiles(plain);
  }

  async function submit(event: Event) {
    event.preventDefault();
    const parsed = parseOverrides(overrides);
    const nextErrors = {
      files: files.length === 0 ? 'choose at least one file, a folder or an archive' : undefined,
      overrides: parsed.problem,
    };
    setErrors(nextErrors);
    if (nextErrors.files || nextErrors.overrides) return;
    setPhase('uploading');
    setProgress(0);
    const upload = await uploadSubmission(session.token, files, { entrypoint: entrypoint.trim(), config_file: configFile.trim() }, setProgress);
    if (!upload.ok) {
      setPhase('idle');
      setErrors({ upload: upload.message });
      return;
    }
    setPhase('queueing');
    const body = {
      submission_id: upload.submission.submission_id,
      resource_class: resourceClass,
      ...(parsed.config ? { config: parsed.config } : {}),
      ...(chosenBenchmark === SERVER_DEFAULT ? {} : { benchmark: chosenBenchmark === NO_BENCHMARK ? null : chosenBenchmark }),
    };
    const job = await settle(session.client.POST('/jobs', { body, params: { header: { 'Idempotency-Key': idempotencyKey() } } }));
    setPhase('idle');
    if (!job.ok) {
      setErrors({ job: `${job.message} (the files were uploaded as submission ${upload.submission.submission_id})` });
      return;
    }
    location.hash = href.job(job.data.job_id);
  }

  const busy = phase !== 'idle';
  return (
    <>
      <h1>Submit a run</h1>
      <form onSubmit={submit} class="submit-form">
        <fieldset>
          <legend>Code</legend>
          <div
            class={dragging ? 'dropzone dragging' : 'dropzone'}
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <p>Drop files, a folder or a .zip / .tar.gz here, or choose them:</p>
            <label for="submit-files">Files or an archive</label>
            <input
              id="submit-files"
              type="file"
              multiple
              accept=".py,.yaml,.yml,.json,.txt,.zip,.tar.gz,.gz"
              onChange={(event) => {
                addFiles(Array.from(event.currentTarget.files ?? [], (file) => ({ name: file.name, blob: file })));
                event.currentTarget.value = '';
              }}
            />
            <label for="submit-folder">A folder (sent as one .tar.gz)</label>
            <input
              id="submit-folder"
              ref={folderInput}
              type="file"
              onChange={(event) => {
                onFolderPicked(event.currentTarget.files);
                event.currentTarget.value = '';
              }}
            />
          </div>
          {files.length > 0 && (
            <ul class="file-list" aria-label="Files to send">
              {files.map((file) => (
                <li key={file.name}>
                  <span class="file-name">{file.name}</span> <span class="muted">({formatBytes(file.blob.size)})</span>{' '}
                  <button type="button" class="link" onClick={() => setFiles(files.filter((other) => other !== file))} aria-label={`Remove ${file.name}`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <ErrorNote action="Choosing files" message={errors.files} />
        </fieldset>
        <fieldset>
          <legend>Run</legend>
          <label for="submit-entrypoint">Entrypoint</label>
          <input id="submit-entrypoint" value={entrypoint} onInput={(event) => setEntrypoint(event.currentTarget.value)} />
          <label for="submit-config-file">Config file</label>
          <input id="submit-config-file" value={configFile} onInput={(event) => setConfigFile(event.currentTarget.value)} />
          <label for="submit-overrides">Config overrides (YAML, merged over the config file)</label>
          <textarea id="submit-overrides" rows={4} placeholder={'lr: 0.01\nepochs: 3'} value={overrides} onInput={(event) => setOverrides(event.currentTarget.value)} />
          <ErrorNote action="Reading the config overrides" message={errors.overrides} />
          <label for="submit-class">Resource class</label>
          <select id="submit-class" value={resourceClass} onChange={(event) => setResourceClass(event.currentTarget.value as 'small' | 'medium')}>
            <option value="small">small</option>
            <option value="medium">medium</option>
          </select>
          <label for="submit-benchmark">Benchmark</label>
          <select id="submit-benchmark" value={chosenBenchmark} onChange={(event) => setBenchmark(event.currentTarget.value)}>
            {available.map((item) => (
              <option key={item.id} value={item.id}>
                {item.title ?? item.id}
              </option>
            ))}
            <option value={SERVER_DEFAULT}>The server's default</option>
            <option value={NO_BENCHMARK}>None: a plain experiment, not ranked</option>
          </select>
          {benchmarks && !benchmarks.ok && <ErrorNote action="Loading the benchmarks" message={benchmarks.message} />}
        </fieldset>
        <button type="submit" disabled={busy}>
          {phase === 'packing' ? 'Packing the folder…' : phase === 'uploading' ? 'Uploading…' : phase === 'queueing' ? 'Queueing…' : 'Upload and run'}
        </button>
        {progress !== undefined && (
          <p>
            <label for="submit-progress">Upload</label> <progress id="submit-progress" max={1} value={progress} /> {Math.round(progress * 100)}%
          </p>
        )}
        <ErrorNote action="Uploading the files" message={errors.upload} />
        <ErrorNote action="Queueing the job" message={errors.job} />
      </form>
    </>
  );
}

function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}
