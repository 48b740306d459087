import { isUtf8 } from 'node:buffer';
import type { FileKind } from '@circles/platform';
import { type SourceType, sniffImageType } from './images.ts';

export interface DetectedType {
  contentType: string;
  kind: FileKind;
  /** Set for the image formats that are decoded and re-encoded to WebP. */
  image?: SourceType;
}

const OCTET: DetectedType = { contentType: 'application/octet-stream', kind: 'other' };
const ascii = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('latin1');
const startsWith = (bytes: Buffer, sig: number[], at = 0) => bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);

/**
 * What a file really is, from its bytes alone: the name and the declared Content-Type are never trusted. Anything a
 * browser could run as a document (SVG, HTML, XML, XHTML) comes back as application/octet-stream, so it is only
 * ever served as a download, never rendered on our origin.
 */
export function detectFileType(bytes: Buffer): DetectedType {
  const image = sniffImageType(bytes);
  if (image) return { contentType: image, kind: 'image', image };
  if (ascii(bytes, 0, 5) === '%PDF-') return { contentType: 'application/pdf', kind: 'document' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) return zipType(bytes);
  if (startsWith(bytes, [0x1f, 0x8b])) return { contentType: 'application/gzip', kind: 'archive' };
  if (startsWith(bytes, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return { contentType: 'application/x-7z-compressed', kind: 'archive' };
  if (ascii(bytes, 0, 6) === 'Rar!\x1a\x07') return { contentType: 'application/vnd.rar', kind: 'archive' };
  if (startsWith(bytes, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { contentType: 'application/x-xz', kind: 'archive' };
  if (ascii(bytes, 0, 3) === 'BZh' && bytes[3]! >= 0x31 && bytes[3]! <= 0x39) return { contentType: 'application/x-bzip2', kind: 'archive' };
  if (startsWith(bytes, [0x28, 0xb5, 0x2f, 0xfd])) return { contentType: 'application/zstd', kind: 'archive' };
  if (ascii(bytes, 257, 262) === 'ustar') return { contentType: 'application/x-tar', kind: 'archive' };
  if (ascii(bytes, 4, 8) === 'ftyp') return ftypType(ascii(bytes, 8, 12));
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) {
    // Matroska and WebM share EBML; the DocType says which.
    return ascii(bytes, 0, 64).includes('webm') ? { contentType: 'video/webm', kind: 'video' } : { contentType: 'video/x-matroska', kind: 'video' };
  }
  if (ascii(bytes, 0, 4) === 'OggS') return { contentType: 'audio/ogg', kind: 'audio' };
  if (ascii(bytes, 0, 4) === 'fLaC') return { contentType: 'audio/flac', kind: 'audio' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WAVE') return { contentType: 'audio/wav', kind: 'audio' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'AVI ') return { contentType: 'video/x-msvideo', kind: 'video' };
  if (ascii(bytes, 0, 3) === 'ID3' || isMp3Frame(bytes)) return { contentType: 'audio/mpeg', kind: 'audio' };
  if (bytes.indexOf(0) === -1 && isUtf8(bytes)) return isActiveMarkup(bytes) ? OCTET : { contentType: 'text/plain', kind: 'text' };
  return OCTET;
}

/** ISO base media (MP4 family): the major brand tells audio, video and still-image containers apart. */
function ftypType(brand: string): DetectedType {
  if (/^M4[ABP] $/.test(brand) || brand === 'F4A ' || brand === 'F4B ') return { contentType: 'audio/mp4', kind: 'audio' };
  if (brand === 'qt  ') return { contentType: 'video/quicktime', kind: 'video' };
  // HEIC/HEIF/AVIF stills are not decoded here: kept as a download.
  if (/^(heic|heix|hevc|hevx|heim|heis|mif1|msf1|avif|avis)$/.test(brand)) return OCTET;
  if (/^3g/.test(brand)) return { contentType: 'video/3gpp', kind: 'video' };
  return { contentType: 'video/mp4', kind: 'video' };
}

/** An MPEG audio (layer II/III) frame header: sync bits, a valid version, layer, bitrate and sample rate (not AAC's ADTS). */
function isMp3Frame(b: Buffer): boolean {
  if (b.length < 4 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return false;
  const version = (b[1]! >> 3) & 3;
  const layer = (b[1]! >> 1) & 3;
  const bitrate = b[2]! >> 4;
  const rate = (b[2]! >> 2) & 3;
  // Layer I is left out: nobody ships it, and its header is also the UTF-16 byte order mark (FF FE).
  return version !== 1 && (layer === 1 || layer === 2) && bitrate !== 0 && bitrate !== 15 && rate !== 3;
}

/**
 * Text a browser would treat as a document: anything whose first significant character (after a BOM, whitespace and
 * XML/HTML comments, which also start with "<") opens a tag — <svg, <?xml, <!doctype html, <html, <script, <body…
 */
function isActiveMarkup(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<');
}

const zipDocuments: [RegExp, string][] = [
  [/^word\//, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  [/^xl\//, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  [/^ppt\//, 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
];
const packageMimetypes = new Set([
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/epub+zip',
]);

/**
 * A ZIP, or an office document or e-book packaged as one — decided from the archive's own contents: the entry names
 * in its central directory (Office Open XML) or its stored `mimetype` entry (OpenDocument, EPUB). Documents with
 * macros (vbaProject.bin) stay plain archives.
 */
function zipType(bytes: Buffer): DetectedType {
  const ZIP: DetectedType = { contentType: 'application/zip', kind: 'archive' };
  // OpenDocument and EPUB begin with an uncompressed "mimetype" entry holding their type.
  if (bytes.readUInt16LE(8) === 0 && bytes.length > 30) {
    const nameLen = bytes.readUInt16LE(26);
    const extraLen = bytes.readUInt16LE(28);
    const size = bytes.readUInt32LE(18);
    if (ascii(bytes, 30, 30 + nameLen) === 'mimetype' && size < 100) {
      const start = 30 + nameLen + extraLen;
      const type = ascii(bytes, start, start + size).trim();
      if (packageMimetypes.has(type)) return { contentType: type, kind: 'document' };
    }
  }
  const names = zipEntryNames(bytes);
  if (!names || !names.includes('[Content_Types].xml') || names.some((n) => /(^|\/)vbaProject\.bin$/i.test(n))) return ZIP;
  for (const [re, type] of zipDocuments) if (names.some((n) => re.test(n))) return { contentType: type, kind: 'document' };
  return ZIP;
}

/** Entry names from the central directory at the end of the archive; null when it cannot be read. */
function zipEntryNames(bytes: Buffer): string[] | null {
  // End of central directory: 22 bytes plus a comment of up to 64 KiB.
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= from; i--) {
    if (bytes[i] === 0x50 && bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const count = Math.min(bytes.readUInt16LE(eocd + 10), 5000);
  let at = bytes.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) return null;
    const nameLen = bytes.readUInt16LE(at + 28);
    const extraLen = bytes.readUInt16LE(at + 30);
    const commentLen = bytes.readUInt16LE(at + 32);
    names.push(bytes.subarray(at + 46, at + 46 + nameLen).toString('utf8'));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

const MAX_NAME = 200;
// Bidirectional embeddings, overrides and isolates, and the marks (LRM, RLM, ALM): they make "gpj.exe" look like "exe.jpg".
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The uploader's file name made safe to store and show: only the part after the last / or \, no control characters
 * or bidi overrides, trimmed, at most 200 characters (the extension kept), "file" when nothing is left. It is only
 * ever a label: storage keys are the file's id.
 */
export function safeFileName(raw: string | null | undefined): string {
  if (!raw) return 'file';
  let name = raw.slice(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1);
  name = name.replace(LONE_SURROGATE, '').normalize('NFC').replace(CONTROL, '').replace(BIDI, '').replace(/\s+/g, ' ').trim();
  if (/^\.*$/.test(name)) return 'file';
  const chars = Array.from(name);
  if (chars.length <= MAX_NAME) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? Array.from(name.slice(dot)) : [];
  if (ext.length > 1 && ext.length <= 20) return (Array.from(name.slice(0, dot)).slice(0, MAX_NAME - ext.length).join('').trimEnd() + ext.join('')).trim();
  return chars.slice(0, MAX_NAME).join('').trimEnd();
}

/** The name a download gets: a re-encoded image's extension says .webp, since that is what the bytes are now. */
export function downloadName(name: string, contentType: string): string {
  if (contentType !== 'image/webp' || /\.webp$/i.test(name)) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 && name.length - dot <= 6 ? name.slice(0, dot) : name;
  return `${Array.from(stem).slice(0, MAX_NAME - 5).join('')}.webp`;
}

/** Shown in place by browsers (each sandboxed by the route's CSP): re-encoded images, audio, video and PDF. */
export function isInline(contentType: string): boolean {
  return contentType === 'image/webp' || contentType === 'application/pdf' || /^(audio|video)\//.test(contentType);
}

/**
 * `inline` or `attachment`, with a quoted ASCII fallback name (quotes, backslashes, % and non-ASCII replaced) for
 * old clients and the exact name in RFC 5987 form (`filename*=UTF-8''…`) for the rest.
 */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
