import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { MlflowError, RequestReader } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { clientFileName, joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import { guessContentType } from '../domain/download-headers.js';
import { isTraceDataRequest } from '../domain/trace-data.js';
import { MAX_PARTS } from '../storage/s3-store.js';
import type { DirectoryEntry } from '../storage/store.js';
import { API_PREFIXES, type ArtifactContext, requireServing, wildcard } from './context.js';
import { sendFile } from './send-file.js';

const ARTIFACTS = '/mlflow-artifacts/artifacts';
const MPU = '/mlflow-artifacts/mpu';
const UNSUPPORTED_MULTIPART = 'Multipart upload is not supported for the current artifact repository';

/** A proxy listing: bare names (the client joins them to the directory it asked for). */
function proxyListing(entries: DirectoryEntry[]): object {
  if (entries.length === 0) return {};
  return {
    files: entries.map((entry) =>
      entry.isDir
        ? { path: entry.name, is_dir: true }
        : { path: entry.name, is_dir: false, file_size: entry.size },
    ),
  };
}

/**
 * MLflow's artifact proxy (spec §6.2) on the destination store, except uploads: download, list,
 * delete and the multipart routes. A download with `?trace_data=true` is the web UI's span download
 * that tracking's `get-trace-artifact` redirects to (MLflow's trace data 404). For a JSON scope.
 */
export function proxyRoutes(app: FastifyInstance, context: ArtifactContext): void {
  const store = () => context.storage.destination;

  for (const prefix of API_PREFIXES) {
    const list = async (query: unknown) => {
      const raw = RequestReader.of(query).string('path');
      return proxyListing(await store().list(safeArtifactPath(raw ?? '', { allowRoot: true })));
    };

    app.get(`${prefix}${ARTIFACTS}`, async (request) => {
      requireServing(context, request);
      return list(request.query);
    });

    // HEAD is its own route: Fastify's automatic one would read the whole stream to discard it.
    app.route({
      method: ['GET', 'HEAD'],
      url: `${prefix}${ARTIFACTS}/*`,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        requireServing(context, request);
        const raw = wildcard(request);
        // `/artifacts/` with nothing after it is the listing.
        if (safeArtifactPath(raw, { allowRoot: true }) === '') return list(request.query);
        return sendFile(request, reply, store(), safeArtifactPath(raw), {
          presignedDownloads: context.presignedDownloads,
          traceData: isTraceDataRequest(request.query),
        });
      },
    });

    app.delete(`${prefix}${ARTIFACTS}/*`, async (request) => {
      requireServing(context, request);
      await store().delete(safeArtifactPath(wildcard(request)));
      return {};
    });

    app.post(`${prefix}${MPU}/create/*`, async (request) => {
      requireServing(context, request);
      const directory = safeArtifactPath(wildcard(request), { allowRoot: true });
      const reader = RequestReader.of(request.body);
      const path = joinArtifactPath(directory, clientFileName(reader.string('path', { required: true })));
      const numParts = reader.integer('num_parts') ?? 1;
      if (numParts < 1 || numParts > MAX_PARTS) {
        throw MlflowError.invalidParameter(
          `'num_parts' must be between 1 and ${MAX_PARTS}, got ${numParts}.`,
        );
      }
      const multipart = store().multipart;
      if (multipart === undefined) throw new MlflowError('NOT_IMPLEMENTED', UNSUPPORTED_MULTIPART);
      const created = await multipart.create(path, numParts, guessContentType(path));
      return {
        upload_id: created.uploadId,
        credentials: created.parts.map((part) => ({
          url: part.url,
          part_number: part.partNumber,
          headers: part.headers,
        })),
      };
    });

    app.post(`${prefix}${MPU}/complete/*`, async (request) => {
      requireServing(context, request);
      const directory = safeArtifactPath(wildcard(request), { allowRoot: true });
      const reader = RequestReader.of(request.body);
      const path = joinArtifactPath(directory, clientFileName(reader.string('path', { required: true })));
      const uploadId = reader.string('upload_id', { required: true });
      const parts = reader.messageList('parts', { required: true }).map((part) => ({
        partNumber: part.integer('part_number', { required: true }),
        etag: part.string('etag', { required: true }),
      }));
      if (parts.length === 0) throw MlflowError.invalidParameter("'parts' must list the uploaded parts.");
      const multipart = store().multipart;
      if (multipart === undefined) throw new MlflowError('NOT_IMPLEMENTED', UNSUPPORTED_MULTIPART);
      await multipart.complete(path, uploadId, parts);
      return {};
    });

    app.post(`${prefix}${MPU}/abort/*`, async (request) => {
      requireServing(context, request);
      const directory = safeArtifactPath(wildcard(request), { allowRoot: true });
      const reader = RequestReader.of(request.body);
      const path = joinArtifactPath(directory, clientFileName(reader.string('path', { required: true })));
      const uploadId = reader.string('upload_id', { required: true });
      const multipart = store().multipart;
      if (multipart === undefined) throw new MlflowError('NOT_IMPLEMENTED', UNSUPPORTED_MULTIPART);
      await multipart.abort(path, uploadId);
      return {};
    });
  }
}

class TooLarge extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(uploadTooLarge(this.limit));
    else callback(null, chunk);
  }
}

function uploadTooLarge(limit: number): MlflowError {
  return MlflowError.invalidParameter(
    `Artifact upload exceeds the server's limit of ${limit} bytes (MAST_ARTIFACT_MAX_UPLOAD_BYTES).`,
  );
}

/**
 * A chunked body counted as it streams. The source is not destroyed when the limit is hit, so the
 * 400 can still be written (the connection is closed after it).
 */
function limited(source: IncomingMessage, limit: number): Transform {
  const counter = new TooLarge(limit);
  // The store attaches its own listeners later; the error is kept on the stream until then.
  counter.on('error', () => undefined);
  source.on('error', (error) => counter.destroy(error));
  source.on('close', () => {
    if (!source.complete) counter.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  });
  return source.pipe(counter);
}

/**
 * `PUT /mlflow-artifacts/artifacts/<path>`: the raw body (any content type, as the Python client
 * sends its guessed MIME type) streamed into the store. For a scope whose parsers leave bodies unread.
 */
export function uploadRoutes(app: FastifyInstance, context: ArtifactContext): void {
  for (const prefix of API_PREFIXES) {
    app.put(`${prefix}${ARTIFACTS}/*`, async (request, reply) => {
      requireServing(context, request);
      const path = safeArtifactPath(wildcard(request));
      const header = request.headers['content-length'];
      const size = header === undefined ? undefined : Number(header);
      try {
        if (size !== undefined && size > context.maxUploadBytes) throw uploadTooLarge(context.maxUploadBytes);
        const body = size === undefined ? limited(request.raw, context.maxUploadBytes) : request.raw;
        await context.storage.destination.write(path, body, { size, contentType: guessContentType(path) });
      } catch (error) {
        // Whatever is left of the body is not read: end the connection after the answer.
        reply.header('connection', 'close');
        if (!request.raw.complete && (request.raw.destroyed || request.raw.readableAborted)) {
          throw new MlflowError('CANCELLED', `The client aborted the upload of '${path}'.`);
        }
        throw error;
      }
      return {};
    });
  }
}
