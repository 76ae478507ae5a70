"""The single cut-out mode's output key: the source key whole, the result's extension appended."""

from __future__ import annotations

import pytest

from cutout.storage.output import MAX_KEY_BYTES, OutputKeyTooLong, legacy_output_key_for, output_key_for


@pytest.mark.parametrize(
    ("source", "extension", "expected"),
    [
        ("shoes/red.jpg", ".png", "shoes/red.jpg.png"),
        ("shoes/red.png", ".png", "shoes/red.png.png"),
        ("shoes/red", ".png", "shoes/red.png"),
        ("a//b.jpg", ".png", "a//b.jpg.png"),  # repeated slashes kept: no two sources meet
        (".jpg", ".png", ".jpg.png"),
        ("cup.png", ".jpg", "cup.png.jpg"),
    ],
)
def test_the_output_key_appends_the_result_s_extension(source: str, extension: str, expected: str) -> None:
    # Given a source key, When its output key is made, Then the source key is kept whole
    assert output_key_for(source, extension) == expected


def test_two_sources_differing_only_by_extension_get_two_outputs() -> None:
    # Given red.jpg and red.png in one folder
    sources = ["shoes/red.jpg", "shoes/red.png", "shoes/red.webp", "shoes/red"]
    # When their outputs are named
    keys = {output_key_for(source, ".png") for source in sources}
    # Then each has its own (the layout before 0.3.0 gave three of them the same one)
    assert len(keys) == len(sources)
    assert len({legacy_output_key_for(source, ".png") for source in sources}) == 1


@pytest.mark.parametrize("fits", [True, False])
def test_an_output_key_of_up_to_1024_bytes_is_made_and_a_longer_one_refused(fits: bool) -> None:
    # Given a source key whose output key is exactly S3's limit, or one byte over it
    source = "k" * (MAX_KEY_BYTES - len(".png") + (0 if fits else 1))
    # When its output key is made
    if fits:
        # Then it is made at the limit
        assert len(output_key_for(source, ".png").encode()) == MAX_KEY_BYTES
    else:
        # Then it is refused before anything is paid, with its reason code
        with pytest.raises(OutputKeyTooLong) as refused:
            output_key_for(source, ".png")
        assert refused.value.code == "output_key_too_long"


@pytest.mark.parametrize(
    ("source", "expected"),
    [("shoes/red.jpg", "shoes/red.png"), ("a//b.jpg", "a//b.png"), (".jpg", ".jpg.png"), ("red", "red.png")],
)
def test_the_legacy_key_is_the_layout_before_0_3_0(source: str, expected: str) -> None:
    # Given a source key, When the key its output had before 0.3.0 is named, Then the extension is replaced
    assert legacy_output_key_for(source, ".png") == expected
