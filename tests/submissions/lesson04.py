"""Known submissions for lesson 04 (classic ML vs deep learning, honest evaluation) and their exact scores.

Points per tests cell: 04_cv_score_tests 8.5, 04_concept_compare_tests 3.5, 04_concept_learning_curve_tests 3.5,
04_metrics_by_hand_tests 10, 04_imbalance_report_tests 7.5, 04_brier_tests 8, 04_concept_cost_tests 3.5,
04_split_tests 9.5, 04_diagnose_leak_tests 11, 04_budgeted_search_tests 7.5.
"""
from tests.submissions import Variant

ASSIGNMENT = "04_classic_vs_deep"

# ---------------------------------------------------------------------------------------------
# Wrong but plausible.
# ---------------------------------------------------------------------------------------------

# Accuracy reported as success: average="micro" on a binary problem pools both classes, so
# "precision", "recall" and "F1" all come out equal to accuracy (0.95 for the majority-class
# predictor instead of 0). Fails the two checks on precision/recall/F1 (public and hidden);
# keys, accuracy/balanced accuracy and the two ranking-metric checks pass: 4 of 6.
IMBALANCE_MICRO = '''
def imbalance_report(y_true, y_pred, y_score):
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, average="micro", zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, average="micro", zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, y_score)),
        "pr_auc": float(average_precision_score(y_true, y_score)),
    }
'''

# A grouped split written as a plain shuffled split of the rows: rows of one patient land on both
# sides. Partition, determinism and all time_split checks pass; "no group on both sides", "a
# quarter of the groups in test" and the hidden shuffled-ids check fail: 5 of 8.
GROUP_SPLIT_SHUFFLES_ROWS = '''
def group_split(groups, test_size=0.25, seed=0):
    idx = np.arange(len(groups))
    train_idx, test_idx = train_test_split(idx, test_size=test_size, random_state=seed)
    return train_idx, test_idx


def time_split(times, test_size=0.25):
    order = np.argsort(times, kind="stable")
    n_test = int(round(test_size * len(order)))
    return order[: len(order) - n_test], order[len(order) - n_test:]
'''

# A time split that shuffles: right sizes, but the test set is not the future. The three
# time_split checks fail (latest quarter, ordering, hidden timestamps); group_split is right: 5 of 8.
TIME_SPLIT_SHUFFLES = '''
def group_split(groups, test_size=0.25, seed=0):
    groups = np.asarray(groups)
    unique = np.unique(groups)
    n_test = int(round(test_size * len(unique)))
    test_groups = np.random.default_rng(seed).choice(unique, size=n_test, replace=False)
    in_test = np.isin(groups, test_groups)
    return np.flatnonzero(~in_test), np.flatnonzero(in_test)


def time_split(times, test_size=0.25):
    return train_test_split(np.arange(len(times)), test_size=test_size, random_state=0)
'''

# Denominators swapped: "precision" divides by the actual positives (tp + fn) and "recall" by the
# predicted ones (tp + fp). Counts and ROC-AUC are right; the public P/R/F1 example and the hidden
# random-labels check fail; with no predicted positives both guarded ratios are 0, as they should be: 5 of 7.
PRECISION_RECALL_SWAPPED = '''
def confusion_counts(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    return tp, fp, fn, tn


def precision_recall_f1(y_true, y_pred):
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    precision = tp / (tp + fn) if tp + fn else 0.0
    recall = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def roc_auc_by_ranking(y_true, scores):
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))
'''

# Ties counted as wins for the positive (>= instead of > plus a half): only the tied-scores
# check fails: 6 of 7.
ROC_AUC_TIES_AS_WINS = PRECISION_RECALL_SWAPPED.replace(
    "precision = tp / (tp + fn) if tp + fn else 0.0\n    recall = tp / (tp + fp) if tp + fp else 0.0",
    "precision = tp / (tp + fp) if tp + fp else 0.0\n    recall = tp / (tp + fn) if tp + fn else 0.0",
).replace(
    "wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()",
    "wins = (pos[:, None] >= neg[None, :]).sum()",
)

# The sign of the association ignored: the column with the largest raw ROC-AUC, so a leak that
# goes *down* as the label goes up (AUC near 0) is missed. Only the hidden negative-leak check
# fails: 4 of 5.
FIND_LEAK_ONE_SIDED = '''
def find_leak(X, y, feature_names):
    aucs = [roc_auc_score(y, X[:, j]) for j in range(X.shape[1])]
    return feature_names[int(np.argmax(aucs))]


def honest_score(X, y, feature_names, leak):
    keep = [j for j, name in enumerate(feature_names) if name != leak]
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(make_model(), X[:, keep], y, cv=folds, scoring="roc_auc").mean())
'''

# The "honest" score still trains on the leaking column (~0.98 instead of ~0.78): both
# honest_score checks fail, the three find_leak checks pass: 3 of 5.
HONEST_SCORE_KEEPS_LEAK = '''
def find_leak(X, y, feature_names):
    strength = [abs(roc_auc_score(y, X[:, j]) - 0.5) for j in range(X.shape[1])]
    return feature_names[int(np.argmax(strength))]


def honest_score(X, y, feature_names, leak):
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(make_model(), X, y, cv=folds, scoring="roc_auc").mean())
'''

# Leaky cross-validation: one model fitted on all the data, then "evaluated" on each fold, which
# it has already seen. Right shape, every value too high: 1 of 5.
CV_FIT_ON_ALL_DATA = '''
def cv_score(make_model, X, y, n_splits=5, seed=0, metric=accuracy_score):
    model = make_model().fit(X, y)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return np.array([metric(y[val_idx], model.predict(X[val_idx])) for _, val_idx in folds.split(X, y)])
'''

# Settings compared by accuracy whatever `scoring` says: on imbalanced data the search prefers
# the unweighted model. Only n_candidates (0.5) passes: the public scoring check, the refit model's
# predictions (another setting wins) and the hidden ROC-AUC and breast-cancer searches fail.
SEARCH_BY_ACCURACY = '''
def budgeted_search(make_model, param_distributions, X_train, y_train, budget, seed=0, scoring="balanced_accuracy"):
    search = RandomizedSearchCV(make_model(), param_distributions, n_iter=budget, scoring="accuracy",
                                cv=StratifiedKFold(5, shuffle=True, random_state=seed), random_state=seed)
    search.fit(X_train, y_train)
    return {"best_params": search.best_params_, "cv_score": float(search.best_score_),
            "n_candidates": len(search.cv_results_["params"]), "model": search.best_estimator_}
'''

# ROC-AUC and PR-AUC computed from the thresholded 0/1 predictions instead of the scores: fails
# the public "from the scores" check and the hidden checks that read roc_auc/pr_auc.
IMBALANCE_HARD_LABELS = IMBALANCE_MICRO.replace('average="micro", ', "").replace(
    "roc_auc_score(y_true, y_score)", "roc_auc_score(y_true, y_pred)").replace(
    "average_precision_score(y_true, y_score)", "average_precision_score(y_true, y_pred)")

# Brier score of the 0/1 decisions (p thresholded at 0.5) instead of the probabilities.
BRIER_HARD_LABELS = '''
def brier_score(y_true, p):
    y_true, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean(((p >= 0.5).astype(float) - y_true) ** 2))


def brier_skill(y_true, p):
    rate = float(np.mean(y_true))
    return 1.0 - brier_score(y_true, p) / (rate * (1.0 - rate))
'''

# Mean absolute error in place of the squared one.
BRIER_ABSOLUTE = BRIER_HARD_LABELS.replace("((p >= 0.5).astype(float) - y_true) ** 2", "np.abs(p - y_true)")

# The skill divided by the wrong reference: 0.25 (a coin flip) instead of the base rate pi(1 - pi).
# brier_score is right (its public check and the hidden 500-probability check pass: 3 pt); every
# check that reads brier_skill fails.
BRIER_SKILL_VS_COIN = '''
def brier_score(y_true, p):
    y_true, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean((p - y_true) ** 2))


def brier_skill(y_true, p):
    return 1.0 - brier_score(y_true, p) / 0.25
'''

# Concept checks answered the tempting way.
COMPARE_BY_MEANS = '''
answer_compare = {"credit (rules)": "boosting", "signal (raw)": "MLP", "breast cancer": "MLP"}  # the higher mean
'''
CURVE_SWAPPED = '''
answer_curve = {"A": "variance", "B": "bias", "more data helps": "A"}
'''
COST_CHEAPEST_ALARMS = '''
answer_cost = {"threshold": 0.5, "cost_at_0.5": 92 * 100 + 17 * 5}  # fewest alarms; missed fraud priced at 100
'''

# ---------------------------------------------------------------------------------------------
# Correct, written differently (loops, other names, prints, warnings): full marks.
# ---------------------------------------------------------------------------------------------
CORRECT = {
    "04_cv_score": '''
import warnings as _w
from sklearn.metrics import make_scorer

def cv_score(make_model, X, y, n_splits=5, seed=0, metric=accuracy_score):
    """Same folds, via cross_val_score and a scorer built from the metric."""
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    out = cross_val_score(make_model(), X, y, cv=splitter, scoring=make_scorer(metric))
    print("fold scores:", np.round(out, 3))
    _w.warn("cv_score: this is a warning on stderr and must not cost points")
    return list(out)
''',
    "04_metrics_by_hand": '''
from scipy.stats import rankdata

def confusion_counts(y_true, y_pred):
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for truth, guess in zip(list(y_true), list(y_pred)):
        if guess == 1:
            counts["tp" if truth == 1 else "fp"] += 1
        else:
            counts["fn" if truth == 1 else "tn"] += 1
    return counts["tp"], counts["fp"], counts["fn"], counts["tn"]


def precision_recall_f1(y_true, y_pred):
    tp, fp, fn, tn = confusion_counts(y_true, y_pred)
    prec = 0.0 if tp + fp == 0 else tp / (tp + fp)
    rec = 0.0 if tp + fn == 0 else tp / (tp + fn)
    # F1 = 2 tp / (2 tp + fp + fn) is the same harmonic mean, written from the counts.
    f = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return (prec, rec, f)


def roc_auc_by_ranking(y_true, scores):
    """Mann-Whitney U: the sum of the positives' (average) ranks, minus its minimum."""
    y_true = np.asarray(y_true)
    ranks = rankdata(scores)  # ties get the average rank, which counts a tie as one half
    n_pos = int((y_true == 1).sum())
    n_neg = len(y_true) - n_pos
    u = ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)
''',
    "04_imbalance_report": '''
from sklearn.metrics import confusion_matrix

def imbalance_report(y_true, y_pred, y_score):
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    prec = tp / (tp + fp) if (tp + fp) > 0 else 0.0
    rec = tp / (tp + fn) if (tp + fn) > 0 else 0.0
    spec = tn / (tn + fp) if (tn + fp) > 0 else 0.0
    out = dict(
        pr_auc=average_precision_score(y_true, y_score),
        roc_auc=roc_auc_score(y_true, y_score),
        f1=(2 * prec * rec / (prec + rec)) if prec + rec > 0 else 0.0,
        recall=rec,
        precision=prec,
        balanced_accuracy=(rec + spec) / 2,
        accuracy=(tp + tn) / (tp + tn + fp + fn),
    )
    print(out)
    return out
''',
    "04_split": '''
from sklearn.model_selection import GroupShuffleSplit

def group_split(groups, test_size=0.25, seed=0):
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    tr, te = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return list(tr), list(te)


def time_split(times, test_size=0.25):
    ranked = sorted(range(len(times)), key=lambda i: times[i])
    cut = len(ranked) - int(round(test_size * len(ranked)))
    past, future = [], []
    for position, i in enumerate(ranked):
        (past if position < cut else future).append(i)
    return np.array(past), np.array(future)
''',
    "04_diagnose_leak": '''
from sklearn.model_selection import cross_val_predict

def find_leak(X, y, feature_names):
    """Score every column alone with a one-column model, by CV; the leak is (nearly) perfect on its own."""
    best_name, best_auc = None, -1.0
    for j, column in enumerate(feature_names):
        p = cross_val_predict(make_model(), X[:, [j]], y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                              method="predict_proba")[:, 1]
        auc = roc_auc_score(y, p)
        print(f"{column:>20s}  {auc:.3f}")
        if auc > best_auc:
            best_name, best_auc = column, auc
    return best_name


def honest_score(X, y, feature_names, leak):
    X_kept = np.delete(X, list(feature_names).index(leak), axis=1)
    aucs = []
    for tr, va in StratifiedKFold(5, shuffle=True, random_state=0).split(X_kept, y):
        m = make_model().fit(X_kept[tr], y[tr])
        aucs.append(roc_auc_score(y[va], m.predict_proba(X_kept[va])[:, 1]))
    return sum(aucs) / len(aucs)
''',
    "04_budgeted_search": '''
def budgeted_search(make_model, param_distributions, X_train, y_train, budget, seed=0, scoring="balanced_accuracy"):
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    tried = []
    for setting in ParameterSampler(param_distributions, n_iter=budget, random_state=seed):
        mean_score = cross_val_score(make_model().set_params(**setting), X_train, y_train, cv=folds,
                                     scoring=scoring).mean()
        tried.append((mean_score, setting))
    best_score, best_setting = max(tried, key=lambda pair: pair[0])  # the first of equals, like the search
    final = make_model().set_params(**best_setting).fit(X_train, y_train)
    print(f"tried {len(tried)} settings; best CV {best_score:.3f}")
    return dict(best_params=best_setting, cv_score=best_score, n_candidates=len(tried), model=final)
''',
    "04_brier": '''
def brier_score(y_true, p):
    total = 0.0
    for truth, prob in zip(list(y_true), list(p)):
        total += (float(prob) - float(truth)) ** 2
    return total / len(list(y_true))


def brier_skill(y_true, p):
    y = np.asarray(y_true, dtype=np.float32)
    reference = np.full(len(y), y.mean(), dtype=np.float32)  # always the base rate
    return 1 - brier_score(y, p) / brier_score(y, reference)
''',
    "04_concept_compare": '''
answer_compare = dict()
answer_compare["credit (rules)"] = " Boosting "
answer_compare["signal (raw)"] = "mlp"
answer_compare["breast cancer"] = "TIE"
''',
    "04_concept_learning_curve": '''
answer_curve = {"A": "Bias", "B": " variance", "more data helps": "b"}
''',
    "04_concept_cost": '''
costs = {0.5: 92 * 40 + 17 * 5, 0.3: 78 * 40 + 57 * 5, 0.2: 63 * 40 + 107 * 5, 0.1: 43 * 40 + 230 * 5, 0.05: 23 * 40 + 439 * 5}
answer_cost = {"threshold": "0.10", "cost_at_0.5": costs[0.5]}
''',
}

VARIANTS = [
    Variant("imbalance_report_micro_average_is_accuracy", answers={"04_imbalance_report": IMBALANCE_MICRO},
            scores={"04_imbalance_report_tests": 4.5}),
    Variant("imbalance_report_auc_from_hard_labels", answers={"04_imbalance_report": IMBALANCE_HARD_LABELS},
            scores={"04_imbalance_report_tests": 3.5}),
    Variant("group_split_is_a_shuffled_row_split", answers={"04_split": GROUP_SPLIT_SHUFFLES_ROWS},
            scores={"04_split_tests": 6.5}),
    Variant("time_split_shuffles", answers={"04_split": TIME_SPLIT_SHUFFLES},
            scores={"04_split_tests": 6.5}),
    Variant("precision_recall_denominators_swapped", answers={"04_metrics_by_hand": PRECISION_RECALL_SWAPPED},
            scores={"04_metrics_by_hand_tests": 7}),
    Variant("roc_auc_ties_count_as_wins", answers={"04_metrics_by_hand": ROC_AUC_TIES_AS_WINS},
            scores={"04_metrics_by_hand_tests": 7}),
    Variant("brier_of_hard_labels", answers={"04_brier": BRIER_HARD_LABELS}, scores={"04_brier_tests": 0}),
    Variant("brier_absolute_error", answers={"04_brier": BRIER_ABSOLUTE}, scores={"04_brier_tests": 0}),
    Variant("brier_skill_against_a_coin_flip", answers={"04_brier": BRIER_SKILL_VS_COIN}, scores={"04_brier_tests": 3}),
    Variant("find_leak_ignores_negative_association", answers={"04_diagnose_leak": FIND_LEAK_ONE_SIDED},
            scores={"04_diagnose_leak_tests": 8}),
    Variant("honest_score_keeps_the_leak", answers={"04_diagnose_leak": HONEST_SCORE_KEEPS_LEAK},
            scores={"04_diagnose_leak_tests": 6}),
    Variant("cv_score_fits_once_on_all_data", answers={"04_cv_score": CV_FIT_ON_ALL_DATA},
            scores={"04_cv_score_tests": 2.5}),
    Variant("search_compares_by_accuracy", answers={"04_budgeted_search": SEARCH_BY_ACCURACY},
            scores={"04_budgeted_search_tests": 0.5}),
    Variant("concepts_answered_by_means_and_swapped", answers={"04_concept_compare": COMPARE_BY_MEANS,
                                                               "04_concept_learning_curve": CURVE_SWAPPED,
                                                               "04_concept_cost": COST_CHEAPEST_ALARMS},
            scores={"04_concept_compare_tests": 2.5, "04_concept_learning_curve_tests": 0.5,
                    "04_concept_cost_tests": 0.5}),
    Variant("correct_loops_other_names_prints_warnings", answers=CORRECT, scores={}),
]
