import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  /** S3_* settings pointing Circles at this server (bucket created on first use by the object store). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible HTTP server (s3rver, speaking the S3 REST protocol) on a random local port: what the S3
 * object store and distributed-mode media run against here, since AWS itself is out of reach.
 */
export async function startLocalS3(bucket = 'circles-test'): Promise<LocalS3> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'circles-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_REGION: 'us-east-1', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_FORCE_PATH_STYLE: 'true' },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
