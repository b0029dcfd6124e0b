from cnnbench_tasks.text.tokenize import tokenize


def test_kim_rules() -> None:
    assert tokenize("It's a gorgeous, witty movie! Don't miss it (really).") == [
        "it", "'s", "a", "gorgeous", ",", "witty", "movie", "!", "do", "n't", "miss", "it", "(", "really", ")",
    ]  # fmt: skip


def test_other_characters_dropped() -> None:
    assert tokenize('café -- 2-hour; "quoted"') == ["caf", "2", "hour", "quoted"]
    assert tokenize("...") == []
