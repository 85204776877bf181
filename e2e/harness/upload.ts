// Large or odd requests to the hub for limit tests, through the uploader the unit tests use
// (src/hub/server/test-upload.ts): a body of N bytes streamed with backpressure, or headers of any size.
import { readFileSync } from 'node:fs';
import { upload, type UploadOptions, type UploadReply } from '../../src/hub/server/test-upload.ts';

export function uploadToHub(
  hubURL: string,
  caFile: string,
  opts: Omit<UploadOptions, 'ca'> & { token?: string },
): Promise<UploadReply> {
  const { token, ...rest } = opts;
  const headers = { ...rest.headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  return upload(hubURL, { ...rest, headers, ca: readFileSync(caFile) });
}
