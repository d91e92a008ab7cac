"""The search box's language: words, phrases, AND/OR/NOT, and nothing else."""

import pytest

from community.search.query import MAX_QUERY_CHARS, MAX_TERMS, Term, any_of, parse_query


def shape(text):
    return [[(" ".join(t.words), t.negated) for t in group] for group in parse_query(text).groups]


def test_words_are_all_required():
    assert shape("Router Password") == [[("router", False), ("password", False)]]


def test_phrases_and_unbalanced_quotes():
    assert shape('"factory reset" now') == [[("factory reset", False), ("now", False)]]
    assert shape('"factory reset') == [[("factory reset", False)]]
    assert parse_query('"factory reset"').groups[0][0].is_phrase


def test_or_not_and_minus():
    assert shape("vpn OR dark mode") == [[("vpn", False)], [("dark", False), ("mode", False)]]
    assert shape("reset NOT phone") == [[("reset", False), ("phone", True)]]
    assert shape('reset -phone -"old model"') == [
        [("reset", False), ("phone", True), ("old model", True)]
    ]
    assert shape("reset AND phone") == [[("reset", False), ("phone", False)]]


def test_operators_count_only_in_capitals():
    assert shape("cats and dogs or mice") == [
        [("cats", False), ("and", False), ("dogs", False), ("or", False), ("mice", False)]
    ]


@pytest.mark.parametrize(
    "text", ["", "   ", "*", "AND", "OR", "NOT", "NOT router", "-router", '""']
)
def test_nothing_to_look_for(text):
    assert parse_query(text).is_empty


def test_wildcards_fields_ranges_and_boosts_are_plain_words():
    assert shape("a*") == [[("a", False)]]
    assert shape("*e*") == [[("e", False)]]
    assert shape("title:router") == [[("title", False), ("router", False)]]
    assert shape("router^100") == [[("router", False), ("100", False)]]
    # "TO" is no operator here: a word like any other.
    assert shape("created:[2020 TO 2030]") == [
        [("created", False), ("2020", False), ("to", False), ("2030", False)]
    ]


def test_input_is_bounded():
    many = parse_query(" ".join(f"w{n}" for n in range(2000)))
    assert sum(len(g) for g in many.groups) == MAX_TERMS and many.truncated
    long = parse_query("x" * 10_000)
    assert long.groups == () and long.truncated  # one 300-letter "word" is no word
    assert len(parse_query("ab " * 1000).text) <= MAX_QUERY_CHARS


def test_control_characters_and_sql_are_just_text():
    assert shape("router\x00password\x01") == [[("router", False), ("password", False)]]
    assert shape("'; DROP TABLE topics; --") == [
        [("drop", False), ("table", False), ("topics", False)]
    ]


def test_any_of_makes_every_word_an_alternative():
    query = any_of("How do I reset my router? router!")
    assert list(query.groups) == [
        (Term(("how",)),),
        (Term(("do",)),),
        (Term(("i",)),),
        (Term(("reset",)),),
        (Term(("my",)),),
        (Term(("router",)),),
    ]
    assert query.positive_words() == ["how", "do", "i", "reset", "my", "router"]
