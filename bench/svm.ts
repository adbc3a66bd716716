// One-vs-rest linear SVM (dual coordinate descent) on a synthetic problem shaped like the ESC protocol's
// training set (clips × features, 10 classes). Prints one JSON line: seconds, passes, convergence.
// Options: --n 3200 --d 2048 --classes 10 --C 0.01 --tolerance 0.1 --max-iterations 1000 --seed 0
import { parseArgs } from 'node:util';
import { matrix, trainOneVsRest, oneVsRestScores, argmaxRows, fitStandardizer, applyStandardizer } from '../src/eval/svm.js';
import { seededRandom } from '../src/data/rng.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '3200' },
    d: { type: 'string', default: '2048' },
    classes: { type: 'string', default: '10' },
    C: { type: 'string', default: '0.01' },
    tolerance: { type: 'string', default: '0.1' },
    'max-iterations': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '0' },
  },
});
const [n, d, K] = [Number(values.n), Number(values.d), Number(values.classes)];
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
const X0 = matrix(data, n, d);
const X = applyStandardizer(fitStandardizer(X0), X0);
const started = performance.now();
const model = trainOneVsRest(X, labels, K, { C: Number(values.C), tolerance: Number(values.tolerance), maxIterations: Number(values['max-iterations']) });
const seconds = (performance.now() - started) / 1000;
const predicted = argmaxRows(oneVsRestScores(model, X), K);
const trainAccuracy = labels.filter((l, i) => predicted[i] === l).length / n;
console.log(
  JSON.stringify({
    bench: 'svm',
    n,
    d,
    classes: K,
    C: Number(values.C),
    tolerance: Number(values.tolerance),
    seconds: Math.round(seconds * 100) / 100,
    passesPerClass: model.diagnostics.map((g) => g.iterations),
    converged: model.diagnostics.filter((g) => g.converged).length,
    maxViolation: Math.max(...model.diagnostics.map((g) => g.violation)),
    trainAccuracy,
  }),
);
