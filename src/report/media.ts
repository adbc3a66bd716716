// Images, videos and sounds named by the run files, turned into URLs that work from a report opened from disk:
// small files are embedded as data: URIs (the report then travels alone), larger ones are referenced by a
// relative path, which stays valid as long as report.html sits in its run directory.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export type MediaKind = 'image' | 'video' | 'audio' | 'other';

const MIME_TYPES: Record<string, { mime: string; kind: MediaKind; playable: boolean }> = {
  '.png': { mime: 'image/png', kind: 'image', playable: true },
  '.jpg': { mime: 'image/jpeg', kind: 'image', playable: true },
  '.jpeg': { mime: 'image/jpeg', kind: 'image', playable: true },
  '.gif': { mime: 'image/gif', kind: 'image', playable: true },
  '.webp': { mime: 'image/webp', kind: 'image', playable: true },
  '.mp4': { mime: 'video/mp4', kind: 'video', playable: true },
  '.m4v': { mime: 'video/mp4', kind: 'video', playable: true },
  '.webm': { mime: 'video/webm', kind: 'video', playable: true },
  '.mov': { mime: 'video/quicktime', kind: 'video', playable: true },
  '.mkv': { mime: 'video/x-matroska', kind: 'video', playable: false },
  '.avi': { mime: 'video/x-msvideo', kind: 'video', playable: false },
  '.wav': { mime: 'audio/wav', kind: 'audio', playable: true },
  '.mp3': { mime: 'audio/mpeg', kind: 'audio', playable: true },
  '.m4a': { mime: 'audio/mp4', kind: 'audio', playable: true },
  '.aac': { mime: 'audio/aac', kind: 'audio', playable: true },
  '.ogg': { mime: 'audio/ogg', kind: 'audio', playable: true },
  '.oga': { mime: 'audio/ogg', kind: 'audio', playable: true },
  '.opus': { mime: 'audio/ogg', kind: 'audio', playable: true },
  '.flac': { mime: 'audio/flac', kind: 'audio', playable: true },
};

export type MediaSource =
  | { ok: true; url: string; kind: MediaKind; embedded: boolean; playable: boolean }
  | { ok: false; reason: string };

export interface MediaOptions {
  /** Files up to this size are embedded as data: URIs; larger ones are linked by relative path. */
  embedLimitBytes: number;
  /** Once this much has been embedded, further files are linked, so that the page stays light (default 24 MiB). */
  embedTotalBytes?: number;
}

export class MediaResolver {
  private readonly root: string;
  private readonly cache = new Map<string, MediaSource>();
  private embeddedBytes = 0;

  constructor(runDir: string, private readonly options: MediaOptions) {
    this.root = realpathSync(runDir);
  }

  /** The URL for `relPath` (relative to the run directory), or why it cannot be shown. */
  resolve(relPath: string): MediaSource {
    let source = this.cache.get(relPath);
    if (!source) {
      source = this.lookUp(relPath);
      this.cache.set(relPath, source);
    }
    return source;
  }

  private lookUp(relPath: string): MediaSource {
    if (path.isAbsolute(relPath) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(relPath))
      return { ok: false, reason: 'not a path relative to the run directory' };
    const absolute = path.resolve(this.root, relPath);
    if (!isInside(this.root, absolute)) return { ok: false, reason: 'points outside the run directory' };
    // A symbolic link inside the run directory is followed wherever it leads: it is how a run shows dataset
    // media without copying them (the link was made on purpose by whoever wrote the run).
    if (!existsSync(absolute)) return { ok: false, reason: 'file not found' };
    const real = realpathSync(absolute);
    const stats = statSync(real);
    if (!stats.isFile()) return { ok: false, reason: 'not a file' };
    const type = MIME_TYPES[path.extname(real).toLowerCase()];
    const kind = type?.kind ?? 'other';
    const playable = type?.playable ?? false;
    const budget = this.options.embedTotalBytes ?? 24 * 1024 * 1024;
    if (type && playable && stats.size <= this.options.embedLimitBytes && this.embeddedBytes + stats.size <= budget) {
      this.embeddedBytes += stats.size;
      const url = `data:${type.mime};base64,${readFileSync(real).toString('base64')}`;
      return { ok: true, url, kind, embedded: true, playable };
    }
    return { ok: true, url: relativeUrl(path.relative(this.root, absolute)), kind, embedded: false, playable };
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** A relative URL whose every path segment is percent-encoded (file names may hold `#`, `?`, `<`, spaces). */
export function relativeUrl(relPath: string): string {
  return relPath.split(path.sep).map(encodeURIComponent).join('/');
}
