"""Prompt text: the official few-shot formats, character for character."""

import os
import subprocess
import sys

import pytest

from tasks import prompts


def test_translation_one_shot_reads_as_the_official_script():
    prompt = prompts.translation_prompt([("The cat sleeps.", "Le chat dort.")], "The dog runs.", "fra")
    assert prompt == (
        "[CLM] Sentence:  The cat sleeps.; Translation in French: Le chat dort.; "
        "Sentence:  The dog runs.; Translation in French:"
    )


def test_translation_accepts_language_names_and_zero_shots():
    assert (
        prompts.translation_prompt([], "Hallo.", "English")
        == "[CLM] Sentence:  Hallo.; Translation in English:"
    )


def test_summarization_one_shot_reads_as_the_official_script():
    prompt = prompts.summarization_prompt([("A long story.\nMore of it.", "Short.")], "Another story.")
    assert prompt == (
        "[CLM] Article: A long story. More of it. ==> Short summary: Short. <br><br><br> "
        "Article: Another story. ==> Short summary:"
    )


def test_generic_kshot_prompt():
    prompt = prompts.build_kshot_prompt(
        [("2+2", "4"), ("3+3", "6")],
        "4+4",
        input_prefix="Q: ",
        output_prefix=" A:",
        separator=" | ",
        clm=False,
    )
    assert prompt == "Q: 2+2 A: 4 | Q: 3+3 A: 6 | Q: 4+4 A:"


def test_newlines_become_one_space():
    assert prompts.one_line("a\nb \r\n  c\n\nd") == "a b c d"
    assert prompts.clm_prompt("x\ny") == "[CLM] x y"


def test_modes():
    assert prompts.clm_prompt("Hello") == "[CLM] Hello"
    assert prompts.denoising_prompt("Hello") == "Hello"
    assert prompts.is_clm("[CLM] Hello") and not prompts.is_clm("Hello")


@pytest.mark.parametrize(
    "continuation, expected",
    [
        (" Le chien court.; Sentence:  The bird sings.; Translation", "Le chien court."),
        (" Le chien court. Translation in French: x", "Le chien court."),
        ("Le chien court", "Le chien court"),  # no `;`: nothing is lost (the script dropped a character)
        ("; rest", ""),
        ("", ""),
    ],
)
def test_cut_translation(continuation, expected):
    assert prompts.cut_translation(continuation) == expected


def test_cut_summary():
    assert prompts.cut_summary(" A short summary. <br><br><br> Article: next") == "A short summary."
    assert prompts.cut_summary("No end marker") == "No end marker"


def test_language_names_cover_the_twelve_languages():
    codes = "ara eng fra deu hin ita jpn mar por spa tam tel".split()
    assert sorted(prompts.FLORES_LANGUAGE_NAMES) == sorted(codes)
    assert prompts.language_name("jpn") == "Japanese"
    with pytest.raises(ValueError, match="unknown Flores-101 language code"):
        prompts.language_name("xx")


def test_prompts_import_without_tensorflow_or_seqio():
    code = "import sys, tasks.prompts; bad = {'tensorflow', 'seqio'} & set(sys.modules); assert not bad, bad"
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(prompts.__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)
