import { MlflowError } from '@mast/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from '../domain/byte-range.js';
import { contentDisposition, guessContentType } from '../domain/download-headers.js';
import { isTraceDataMissing, traceDataNotFound } from '../domain/trace-data.js';
import { presignedDownload } from '../storage/run-root.js';
import type { ArtifactStore, FileStat } from '../storage/store.js';

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** If-Range holds an ETag or a date; the range applies only while the file is unchanged. */
function ifRangeHolds(header: string | string[] | undefined, stat: FileStat): boolean {
  if (header === undefined) return true;
  if (Array.isArray(header)) return false;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === stat.etag;
  const since = Date.parse(value);
  return !Number.isNaN(since) && Math.floor(stat.lastModified.getTime() / 1000) * 1000 <= since;
}

export interface SendFileOptions {
  /** Redirect to a presigned backend URL instead of streaming, where the store has them. */
  presignedDownloads?: boolean;
  /**
   * The file is a trace's span data (the web UI's span download): missing or empty, it is MLflow's
   * 404 NOT_FOUND "Trace data not found for path=<path>" (`traceDataNotFound`).
   */
  traceData?: boolean;
}

/**
 * Answers a download as MLflow's server does (attachment, guessed type, nosniff), streamed from the
 * store: never buffered, with Content-Length, ETag, Last-Modified, single-range requests (206/416),
 * If-None-Match (304) and HEAD. A missing file is 404 RESOURCE_DOES_NOT_EXIST, or MLflow's trace data
 * 404 with `options.traceData`.
 */
export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  store: ArtifactStore,
  path: string,
  options: SendFileOptions = {},
): Promise<FastifyReply> {
  const file = await store.open(path);
  if (options.traceData && isTraceDataMissing(file?.stat.size)) {
    await file?.close();
    throw traceDataNotFound(path);
  }
  if (file === undefined) throw MlflowError.notFound(`File '${path}' does not exist.`);
  const { stat } = file;
  const presigned = await presignedDownload({ store, path }, options.presignedDownloads ?? false);
  if (presigned !== undefined) {
    await file.close();
    return reply.redirect(presigned, 302);
  }
  reply.headers({
    'content-type': guessContentType(path),
    'content-disposition': contentDisposition(path),
    'x-content-type-options': 'nosniff',
    etag: stat.etag,
    'last-modified': stat.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
  });
  if (etagMatches(request.headers['if-none-match'], stat.etag)) {
    await file.close();
    return reply.code(304).send();
  }
  const wanted = ifRangeHolds(request.headers['if-range'], stat)
    ? parseRange(request.headers.range, stat.size)
    : { kind: 'whole' as const };
  if (wanted.kind === 'unsatisfiable') {
    await file.close();
    return reply
      .code(416)
      .header('content-range', `bytes */${stat.size}`)
      .type('application/json')
      .send({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Range not satisfiable for a file of ${stat.size} bytes.`,
      });
  }
  const range = wanted.kind === 'partial' ? wanted.range : undefined;
  if (range !== undefined) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`);
  }
  reply.header('content-length', String(range === undefined ? stat.size : range.end - range.start + 1));
  if (request.method === 'HEAD' || stat.size === 0) {
    await file.close();
    return reply.send();
  }
  return reply.send(await file.read(range));
}
