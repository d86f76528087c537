import { apiMessage, type Schema } from '@app/client';

export type UploadResult = { ok: true; submission: Schema<'SubmissionResponse'> } | { ok: false; message: string };

export interface UploadFile {
  name: string;
  blob: Blob;
}

/**
 * POST /submissions through XMLHttpRequest: fetch cannot report upload progress, XHR's
 * upload.onprogress can. The answer is typed from the same OpenAPI document as every other call.
 */
export function uploadSubmission(
  token: string,
  files: UploadFile[],
  fields: { entrypoint?: string; config_file?: string },
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  const form = new FormData();
  for (const file of files) form.append('files', file.blob, file.name);
  for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/submissions');
    request.setRequestHeader('Authorization', `Bearer ${token}`);
    request.responseType = 'text';
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status === 201 && body && typeof body === 'object') resolve({ ok: true, submission: body as Schema<'SubmissionResponse'> });
      else resolve({ ok: false, message: apiMessage(body, `the API answered ${request.status} ${request.statusText}`) });
    };
    request.onerror = () => resolve({ ok: false, message: 'could not reach the API (the connection failed during the upload)' });
    request.send(form);
  });
}
