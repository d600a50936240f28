"""The %jobs grammar on its own: comments, run ids, parameters, help and options."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from jobs_widgets._magic_complete import complete
from jobs_widgets._magic_grammar import (
    HELP,
    KEYED,
    SUBCOMMANDS,
    build_parser,
    full_help,
    options,
    parse,
    parse_params,
    run_id,
    strip_comment,
    words,
)


def test_trailing_comments_are_ignored_but_hashes_in_values_kept() -> None:
    assert strip_comment("sandbox start   # optional") == "sandbox start   "
    assert strip_comment("run etl -p color=#fff") == "run etl -p color=#fff"
    assert strip_comment('run etl --json \'{"tag": "#1"}\' # c') == 'run etl --json \'{"tag": "#1"}\' '
    assert strip_comment("# all comment") == ""


def test_run_ids_are_positive_plain_integers() -> None:
    assert run_id(None) is None and run_id("5225") == 5225
    assert run_id("9223372036854775807") == 2**63 - 1  # the Jobs API's int64, as the core decides
    for bad in ("0", "-1", "5e3", " 7", "\u0663", "9223372036854775808", "12345678901234567890", "1" * 5000):
        with pytest.raises(UsageError, match="run id must be a positive integer"):
            run_id(bad)


def test_params_json_first_then_pairs_on_top() -> None:
    assert parse_params([], None, None) is None
    assert parse_params(["env=prod", "note=a=b"], '{"env": "dev", "n": 1}', None) == {
        "env": "prod",
        "n": 1,
        "note": "a=b",
    }
    assert parse_params([], None, '{"env": "dev"}') == {"env": "dev"}
    with pytest.raises(UsageError, match=r"--json is not valid JSON \(Expecting value at line 1 column 1\)"):
        parse_params([], "nope", None)
    with pytest.raises(UsageError, match="cell body must be a JSON object"):
        parse_params([], None, "[1, 2]")
    with pytest.raises(UsageError, match="-p expects NAME=VALUE, got 'env'"):
        parse_params(["env"], None, None)
    for text, message in [
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": -Infinity}', "-Infinity is not a JSON value"),
        ('{"a": 1e400}', "1e400 is out of range"),
        ("[" * 100_000, "nested too deeply"),
        ('{"a": ' + "1" * 5000 + "}", "not valid JSON"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_params([], text, None)


def test_words_check_the_subcommand_and_the_cell_first() -> None:
    assert words("", None) == ["list"] and words("  # just a comment", None) == ["list"]
    assert words("-h", None) == ["help"] and words("run etl -p 'a=b c'", "{}") == [
        "run",
        "etl",
        "-p",
        "a=b c",
    ]
    for line, cell, message in [
        ("rn etl", None, "Did you mean run"),
        ("run etl 'open", None, "cannot parse the arguments"),
        ("runs etl", "{}", "only `%%jobs run KEY` takes a cell"),
    ]:
        with pytest.raises(UsageError, match=message):
            words(line, cell)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "etl", "--timeout", "0"], "--timeout must be a positive number of seconds, got 0"),
        (["run", "etl", "--timeout=-inf"], "--timeout must be a positive number of seconds"),
        (["run", "etl", "--timeout", "nan"], "--timeout must be a positive number of seconds"),
        (["runs", "etl", "-n", "1001"], "-n must be between 1 and 1000, got 1001"),
        (["sandbox", "start", "--speed", "inf"], "--speed must be a positive number"),
        (["sandbox", "start", "--port", "65536"], "--port must be from 0 to 65535"),
        (["sandbox", "start", "--seed", "x"], "argument --seed: invalid int value"),
    ],
)
def test_numbers_are_range_checked_after_parsing(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(build_parser(), argv)


def test_numbers_in_range_pass() -> None:
    args = parse(build_parser(), ["sandbox", "start", "--speed", "0.5", "--port", "65535"])
    assert (args.speed, args.port) == (0.5, 65535)
    assert parse(build_parser(), ["run", "etl", "--timeout", "1e-3"]).timeout == 0.001


def test_completion_is_a_function_of_the_text() -> None:
    parser = build_parser()

    def keys() -> list[str]:
        return ["etl", "report"]

    def seen(key: str) -> list[int]:
        return [52, 7] if key == "etl" else []

    assert complete("%jobs ru", parser, keys, seen) == ["run", "runs"]
    assert complete("%%jobs run E", parser, keys, seen) == ["etl"]
    assert complete("%jobs cancel etl ", parser, keys, seen) == ["52", "7"]
    assert complete("%jobs cancel report 5", parser, keys, seen) == []
    assert complete("%jobs sandbox st", parser, keys, seen) == ["start", "stop", "status"]
    assert complete("%jobs help re", parser, keys, seen) == ["repair"]
    assert "--active" in complete("%jobs runs etl --a", parser, keys, seen)


def test_every_subcommand_has_help_and_the_parser_knows_it() -> None:
    parser = build_parser()
    assert set(HELP) == set(SUBCOMMANDS)
    text = full_help()
    for name, (usage, _, example) in HELP.items():
        assert usage in text and example in text
        argv = [
            name,
            *(["etl"] if name in KEYED else []),
            *(["1"] if name in {"cancel", "output", "repair"} else []),
        ]
        assert parser.parse_args(argv).command == name
    assert {"--wait", "--timeout", "--on-interrupt", "-p", "--json"} <= set(options(parser, "run"))
    assert options(parser, "nonexistent") == []
    with pytest.raises(UsageError, match="Try: %jobs help"):
        parser.parse_args(["run"])
