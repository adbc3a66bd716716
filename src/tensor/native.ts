// Loads the compiled addon (build/Release/avid_native.node). Everything native goes through this object.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// The package root: two levels up from src/tensor in a checkout and from dist/tensor in the installed package.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// AVID_NATIVE names an addon built elsewhere (a second copy of the package, a test of the packed tarball)
// so that the libtorch code need not be compiled again for it.
const chosen = process.env.AVID_NATIVE;
if (chosen !== undefined && !existsSync(chosen)) {
  throw new Error(`AVID_NATIVE names '${chosen}', which does not exist; point it at a built avid_native.node or unset it.`);
}
const candidates = chosen ? [chosen] : [path.join(root, 'build/Release/avid_native.node'), path.join(root, 'build/Debug/avid_native.node')];
const found = candidates.find((p) => existsSync(p));
if (!found) {
  throw new Error(
    `avid's native addon is not built (looked for ${candidates.join(', ')}). ` +
      'Install libtorch-dev, then run `npm run build:native` (see README), or set AVID_NATIVE to a built avid_native.node.',
  );
}

// OpenMP's default is to spin while waiting for work. On a machine whose cores are also busy with other
// processes (our own ffmpeg decoders, for one), a spinning thread waits for a descheduled sibling at every
// parallel region: a training step measured 7.8 s with 2 threads against 0.55 s once threads sleep instead.
// libgomp reads this when the addon loads it, so it is set before; a user's own setting wins.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

// The addon's functions take and return opaque handles; typing them loosely keeps this file small, and the
// typed surface is the Tensor class.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
//
// The addon's exports object has a few hundred properties added one by one, which leaves it in V8's slow
// dictionary mode: every `native.op` load was a hash lookup through the generic load IC (a few percent of a
// tiny op). A copy made by spreading is a fast-mode object whose loads are inline-cached.
export const native: Record<string, (...args: any[]) => any> & { torchVersion: string } = {
  ...createRequire(import.meta.url)(found),
};

/**
 * A reference to a native tensor: a slot of this thread's tensor table and the slot's generation, encoded as
 * a non-negative integer (native/common.h). A number is far cheaper to pass and return than an object.
 */
export type Handle = number;
