from conftest import Texter


def test_first_message_gets_main_menu(texter: Texter) -> None:
    reply = texter.send("hello")
    assert "1 Talk to someone now" in reply
