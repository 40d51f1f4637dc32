#!/usr/bin/env python3
"""scikit-learn's LogisticRegression on the same cached vectors `bottleneck vectors` exported, for
scripts/bench-train.sh:

    .venv/bin/python scripts/sklearn_baseline.py DIR

Standardises with the train split's statistics (as our head does), fits multinomial logistic regression
(lbfgs, C=1.0, max_iter=1000) on X_train, and prints one line with the fit time and the test accuracy:

    sklearn-logistic-regression train=60000 test=10000 fit 41.2 s accuracy 0.9012
"""
import os
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def main():
    folder = sys.argv[1]
    load = lambda name: np.load(os.path.join(folder, name))
    x_train, y_train, x_test, y_test = load('X_train.npy'), load('y_train.npy'), load('X_test.npy'), load('y_test.npy')
    start = time.perf_counter()
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(x_train), y_train)
    seconds = time.perf_counter() - start
    accuracy = float((model.predict(scaler.transform(x_test)) == y_test).mean())
    print(f'sklearn-logistic-regression train={len(y_train)} test={len(y_test)} fit {seconds:.1f} s '
          f'accuracy {accuracy:.4f}')


if __name__ == '__main__':
    main()
