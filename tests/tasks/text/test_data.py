import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.errors import UsageError
from cnnbench.registry import get_task
from cnnbench.spec import BuildContext, DataRequest
from cnnbench_tasks.text import embedding
from cnnbench_tasks.text.data import TextData
from cnnbench_tasks.text.task import split_designs
from cnnbench_tasks.text.vocab import PAD, Vocabulary

TASK = get_task("text")


def _request(dataset: str, folder: Path, cache: Path, **options: str) -> DataRequest:
    return DataRequest(dataset, folder, cache, (20,), seed=0, options=TASK.resolve_options(options))


def test_mr_from_rt_polarity_with_random_vectors(rt_dir: Path, isolated_cache: Path) -> None:
    splits = TASK.load(_request("mr", rt_dir, isolated_cache, embedding="random"))
    n = len(splits.train) + len(splits.dev) + len(splits.test)
    assert n == 120 and len(splits.test) == 12 and splits.notes["split"] == {"train": 98, "dev": 10, "test": 12}
    assert splits.train.x.dtype == torch.long and splits.train.x.shape[1] == splits.notes["max_length"]
    vectors = splits.data.vectors
    assert vectors.shape == (splits.notes["vocabulary"], 50) and torch.equal(vectors[PAD], torch.zeros(50))
    assert splits.notes["coverage"]["vocab_types_with_vector"] == 0.0
    train_words = {w for row in splits.train.x.tolist() for w in row}
    assert max(train_words) == splits.notes["vocabulary"] - 1  # the vocabulary is the training words


def test_mr_from_the_wheel_with_own_word2vec(mr_wheel: Path, isolated_cache: Path) -> None:
    splits = TASK.load(_request("mr", mr_wheel, isolated_cache, embedding="w2v-own"))
    assert splits.notes["skipped"] == {"plot synopsis": 2, "duplicate": 1}
    assert splits.notes["coverage"]["vocab_types_with_vector"] == 1.0  # trained on the training words
    assert "skip-gram" in splits.notes["embedding_source"]


def test_vectors_file_by_path(rt_dir: Path, isolated_cache: Path, tmp_path: Path) -> None:
    p = tmp_path / "vec.txt"
    p.write_text("the 1 1 1\nfilm 2 2 2\nwonderful 3 3 3\nnot-in-data 9 9 9\n", encoding="utf-8")
    splits = TASK.load(_request("mr", rt_dir, isolated_cache, embedding=str(p)))
    assert splits.notes["embedding_dim"] == 3
    cov = splits.notes["coverage"]
    assert 0 < cov["vocab_types_with_vector"] < 1 and 0 < cov["test_tokens_with_vector"] < 1


def test_sst2_folder(sst2_dir: Path, isolated_cache: Path) -> None:
    splits = TASK.load(_request("sst2", sst2_dir, isolated_cache, embedding="random"))
    assert len(splits.test) == 30 and len(splits.train) + len(splits.dev) == 100


def test_unknown_option_and_bad_value() -> None:
    with pytest.raises(UsageError, match="unknown option of task 'text': 'embeding'; valid: embedding, kmax_k"):
        TASK.resolve_options({"embeding": "random"})
    with pytest.raises(UsageError, match="embedding='glove-300'"):
        TASK.resolve_options({"embedding": "glove-300"})
    with pytest.raises(UsageError, match="kmax_k='0'"):
        TASK.resolve_options({"kmax_k": "0"})


def test_embedding_matrix_rows() -> None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(2)
    kv.add_vectors(["film", "good"], np.array([[1.0, -1.0], [3.0, 3.0]], dtype=np.float32))
    vocab = Vocabulary.build([["film", "good", "plot"]])
    m, factor = embedding.embedding_matrix(vocab, kv, seed=0, dim=2, scale="none")
    assert factor == 1.0
    np.testing.assert_array_equal(m[vocab.index()["good"]], [3.0, 3.0])
    np.testing.assert_array_equal(m[PAD], [0.0, 0.0])
    a = np.sqrt(3 * np.var([1.0, -1.0, 3.0, 3.0]))
    assert np.abs(m[vocab.index()["plot"]]).max() <= a  # random rows with the pretrained variance
    # the default: pretrained vectors rescaled to the spread of U[-0.25, 0.25], random rows alike
    m, factor = embedding.embedding_matrix(vocab, kv, seed=0, dim=2)
    assert factor == pytest.approx(embedding.RANDOM_STD / np.std([1.0, -1.0, 3.0, 3.0]))
    np.testing.assert_allclose(m[vocab.index()["good"]], [3.0 * factor] * 2, rtol=1e-6)
    assert np.std(m[[vocab.index()["film"], vocab.index()["good"]]]) == pytest.approx(embedding.RANDOM_STD, rel=1e-5)
    assert np.abs(m[vocab.index()["plot"]]).max() <= embedding.RANDOM_RANGE + 1e-6
    cov = embedding.coverage(vocab, kv, [["film", "plot", "unseen", "good"]])
    assert cov == {"vocab_types_with_vector": round(2 / 3, 4), "test_tokens_with_vector": 0.5, "test_tokens_oov": 0.25}


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.rglob("*.json"))]


def test_cli_smoke_cv_and_seeds(rt_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "runs"
    args = ["run", "--task", "text", "--quick", "--no-progress", "--dataset", "mr", "--data-dir", str(rt_dir)]
    args += ["--model", "kim-cnn-static", "--option", "embedding=random", "--out", str(out)]
    assert main([*args, "--cv", "3", "--seeds", "2", "--no-timing"]) == 0
    records = _records(out)
    assert len(records) == 6
    assert sorted((r["dataset"]["fold"][0], r["seed"]) for r in records) == [(f, s) for f in range(3) for s in (0, 1)]
    assert all(r["options"]["embedding"] == "random" and r["training"]["best_epoch"] for r in records)
    table = capsys.readouterr().out
    assert " 6 " in table and " ± " in table  # one row: 3 folds x 2 seeds, mean ± std


def test_cli_experiment_option_conflict(rt_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["run", "--task", "text", "--quick", "--data", f"mr={rt_dir}", "--experiment", "mr-random"]
    assert main([*args, "--option", "embedding=w2v-own", "--out", str(tmp_path)]) == 2
    assert "experiment 'mr-random' sets embedding=random" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.json"))


def test_word_saliency_from_a_checkpoint(rt_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ck = tmp_path / "kim.pt"
    args = ["run", "--task", "text", "--quick", "--no-progress", "--no-timing", "--dataset", "mr", "--data-dir"]
    args += [str(rt_dir), "--model", "kim-cnn-multichannel", "--option", "embedding=random", "--out", str(tmp_path)]
    assert main([*args, "--save", str(ck)]) == 0
    capsys.readouterr()
    out = ["--checkpoint", str(ck), "--out", str(tmp_path / "pics"), "--data-dir", str(rt_dir), "--index", "0-2"]
    assert main(["explain", "saliency", *out]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\x1b[48;5;") > 6 and "pred" in printed  # coloured words in the terminal
    png = tmp_path / "pics" / "text-kim-cnn-multichannel_saliency.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["explain", "occlusion", *out]) == 2  # the task's renderer: no pixels to cover in a sentence
    assert "occlusion needs an image model" in capsys.readouterr().err


def test_token_saliency_marks_only_real_words() -> None:
    from cnnbench.explain.attribution import token_saliency

    torch.manual_seed(0)
    vectors = torch.randn(50, 8)
    vectors[0] = 0
    words = tuple(f"w{i}" for i in range(len(vectors)))
    model = TASK.build("kim-cnn-non-static", BuildContext("text", 2, (8,), {}, TextData(words, vectors)))
    ids = torch.tensor([[5, 6, 7, 8, 9, 0, 0, 0], [5, 6, 0, 0, 0, 0, 0, 0]])
    sal = token_saliency(model, ids, torch.tensor([0, 1]))
    assert sal.shape == ids.shape and (sal[ids == 0] == 0).all() and (sal[0, :5] > 0).any()


def test_shuffled_word_order_is_fixed_per_length_and_keeps_the_words() -> None:
    from cnnbench_tasks.text.data import shuffle_words

    a, b = "the film is good".split(), "a plot so thin".split()
    assert sorted(shuffle_words(a)) == sorted(a) and shuffle_words(a) != a
    assert [a.index(w) for w in shuffle_words(a)] == [b.index(w) for w in shuffle_words(b)]  # one order per length
    assert TASK.resolve_options({"word_order": "shuffled"})["word_order"] == "shuffled"
    with pytest.raises(UsageError, match="word_order"):
        TASK.resolve_options({"word_order": "reversed"})


def test_the_summary_keeps_shuffled_word_order_runs_apart(make_record) -> None:
    def runs(model: str, scores: list[float], **extra) -> list:
        return [make_record(task="text", model=model, seed=i, dataset={"name": "mr"}, metrics={"accuracy": s},
                            training={}, **extra) for i, s in enumerate(scores)]  # fmt: skip

    glove = {"embedding": "glove-50"}
    kept = runs("kim-cnn-non-static", [0.78, 0.80, 0.77], options=glove)
    rand = runs("kim-cnn-rand", [0.70, 0.71, 0.69], options={"embedding": "random"})
    shuffled = runs("kim-cnn-non-static", [0.60, 0.61, 0.62, 0.6], options=glove | {"word_order": "shuffled"},
                    experiment="word-order-shuffled")  # fmt: skip
    text = "\n".join(TASK.summarize(kept + rand + shuffled))
    assert "kim-cnn-non-static) beat random ones (kim-cnn-rand): SUPPORTED" in text
    assert "60." not in text.split("\n")[0]


def test_the_summary_tells_one_split_from_a_split_per_seed(make_record) -> None:
    """Older multi-seed runs all split MR with seed 0; since the split follows the seed each run's rule names its
    own seed. Runs of one configuration made both ways are two rows, each saying how it split."""
    def runs(commit: str, follows: bool, scores: list[float]) -> list:
        return [make_record(task="text", model="kim-cnn-rand", seed=i, options={"embedding": "random"},
                            dataset={"name": "mr", "notes": {"split_rule": f"stratified, seed {i if follows else 0}; "
                                                                          "dev = 10% of the training part"}},
                            commit={"sha": commit}, metrics={"accuracy": s}, training={})
                for i, s in enumerate(scores)]  # fmt: skip

    old, new = runs("aaa", False, [0.70, 0.71, 0.72]), runs("bbb", True, [0.60, 0.62, 0.61])
    designs = split_designs(old + new)
    assert [designs[id(r)] for r in old] == ["one split"] * 3
    assert [designs[id(r)] for r in new] == ["a split per seed"] * 3
    text = TASK.summarize(old + new)[0]
    assert "kim-cnn-rand [random, one split] 71.00" in text and "kim-cnn-rand [random, a split per seed] 61.00" in text


def test_the_summary_never_pools_profiles(make_record) -> None:
    """Runs of one model in two profiles are two rows, the non-default profile named; two budgets within one
    profile are two rows that say their budgets."""
    def runs(profile: str, scores: list[float], **config) -> list:
        return [make_record(task="text", model="boe", seed=i, profile=profile, options={"embedding": "random"},
                            dataset={"name": "mr", "notes": {"split_rule": f"stratified, seed {i}"}},
                            metrics={"accuracy": s}, training={}, config=config)
                for i, s in enumerate(scores)]  # fmt: skip

    text = TASK.summarize(runs("default", [0.70, 0.71, 0.72]) + runs("full", [0.60, 0.62, 0.61]))[0]
    assert "boe [random, one split] 71.00" in text and "boe [random, one split, full profile] 61.00" in text
    text = TASK.summarize(runs("default", [0.70, 0.71, 0.72]) + runs("default", [0.50, 0.52, 0.51], epochs=17))[0]
    assert "boe [random, one split, cpu, 12 epochs, batch 128] 71.00" in text, text
    assert "boe [random, one split, cpu, 17 epochs, batch 128] 51.00" in text
