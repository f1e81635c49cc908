import type { Readable } from 'node:stream';
import type { ByteRange } from '../domain/byte-range.js';

/** What a download needs to know about a stored file before sending it. */
export interface FileStat {
  size: number;
  /** A strong validator, quoted as in the `ETag` header. */
  etag: string;
  lastModified: Date;
}

/** A file opened for reading: its stat, then its bytes (all or one range), read at most once. */
export interface OpenedFile {
  stat: FileStat;
  read(range?: ByteRange): Promise<Readable>;
  /** Releases the file when it is not read (HEAD, 304, 416); harmless after `read`. */
  close(): Promise<void>;
}

/** One entry of a directory listing: a bare name, relative to the listed directory. */
export interface DirectoryEntry {
  name: string;
  isDir: boolean;
  /** Bytes; absent for directories. */
  size?: number;
}

export interface WriteOptions {
  /** The body's length when the client announced it (Content-Length). */
  size?: number;
  contentType: string;
}

export interface PresignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** Client-driven multipart uploads with presigned part URLs (S3 only). */
export interface MultipartUploads {
  create(
    path: string,
    numParts: number,
    contentType: string,
  ): Promise<{ uploadId: string; parts: PresignedPart[] }>;
  complete(path: string, uploadId: string, parts: UploadedPart[]): Promise<void>;
  abort(path: string, uploadId: string): Promise<void>;
}

/**
 * One storage backend rooted at a directory or bucket prefix. Paths are relative, already made safe
 * by `safeArtifactPath` ('' is the root); every implementation still refuses to leave its root.
 * Bodies are streamed both ways: no method holds a whole file in memory. A file becomes visible only
 * once completely written; a failed or aborted write leaves nothing behind.
 */
export interface ArtifactStore {
  /** The root as a URI, for logs and messages. */
  readonly uri: string;
  /** Present where the backend supports client-driven multipart uploads. */
  readonly multipart?: MultipartUploads;
  /** Opens a file, or undefined when there is no file at `path` (missing, or a directory). */
  open(path: string): Promise<OpenedFile | undefined>;
  write(path: string, body: Readable, options: WriteOptions): Promise<void>;
  /** The entries directly under `path`, sorted by name; empty when it is no directory. */
  list(path: string): Promise<DirectoryEntry[]>;
  /** Deletes a file or a whole directory; nothing to delete is not an error. */
  delete(path: string): Promise<void>;
  /** A time-limited URL a client can GET the file from directly, where the backend has such URLs. */
  presignedDownloadUrl?(path: string, expirySeconds: number): Promise<string>;
  /** Rejects when the backend cannot be reached (readiness). */
  ping(): Promise<void>;
}
