#!/usr/bin/python3
"""Golden files for the competition metric and ROC AUC, computed with scikit-learn.

Writes under src/test/resources/metric/: solution.csv (train.csv form), submission_<case>.csv (row_id,fractured),
expected_scores.csv (case,score) and auc_cases.csv (case,labels,scores,auc). The score of a submission is the mean
over studies of sklearn.metrics.log_loss(y, p, sample_weight=w, labels=[0, 1]) on the study's eight rows, with
probabilities clipped to [1e-15, 1 - 1e-15] first and weights C1..C7 1/2, patient_overall 7/14 (negative/positive).
Run from the examples folder: /usr/bin/python3 src/test/python/make_metric_golden.py
"""
import os

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

OUT = os.path.join("src", "test", "resources", "metric")
TARGETS = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "patient_overall"]
EPS = 1e-15


def study_weights(y):
    base = np.array([1.0] * 7 + [7.0])
    return np.where(y == 1, 2 * base, base)


def score(labels, preds):
    losses = []
    for uid, y in labels.items():
        p = np.clip(preds[uid], EPS, 1 - EPS)
        losses.append(log_loss(y, p, sample_weight=study_weights(y), labels=[0, 1]))
    return float(np.mean(losses))


def main():
    rng = np.random.default_rng(2022)
    os.makedirs(OUT, exist_ok=True)
    labels = {}
    for i in range(40):
        uid = "1.2.826.0.1.3680043.%d" % (1000 + i)
        y = np.zeros(8, dtype=int)
        if rng.random() < 0.48:
            y[:7] = rng.random(7) < 0.25
            if not y[:7].any():
                y[rng.integers(7)] = 1
        y[7] = int(y[:7].any())
        labels[uid] = y
    with open(os.path.join(OUT, "solution.csv"), "w") as f:
        f.write("StudyInstanceUID,patient_overall," + ",".join(TARGETS[:7]) + "\n")
        for uid, y in labels.items():
            f.write(uid + "," + str(y[7]) + "," + ",".join(str(v) for v in y[:7]) + "\n")

    cases = {}
    cases["uniform"] = {u: rng.random(8) for u in labels}
    cases["half"] = {u: np.full(8, 0.5) for u in labels}
    prevalence = np.mean([y for y in labels.values()], axis=0)
    cases["prevalence"] = {u: prevalence.copy() for u in labels}
    informative = {}
    for u, y in labels.items():
        informative[u] = np.clip(np.where(y == 1, rng.beta(5, 2, 8), rng.beta(2, 5, 8)), 0, 1)
    cases["informative"] = informative
    edge = {}
    for k, (u, y) in enumerate(labels.items()):
        p = rng.random(8)
        if k % 4 == 0:
            p = y.astype(float)                     # certain and right: clipped to 1e-15 away
        elif k % 4 == 1:
            p = 1.0 - y.astype(float)               # certain and wrong: -log(1e-15) each
        elif k % 4 == 2:
            p[:4] = [0.0, 1.0, 1e-20, 1 - 1e-17]    # beyond the clip on either side
        edge[u] = p
    cases["edge"] = edge

    with open(os.path.join(OUT, "expected_scores.csv"), "w") as f:
        f.write("case,score\n")
        for name, preds in cases.items():
            rows = []
            for u in labels:
                for t, target in enumerate(TARGETS):
                    rows.append("%s_%s,%r" % (u, target, float(preds[u][t])))
            if name == "uniform":
                rows = [rows[i] for i in rng.permutation(len(rows))]   # order must not matter
            with open(os.path.join(OUT, "submission_%s.csv" % name), "w") as s:
                s.write("row_id,fractured\n" + "\n".join(rows) + "\n")
            f.write("%s,%r\n" % (name, score(labels, preds)))

    with open(os.path.join(OUT, "auc_cases.csv"), "w") as f:
        f.write("case,labels,scores,auc\n")
        for case in range(6):
            n = int(rng.integers(8, 60))
            y = (rng.random(n) < 0.35).astype(int)
            y[0], y[1] = 0, 1
            s = rng.random(n) + 0.6 * y
            if case % 2 == 1:
                s = np.round(s * 4) / 4                 # many ties
            f.write("%d,%s,%s,%r\n" % (case, " ".join(str(v) for v in y), " ".join(repr(float(v)) for v in s),
                                        float(roc_auc_score(y, s))))


if __name__ == "__main__":
    main()
