#!/usr/bin/python3
"""LIBLINEAR's one-vs-rest linear SVM (scikit-learn's LinearSVC, dual coordinate descent) on the feature
matrix that bench/svm.ts wrote, with the same settings as avid's solver: L1 (hinge) or L2 (squared hinge)
loss, the same C, a regularised bias on a constant feature of 1 (intercept_scaling=1), and LIBLINEAR's own
stopping rule on the projected gradient's spread (tol = avid's tolerance).

Prints one JSON line: fit wall seconds and CPU seconds (resource.getrusage of this process, fit only), the
passes LIBLINEAR made (n_iter_, the largest over the classes), and train and test accuracy.

usage: /usr/bin/python3 bench/reference/liblinear_svm.py --data DIR --C 0.01 --tolerance 0.1 --loss hinge
  DIR holds meta.json {train, test, d, classes}, xtrain.f32, ytrain.i32, xtest.f32, ytest.i32 (row-major).
"""
import argparse
import json
import os
import resource
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--C', type=float, required=True)
    p.add_argument('--tolerance', type=float, required=True)
    p.add_argument('--loss', choices=['hinge', 'squared-hinge'], default='hinge')
    p.add_argument('--max-iterations', type=int, default=1000)
    args = p.parse_args()
    with open(os.path.join(args.data, 'meta.json')) as f:
        meta = json.load(f)
    d = meta['d']
    xtrain = np.fromfile(os.path.join(args.data, 'xtrain.f32'), dtype=np.float32).reshape(meta['train'], d)
    ytrain = np.fromfile(os.path.join(args.data, 'ytrain.i32'), dtype=np.int32)
    xtest = np.fromfile(os.path.join(args.data, 'xtest.f32'), dtype=np.float32).reshape(meta['test'], d)
    ytest = np.fromfile(os.path.join(args.data, 'ytest.i32'), dtype=np.int32)

    model = LinearSVC(C=args.C, loss='hinge' if args.loss == 'hinge' else 'squared_hinge', dual=True, tol=args.tolerance,
                      fit_intercept=True, intercept_scaling=1.0, multi_class='ovr', max_iter=args.max_iterations, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', ConvergenceWarning)
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        model.fit(xtrain, ytrain)
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    print(json.dumps({
        'seconds': wall,
        'cpuSeconds': cpu,
        'passes': int(np.max(model.n_iter_)),
        'converged': not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        'trainAccuracy': float((model.predict(xtrain) == ytrain).mean()),
        'testAccuracy': float((model.predict(xtest) == ytest).mean()),
    }))


if __name__ == '__main__':
    main()
