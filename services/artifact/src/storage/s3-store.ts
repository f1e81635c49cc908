import type { ClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import { MlflowError } from '@mast/common';
import { joinArtifactPath } from '../domain/artifact-path.js';
import type { ByteRange } from '../domain/byte-range.js';
import { contentDisposition } from '../domain/download-headers.js';
import { errorCode, isS3NotFound, toStorageError } from './errors.js';
import { PartReader } from './part-reader.js';
import type { S3Connection } from './s3-connection.js';
import type {
  ArtifactStore,
  DirectoryEntry,
  MultipartUploads,
  OpenedFile,
  PresignedPart,
  UploadedPart,
  WriteOptions,
} from './store.js';

/** Resolves when `request` can take more, rejects when its upload fails meanwhile. */
function drained(request: ClientRequest, answer: Promise<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      request.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      request.off('drain', onDrain);
      answer.then(() => reject(new Error('part upload closed early')), reject);
    };
    request.once('drain', onDrain);
    request.once('close', onClose);
  });
}

/** S3 allows at most this many parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** How long presigned part and download URLs stay valid. */
const PRESIGN_EXPIRY_SECONDS = 3600;
const LIST_PAGE = 1000;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix of the root, without leading or trailing slash ('' for the whole bucket). */
  prefix: string;
  /** Part size of proxy uploads; bodies shorter than one part go up in a single PUT. */
  partSize: number;
}

/**
 * Artifacts in an S3 bucket under a prefix. An upload of at least one part goes up as one multipart
 * upload: with a known length each part is piped from the client straight to its PUT (no part buffer),
 * a chunked body is cut into two alternating part buffers. Either way memory does not grow with the
 * file, nothing is visible until the upload completes, and a failed one is aborted. Smaller bodies are
 * one PUT sent once complete. Downloads stream the object (or one range of it).
 */
export class S3Store implements ArtifactStore {
  readonly uri: string;
  readonly multipart: MultipartUploads;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(
    private readonly connection: S3Connection,
    options: S3StoreOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.partSize = options.partSize;
    this.uri = `s3://${this.bucket}/${this.prefix}`;
    this.multipart = {
      create: (path, numParts, contentType) => this.createMultipart(path, numParts, contentType),
      complete: (path, uploadId, parts) => this.completeMultipart(path, uploadId, parts),
      abort: (path, uploadId) => this.abortMultipart(path, uploadId),
    };
  }

  private get client() {
    return this.connection.client;
  }

  private key(path: string): string {
    return joinArtifactPath(this.prefix, path);
  }

  private fail(error: unknown): Error {
    return toStorageError(error, this.uri);
  }

  async open(path: string): Promise<OpenedFile | undefined> {
    if (path === '') return undefined;
    const key = this.key(path);
    let stat: Awaited<ReturnType<typeof this.client.statObject>>;
    try {
      stat = await this.client.statObject(this.bucket, key);
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw this.fail(error);
    }
    return {
      stat: { size: stat.size, etag: `"${stat.etag}"`, lastModified: stat.lastModified },
      read: async (range?: ByteRange): Promise<Readable> => {
        try {
          return range === undefined
            ? await this.client.getObject(this.bucket, key)
            : await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1);
        } catch (error) {
          if (isS3NotFound(error)) throw MlflowError.notFound(`File '${path}' does not exist.`);
          throw this.fail(error);
        }
      },
      close: async () => {},
    };
  }

  async write(path: string, body: Readable, options: WriteOptions): Promise<void> {
    const key = this.key(path);
    // Big enough that the whole file fits in S3's part limit.
    const partSize = Math.max(this.partSize, Math.ceil((options.size ?? 0) / MAX_PARTS));
    const reader = new PartReader(body);
    if (options.size !== undefined && options.size < partSize) {
      // One part's worth at most: one PUT, sent once the whole body is here (an abort sends nothing).
      const whole = await reader.fill(Buffer.allocUnsafe(options.size));
      if (whole.length < options.size) throw new Error('request body ended early');
      return this.putSmall(key, whole, options.contentType);
    }
    let first: Buffer | undefined;
    if (options.size === undefined) {
      first = await reader.fill(Buffer.allocUnsafe(partSize));
      if (first.length < partSize) return this.putSmall(key, first, options.contentType);
    }
    let uploadId: string;
    try {
      uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, {
        'Content-Type': options.contentType,
      });
    } catch (error) {
      reader.cancel();
      throw this.fail(error);
    }
    try {
      const parts =
        first === undefined
          ? await this.streamParts(key, uploadId, reader, options.size!, partSize)
          : await this.uploadParts(key, uploadId, reader, first, partSize);
      await this.client.completeMultipartUpload(this.bucket, key, uploadId, parts);
    } catch (error) {
      reader.cancel();
      await this.abortQuietly(key, uploadId);
      throw this.fail(error);
    }
  }

  private async putSmall(key: string, body: Buffer, contentType: string): Promise<void> {
    try {
      const url = await this.client.presignedUrl('PUT', this.bucket, key, PRESIGN_EXPIRY_SECONDS);
      await this.connection.putToUrl(url, body, { 'content-type': contentType });
    } catch (error) {
      throw this.fail(error);
    }
  }

  /**
   * A body of known length: each part is piped from the request to its PUT as the bytes arrive, with no
   * part buffer at all, and the next part starts while the previous one's answer is awaited (two in
   * flight at most). A failed part fails the upload (the client retries the whole PUT).
   */
  private async streamParts(
    key: string,
    uploadId: string,
    reader: PartReader,
    size: number,
    partSize: number,
  ): Promise<Array<{ part: number; etag: string }>> {
    const parts: Array<{ part: number; etag: string }> = [];
    const answers: Array<Promise<string>> = [];
    const open: ClientRequest[] = [];
    try {
      for (let partNumber = 1, offset = 0; offset < size; partNumber++) {
        const length = Math.min(partSize, size - offset);
        // Keep at most one earlier part waiting for its answer.
        if (answers.length >= 2)
          parts.push({ part: parts.length + 1, etag: await answers[answers.length - 2]! });
        const url = await this.client.presignedUrl('PUT', this.bucket, key, PRESIGN_EXPIRY_SECONDS, {
          partNumber: String(partNumber),
          uploadId,
        });
        const { request, etag } = this.connection.startPut(url, length);
        open.push(request);
        answers.push(etag);
        for (let sent = 0; sent < length; ) {
          const chunk = await reader.next(length - sent);
          if (chunk === undefined) throw new Error('request body ended early');
          sent += chunk.length;
          if (!request.write(chunk)) await drained(request, etag);
        }
        request.end();
        offset += length;
      }
      for (let i = parts.length; i < answers.length; i++)
        parts.push({ part: i + 1, etag: await answers[i]! });
      return parts;
    } catch (error) {
      for (const request of open) request.destroy();
      throw error;
    }
  }

  /** A chunked body: part after part, the next read into the other buffer while one is on the wire. */
  private async uploadParts(
    key: string,
    uploadId: string,
    reader: PartReader,
    first: Buffer,
    partSize: number,
  ): Promise<Array<{ part: number; etag: string }>> {
    const parts: Array<{ part: number; etag: string }> = [];
    // Two buffers take turns: one on the wire, the other filling from the client.
    let filling: Buffer = Buffer.allocUnsafe(partSize);
    let sending: Buffer = first;
    let current: Buffer = first;
    for (let partNumber = 1; current.length > 0; partNumber++) {
      if (partNumber > MAX_PARTS) {
        throw MlflowError.invalidParameter(
          `Artifact is too large: more than ${MAX_PARTS} parts of ${partSize} bytes. Raise MAST_S3_PART_SIZE.`,
        );
      }
      const upload = this.uploadPart(key, uploadId, partNumber, current);
      // A short part is the last one: nothing more to read.
      const reading = current.length === partSize ? reader.fill(filling) : Promise.resolve(Buffer.alloc(0));
      const [uploaded, next] = await Promise.allSettled([upload, reading]);
      if (uploaded.status === 'rejected') throw uploaded.reason;
      if (next.status === 'rejected') throw next.reason;
      parts.push({ part: partNumber, etag: uploaded.value });
      current = next.value;
      [sending, filling] = [filling, sending];
    }
    return parts;
  }

  private async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const url = await this.client.presignedUrl('PUT', this.bucket, key, PRESIGN_EXPIRY_SECONDS, {
      partNumber: String(partNumber),
      uploadId,
    });
    return this.connection.putToUrl(url, body);
  }

  private async abortQuietly(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(this.bucket, key, uploadId);
    } catch {
      // Best effort: an unfinished upload is never visible; bucket lifecycle rules reap its parts.
    }
  }

  async list(path: string): Promise<DirectoryEntry[]> {
    const dirKey = this.key(path);
    const prefix = dirKey === '' ? '' : `${dirKey}/`;
    const entries = new Map<string, DirectoryEntry>();
    let token = '';
    try {
      do {
        const page = await this.client.listObjectsV2Query(this.bucket, prefix, token, '/', LIST_PAGE, '');
        for (const item of page.objects) {
          if (item.prefix !== undefined) {
            const name = item.prefix.slice(prefix.length).replace(/\/$/, '');
            if (name !== '') entries.set(name, { name, isDir: true });
          } else if (item.name !== undefined) {
            const name = item.name.slice(prefix.length);
            // A key ending in '/' is a "folder" marker some tools create.
            if (name !== '' && !name.includes('/'))
              entries.set(name, { name, isDir: false, size: Number(item.size) });
          }
        }
        token = page.isTruncated ? page.nextContinuationToken : '';
      } while (token !== '');
    } catch (error) {
      throw this.fail(error);
    }
    return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    if (key === '') throw MlflowError.invalidParameter('Refusing to delete the whole bucket.');
    try {
      const keys = [key];
      let token = '';
      do {
        const page = await this.client.listObjectsV2Query(this.bucket, `${key}/`, token, '', LIST_PAGE, '');
        for (const item of page.objects) if (item.name !== undefined) keys.push(item.name);
        token = page.isTruncated ? page.nextContinuationToken : '';
      } while (token !== '');
      await this.removeKeys(keys);
    } catch (error) {
      throw this.fail(error);
    }
  }

  /**
   * Multi-object delete, 1000 keys a request. Some S3-compatible servers fail it where plain deletes
   * work (s3rver races on its own directories): then the keys go one by one. Deleting is idempotent.
   */
  private async removeKeys(keys: string[]): Promise<void> {
    let results: Awaited<ReturnType<typeof this.client.removeObjects>>;
    try {
      results = await this.client.removeObjects(this.bucket, keys);
    } catch (error) {
      if (
        !/HTTP status: 5\d\d|NotImplemented|MethodNotAllowed/.test(
          `${errorCode(error)} ${(error as Error).message}`,
        )
      ) {
        throw error;
      }
      for (const key of keys) await this.client.removeObject(this.bucket, key);
      return;
    }
    const failed = results.flat().find((result) => result?.Error?.Code);
    if (failed?.Error) {
      throw Object.assign(new Error(failed.Error.Message ?? 'delete failed'), { code: failed.Error.Code });
    }
  }

  async presignedDownloadUrl(path: string, expirySeconds: number): Promise<string> {
    try {
      return await this.client.presignedGetObject(this.bucket, this.key(path), expirySeconds, {
        'response-content-disposition': contentDisposition(path),
      });
    } catch (error) {
      throw this.fail(error);
    }
  }

  async ping(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.client.bucketExists(this.bucket);
    } catch (error) {
      throw this.fail(error);
    }
    if (!exists) {
      throw new MlflowError(
        'TEMPORARILY_UNAVAILABLE',
        `Artifact storage bucket '${this.bucket}' does not exist.`,
      );
    }
  }

  private async createMultipart(
    path: string,
    numParts: number,
    contentType: string,
  ): Promise<{ uploadId: string; parts: PresignedPart[] }> {
    const key = this.key(path);
    try {
      const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, {
        'Content-Type': contentType,
      });
      const parts: PresignedPart[] = [];
      for (let partNumber = 1; partNumber <= numParts; partNumber++) {
        const url = await this.client.presignedUrl('PUT', this.bucket, key, PRESIGN_EXPIRY_SECONDS, {
          partNumber: String(partNumber),
          uploadId,
        });
        parts.push({ partNumber, url, headers: {} });
      }
      return { uploadId, parts };
    } catch (error) {
      throw this.fail(error);
    }
  }

  private async completeMultipart(path: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      await this.client.completeMultipartUpload(
        this.bucket,
        this.key(path),
        uploadId,
        sorted.map((part) => ({ part: part.partNumber, etag: part.etag.replace(/"/g, '') })),
      );
    } catch (error) {
      throw this.multipartError(error, uploadId);
    }
  }

  private async abortMultipart(path: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(this.bucket, this.key(path), uploadId);
    } catch (error) {
      const code = errorCode(error);
      // Gone already, or a server without AbortMultipartUpload (s3rver): nothing will become visible.
      if (code === 'NoSuchUpload' || code === 'MethodNotAllowed' || code === 'NotImplemented') return;
      throw this.fail(error);
    }
  }

  private multipartError(error: unknown, uploadId: string): Error {
    const code = errorCode(error);
    if (code === 'NoSuchUpload')
      return MlflowError.notFound(`Multipart upload '${uploadId}' does not exist.`);
    if (code === 'InvalidPart' || code === 'InvalidPartOrder' || code === 'EntityTooSmall') {
      return MlflowError.invalidParameter(`Cannot complete multipart upload: ${(error as Error).message}`);
    }
    return this.fail(error);
  }
}
