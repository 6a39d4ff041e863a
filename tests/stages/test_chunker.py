from voiceagent.stages.chunker import ClauseChunker, clean_for_speech


def feed_all(tokens: list[str]) -> list[str]:
    chunker = ClauseChunker()
    out = [c for t in tokens for c in chunker.feed(t)]
    if rest := chunker.flush():
        out.append(rest)
    return out


def test_first_clause_is_cut_early_then_sentences() -> None:
    tokens = ["Sure", ",", " we", " are", " open", " on", " Saturday", ",", " from", " nine", " to", " one",
              ".", " Would", " you", " like", " to", " book", "?"]
    out = feed_all(tokens)
    assert out[0] == "Sure,"  # the first piece goes as soon as it is a clause: speech starts sooner
    assert out[1:] == ["we are open on Saturday, from nine to one.", "Would you like to book?"]


def test_short_sentence_goes_at_once_and_abbreviations_do_not_split() -> None:
    out = feed_all(["Hi", ".", " Dr", ".", " Smith", " sees", " you", " at", " 3", ".", "30", " pm", "."])
    assert out == ["Hi.", "Dr. Smith sees you at 3.30 pm."]


def test_markdown_is_not_spoken() -> None:
    assert clean_for_speech("**Yes** - we are `open`\n- Monday\n1. Tuesday") == "Yes - we are open Monday Tuesday"
    assert feed_all(["***"]) == []


def test_sentences_are_counted() -> None:
    chunker = ClauseChunker()
    for token in ["Yes", ".", " We", " open", " at", " nine", ",", " and", " close", " at", " six", ".", " Bye"]:
        chunker.feed(token)
    assert chunker.sentences == 2


def test_an_unpunctuated_first_sentence_is_cut_at_a_phrase_boundary() -> None:
    tokens = ["The", " U", "-room", " is", " a", " private", " room", " where", " you", " can", " go", "."]
    assert feed_all(tokens) == ["The U-room is a private room", "where you can go."]
    long = ["One", " two", " three", " four", " five", " six", " seven", " eight", " nine", " ten", "."]
    assert feed_all(long) == ["One two three four five six seven eight", "nine ten."]
