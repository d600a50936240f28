"""The %jobs grammar on its own: comments, run ids, parameters, help and options."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from jobs_widgets._magic_grammar import (
    HELP,
    KEYED,
    SUBCOMMANDS,
    build_parser,
    full_help,
    options,
    parse_params,
    run_id,
    strip_comment,
)


def test_trailing_comments_are_ignored_but_hashes_in_values_kept() -> None:
    assert strip_comment("sandbox start   # optional") == "sandbox start   "
    assert strip_comment("run etl -p color=#fff") == "run etl -p color=#fff"
    assert strip_comment('run etl --json \'{"tag": "#1"}\' # c') == 'run etl --json \'{"tag": "#1"}\' '
    assert strip_comment("# all comment") == ""


def test_run_ids_are_positive_plain_integers() -> None:
    assert run_id(None) is None and run_id("5225") == 5225
    for bad in ("0", "-1", "5e3", " 7", "12345678901234567890"):
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
