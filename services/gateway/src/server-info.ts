import type { HttpApp } from '@mast/common';

/** `GET /api/3.0/mlflow/server-info`: what the Python client asks to discover server features. */
export function registerServerInfo({ app }: HttpApp, capabilities = { multipartUploads: false }): void {
  for (const prefix of ['/api/3.0', '/ajax-api/3.0']) {
    app.get(`${prefix}/mlflow/server-info`, async () => ({
      store_type: 'SqlStore',
      workspaces_enabled: false,
      trace_archival_enabled: false,
      multipart_uploads_enabled: capabilities.multipartUploads,
      multipart_downloads_enabled: false,
    }));
  }
}
