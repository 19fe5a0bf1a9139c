"""The command lines explain themselves: every option has help text, no raw docstring markup."""
import argparse

import pytest

from segwidgets.__main__ import main as package_main
from segwidgets.eval.__main__ import main as eval_main
from segwidgets.train.__main__ import main as train_main


def _parser(main, monkeypatch) -> argparse.ArgumentParser:
    captured = []

    def grab(self, *args, **kwargs):
        captured.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", grab)
    with pytest.raises(SystemExit):
        main([])
    return captured[0]


def _walk(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _walk(sub)


@pytest.mark.parametrize("main", [package_main, train_main, eval_main], ids=["segwidgets", "train", "eval"])
def test_every_option_has_help_and_no_markup(main, monkeypatch):
    for parser in _walk(_parser(main, monkeypatch)):
        assert "``" not in (parser.description or "") and "``" not in parser.format_help(), parser.prog
        for action in parser._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                assert action.help, f"{parser.prog} {action.option_strings[0]} has no help text"
