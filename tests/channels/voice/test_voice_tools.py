"""The voice line's tools: the terminal simulator and the walk over every voice path."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from hotline_bridge.channels.voice import render as voice_render
from hotline_bridge.channels.voice import routes as voice
from hotline_bridge.channels.voice.check import key_clashes, voice_problems, walk_calls
from hotline_bridge.cli import main
from hotline_bridge.engine.flow import Option
from tests.channels.voice.test_voice import numbers_read_digit_by_digit

# How many different answers a walk visits to meet a fault put into the first menus (the whole
# walk is proved clean by test_the_voice_paths_have_no_problem).
FAULT_FOUND_WITHIN = 60


def run_simulator(app: Flask, typed: list[str]) -> str:
    result = app.test_cli_runner().invoke(main, ["simulate", "voice"], input="\n".join(typed))
    assert result.exit_code == 0, result.output
    return result.output


def test_simulate_voice_in_english(app: Flask) -> None:
    output = run_simulator(app, ["1", "2", "1", "1", "2", "*"])
    assert "[en-US, Polly.Joanna-Neural] For English, press 1." in output
    assert "[es-US, Polly.Lupe-Neural] Para español, oprima 2." in output
    assert "[en-US, Polly.Joanna-Neural] What do you need?" in output
    assert "The number is 1 8 8 8 3 7 3 7 8 8 8." in output
    assert output.rstrip().endswith("<Hangup>")


def test_simulate_voice_in_spanish_with_silence_and_a_call(app: Flask) -> None:
    output = run_simulator(app, ["2", "", "", "", "busy", "*"])
    assert "[es-US, Polly.Lupe-Neural] ¿Cómo le ayudamos?" in output
    assert "<Dial 1-888-373-7888>" in output
    assert "[es-US, Polly.Lupe-Neural] La línea está ocupada." in output
    assert output.rstrip().endswith("<Hangup>")


def test_simulate_voice_ends_when_the_line_answers(app: Flask) -> None:
    output = run_simulator(app, ["2", "hablar", ""])
    assert "<Dial 1-888-373-7888>" in output
    assert "<Hangup>" not in output


def test_the_voice_paths_have_no_problem(app: Flask) -> None:
    walk = walk_calls(app)
    assert voice_problems(app, walk) == []
    numbers_read_digit_by_digit(walk)


def test_a_voice_of_the_wrong_language_is_reported(app: Flask) -> None:
    setup = app.extensions["hotline_bridge.voice"]
    wrong = {"en": setup.voices["en"], "es": voice_render.Voice("Polly.Joanna-Neural", "es-US")}
    app.extensions["hotline_bridge.voice"] = voice_render.VoiceSetup(
        **{**setup.__dict__, "voices": wrong}
    )
    problems = voice_problems(app, walk_calls(app, limit=FAULT_FOUND_WITHIN))
    assert problems and all("voice" in problem for problem in problems)
    assert any("in es-US uses the voice 'Polly.Joanna-Neural'" in problem for problem in problems)


def test_silence_that_goes_round_for_ever_is_reported(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forgetful_miss(call, state, notice):  # type: ignore[no-untyped-def]
        return voice._view(call, state, notice)  # never counts the silence

    monkeypatch.setattr(voice, "_miss", forgetful_miss)
    problems = voice_problems(app, walk_calls(app, limit=FAULT_FOUND_WITHIN))
    assert any("silence can go round without end" in problem for problem in problems)


def test_a_menu_without_an_action_is_reported(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_render, "menu_url", lambda state: "")
    problems = voice_problems(app, walk_calls(app, limit=FAULT_FOUND_WITHIN))
    assert any("has no action" in problem for problem in problems)


def test_an_option_on_a_key_the_voice_line_keeps_is_reported(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = app.extensions["hotline_bridge"].flow
    needs = flow.node("needs")
    clash = Option("#", "option.youth", goto="youth")
    monkeypatch.setitem(flow.nodes, "needs", replace(needs, options=(*needs.options, clash)))
    assert list(key_clashes(flow)) == ["voice: node 'needs': key # is kept for the voice line"]


def test_an_alarming_word_in_the_greeting_is_reported(make_app: object) -> None:
    app = make_app(SENSITIVE_WORDS="thank, menu, emergencia")  # type: ignore[operator]
    problems = voice_problems(app, walk_calls(app, limit=FAULT_FOUND_WITHIN))
    assert "voice: the greeting says 'thank'" in problems
    assert "voice: the main menu after key 2 says 'emergencia'" in problems
    assert not any("menu'" in problem for problem in problems)


def test_the_fallback_twiml_command_prints_the_voice_fail_safe(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["fallback-twiml", "--channel", "voice"])
    assert result.exit_code == 0, result.output
    assert "<Dial" in result.output and "+18883737888</Dial>" in result.output
    assert 'language="es-US"' in result.output and 'language="en-US"' in result.output
