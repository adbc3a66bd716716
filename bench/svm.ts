// avid's one-vs-rest linear SVM (src/eval/svm.ts, dual coordinate descent) against LIBLINEAR through
// scikit-learn's LinearSVC (bench/reference/liblinear_svm.py, Debian's python3-sklearn) on the same feature
// matrix, written to a temporary folder: the same C, loss, bias (regularised, on a constant feature of 1) and
// stopping rule (projected-gradient spread ≤ tolerance). The problem is shaped like the ESC protocol's
// training set (clips × features, 10 classes, correlated features in a low-rank subspace, standardised on
// the training rows); a fifth of the rows is held out for the test accuracy.
//
// Prints one JSON line: both fit times (wall and CPU), the ratio avid / LIBLINEAR (target ≤ 1.5), passes,
// convergence and both accuracies. With --repeats > 1 the two alternate and the medians are reported.
// Options: --n 3200 --d 2048 --classes 10 --C 0.01 --tolerance 0.1 --loss hinge --max-iterations 1000
// --seed 0 --repeats 1 --python /usr/bin/python3 --no-reference
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matrix, trainOneVsRest, oneVsRestScores, argmaxRows, fitStandardizer, applyStandardizer, type SvmLoss } from '../src/eval/svm.js';
import { seededRandom } from '../src/data/rng.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '3200' },
    d: { type: 'string', default: '2048' },
    classes: { type: 'string', default: '10' },
    C: { type: 'string', default: '0.01' },
    tolerance: { type: 'string', default: '0.1' },
    loss: { type: 'string', default: 'hinge' },
    'max-iterations': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '0' },
    repeats: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const [n, d, K] = [Number(values.n), Number(values.d), Number(values.classes)];
const C = Number(values.C);
const tolerance = Number(values.tolerance);
const maxIterations = Number(values['max-iterations']);
const repeats = Number(values.repeats);
const loss = values.loss as SvmLoss;
if (loss !== 'hinge' && loss !== 'squared-hinge') throw new Error(`--loss must be hinge or squared-hinge; got '${values.loss}'`);
const loadAtStart = loadavg();

// ---- the problem ------------------------------------------------------------------------------------------
const random = seededRandom(Number(values.seed));
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
// Classes in a low-dimensional subspace plus isotropic noise, with correlated features (as conv features are).
const rank = 16;
const basis = Array.from({ length: rank * d }, gaussian);
const centres = Array.from({ length: K }, () => Array.from({ length: rank }, gaussian));
const data = new Float32Array(n * d);
const labels: number[] = [];
for (let i = 0; i < n; i++) {
  const c = i % K;
  labels.push(c);
  const z = centres[c].map((v) => v + 1.5 * gaussian());
  for (let k = 0; k < d; k++) {
    let s = 0.5 * gaussian();
    for (let r = 0; r < rank; r++) s += z[r] * basis[r * d + k];
    data[i * d + k] = s;
  }
}
const all = matrix(data, n, d);
// Every fifth run of K consecutive rows (one of each class) is held out, so both sides hold every class.
const heldOut = (i: number) => Math.floor(i / K) % 5 === 4;
const testRows = Array.from({ length: n }, (_, i) => i).filter(heldOut);
const trainRows = Array.from({ length: n }, (_, i) => i).filter((i) => !heldOut(i));
const stats = fitStandardizer(all, trainRows);
const Xtrain = applyStandardizer(stats, all, trainRows);
const Xtest = applyStandardizer(stats, all, testRows);
const ytrain = trainRows.map((i) => labels[i]);
const ytest = testRows.map((i) => labels[i]);

const scratch = mkdtempSync(path.join(tmpdir(), 'avid-bench-svm-'));
const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
writeFileSync(path.join(scratch, 'meta.json'), JSON.stringify({ train: Xtrain.rows, test: Xtest.rows, d, classes: K }));
writeFileSync(path.join(scratch, 'xtrain.f32'), bytes(Xtrain.data as Float32Array));
writeFileSync(path.join(scratch, 'xtest.f32'), bytes(Xtest.data as Float32Array));
writeFileSync(path.join(scratch, 'ytrain.i32'), bytes(Int32Array.from(ytrain)));
writeFileSync(path.join(scratch, 'ytest.i32'), bytes(Int32Array.from(ytest)));

function accuracy(model: ReturnType<typeof trainOneVsRest>, X: typeof Xtrain, y: number[]): number {
  const predicted = argmaxRows(oneVsRestScores(model, X), K);
  return y.filter((l, i) => predicted[i] === l).length / y.length;
}

interface Fit {
  seconds: number;
  cpuSeconds: number;
  passes: number;
  converged: boolean;
  trainAccuracy: number;
  testAccuracy: number;
}

function fitAvid(): Fit {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const model = trainOneVsRest(Xtrain, ytrain, K, { C, loss, tolerance, maxIterations });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    passes: Math.max(...model.diagnostics.map((g) => g.iterations)),
    converged: model.diagnostics.every((g) => g.converged),
    trainAccuracy: accuracy(model, Xtrain, ytrain),
    testAccuracy: accuracy(model, Xtest, ytest),
  };
}

let referenceNote: string | null = values['no-reference'] ? 'not run (--no-reference)' : null;
function fitLiblinear(): Fit | null {
  if (referenceNote) return null;
  const script = path.join(here, 'reference', 'liblinear_svm.py');
  const r = spawnSync(values.python!, [script, '--data', scratch, '--C', String(C), '--tolerance', String(tolerance), '--loss', loss, '--max-iterations', String(maxIterations)], { encoding: 'utf8' });
  if (r.status !== 0) {
    referenceNote = `${values.python} bench/reference/liblinear_svm.py failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-1)[0]} (it needs Debian's python3-sklearn)`;
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Fit;
}

const avidFits: Fit[] = [];
const liblinearFits: Fit[] = [];
try {
  for (let r = 0; r < repeats; r++) {
    avidFits.push(fitAvid());
    const ref = fitLiblinear();
    if (ref) liblinearFits.push(ref);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const summarise = (fits: Fit[]) =>
  fits.length === 0
    ? null
    : {
        seconds: r3(median(fits.map((f) => f.seconds))),
        cpuSeconds: r3(median(fits.map((f) => f.cpuSeconds))),
        passes: fits[0].passes,
        converged: fits.every((f) => f.converged),
        trainAccuracy: fits[0].trainAccuracy,
        testAccuracy: fits[0].testAccuracy,
      };
const avid = summarise(avidFits)!;
const liblinear = summarise(liblinearFits);
console.log(
  JSON.stringify({
    bench: 'svm',
    n,
    d,
    classes: K,
    train: Xtrain.rows,
    test: Xtest.rows,
    C,
    loss,
    tolerance,
    repeats,
    avid,
    liblinear,
    referenceNote,
    // avid / LIBLINEAR (target ≤ 1.5).
    ratioSeconds: liblinear ? r3(avid.seconds / liblinear.seconds) : null,
    ratioCpuSeconds: liblinear ? r3(avid.cpuSeconds / liblinear.cpuSeconds) : null,
    loadAverage: { start: loadAtStart.map(r3), end: loadavg().map(r3) },
  }),
);
