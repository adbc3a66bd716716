// One epoch of a loader, as a benchmark consumes it: every batch taken and freed at once, the loader closed
// even when a batch fails. Returns the clips delivered.
import type { DataLoader } from '../../src/data/loader.js';

export async function drainLoader(loader: DataLoader, epoch = 0): Promise<number> {
  let clips = 0;
  try {
    for await (const batch of loader.epoch(epoch)) {
      clips += batch.index.size(0);
      for (const t of [batch.video, batch.audio, batch.index]) t?.dispose();
    }
  } finally {
    await loader.close();
  }
  return clips;
}
