from voiceagent.pipeline.history import History


def test_bounded_alternating_history() -> None:
    h = History("sys", max_turns=2)
    h.set_reply(0, "Hello, how can I help?")
    for i in range(1, 4):
        h.add_user(f"question {i}")
        h.set_reply(i, f"answer {i}")
    msgs = h.messages()
    assert msgs[0] == {"role": "system", "content": "sys"}
    assert [m["content"] for m in msgs[1:]] == ["question 3", "answer 3"]  # past two: the latest half


def test_barge_in_corrects_the_reply_and_merges_caller_turns() -> None:
    h = History("sys", max_turns=8)
    h.add_user("when are you open")
    h.set_reply(1, "We are open Monday to Friday from eight to six.")
    h.set_reply(1, "We are open Monday")  # what the caller heard before interrupting
    h.add_user("and Saturday?")
    assert h.transcript()[-2:] == [
        {"role": "assistant", "content": "We are open Monday"},
        {"role": "user", "content": "and Saturday?"},
    ]
    h.add_user("in the morning")
    assert h.transcript()[-1] == {"role": "user", "content": "and Saturday? in the morning"}
    h.set_reply(2, "")
    assert h.transcript()[-1]["role"] == "user"


def test_the_window_moves_only_on_replies_so_prefilled_messages_stay_a_prefix() -> None:
    h = History("sys", max_turns=2)
    for i in range(1, 6):
        h.add_user(f"q{i}")
        h.set_reply(i, f"a{i}")
        prefilled = h.messages()
        h.add_user(f"q{i + 1}")
        assert h.messages()[: len(prefilled)] == prefilled
        h.retract_user(f"q{i + 1}")
    assert [m["content"] for m in h.messages()] == ["sys", "q5", "a5"]


def test_the_window_moves_by_half_so_the_cached_prefix_holds_for_several_turns() -> None:
    """Eight exchanges kept: past the eighth, the window drops to the latest four and then grows again,
    so what follows the system prompt changes once every four turns, not on every turn."""
    h = History("sys", max_turns=8)
    moves = 0
    for i in range(1, 25):
        before = h.messages()
        h.add_user(f"q{i}")
        h.set_reply(i, f"a{i}")
        after = h.messages()
        moves += after[: len(before)] != before
        assert 4 <= (len(after) - 1) // 2 <= 8 or i < 4
    assert moves == 4  # at turns 9, 13, 17 and 21
