import numpy as np
import pytest

from cnnbench_tasks.text.splits import split
from cnnbench_tasks.text.vocab import PAD, UNK, Vocabulary

LABELS = [0] * 60 + [1] * 140


def test_split_is_stratified_disjoint_and_fixed_by_seed() -> None:
    parts = split(LABELS, seed=0)
    allidx = np.concatenate(list(parts.values()))
    assert sorted(allidx.tolist()) == list(range(200))
    y = np.asarray(LABELS)
    assert len(parts["test"]) == 20 and y[parts["test"]].sum() == 14  # 10%, 70% positive like the whole
    assert len(parts["dev"]) == 18
    again = split(LABELS, seed=0)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    assert not np.array_equal(parts["test"], split(LABELS, seed=1)["test"])


def test_cross_validation_folds_partition_the_data() -> None:
    tests = [split(LABELS, 0, (i, 10))["test"] for i in range(10)]
    assert sorted(np.concatenate(tests).tolist()) == list(range(200))
    assert all(len(t) == 20 for t in tests)
    with pytest.raises(ValueError):
        split(LABELS, 0, (10, 10))


def test_vocabulary_from_training_only() -> None:
    vocab = Vocabulary.build([["a", "film"], ["a", "plot"]])
    assert vocab.words == ("<pad>", "<unk>", "a", "film", "plot")
    ids = vocab.encode([["a", "plot", "unseen"], ["film"]], 4)
    assert ids.tolist() == [[2, 4, UNK, PAD], [3, PAD, PAD, PAD]]
