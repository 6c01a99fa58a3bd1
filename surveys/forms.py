"""Web forms for questionnaire pages.

A page is one section of the questionnaire. This module turns posted form
fields into answer values (the same JSON values the API takes) and builds
what the templates show for each question. Validation is not done here: it
is ``surveys.definition.answers``, the one validator web and API share.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, override
from django.utils.translation import gettext_lazy as _

from surveys.definition.answers import TEXT_MAX_LENGTH
from surveys.definition.validate import CHOICE_TYPES, NUMERIC_TYPES


def current_language() -> str:
    """The active language's code without its region ("fr" for "fr-ch")."""
    return (get_language() or "").split("-")[0]


def translate(text: Mapping[str, str] | None, languages: list[str], language: str = "") -> str:
    """A questionnaire text in ``language`` (by default the active one), else
    the questionnaire's first language."""
    if not text:
        return ""
    language = language or current_language()
    return text.get(language) or text.get(languages[0]) or next(iter(text.values()), "")


@functools.cache
def _phrases(language: str) -> dict[str, str]:
    """The interface's words inside a question's markup, translated and
    escaped once per language (a page asks for them once per question)."""
    with override(language or None):
        return {
            "required": escape(gettext("required")),
            "error": escape(gettext("Error:")),
            "percent": escape(gettext("a percentage from 0 to 100")),
            "not_answered": escape(gettext("Not answered")),
        }


# A typed "number" that is not one is kept, to be shown back beside its
# error, up to this many characters.
NUMBER_TEXT_MAX_LENGTH = 50


def _number(raw: str) -> Any:
    """A typed number as JSON: int when whole, float otherwise; a decimal comma
    is accepted. Anything else stays text (at most NUMBER_TEXT_MAX_LENGTH
    characters), for the validator to name."""
    cleaned = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if cleaned == "":
        return None
    if len(cleaned) > NUMBER_TEXT_MAX_LENGTH:
        return raw.strip()[:NUMBER_TEXT_MAX_LENGTH]
    try:
        value = float(cleaned)
    except ValueError:
        return raw.strip()
    if not math.isfinite(value):  # "nan", "inf", "1e999": text for the validator to refuse
        return raw.strip()
    return int(value) if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower() else value


def answers_from_post(
    section: Mapping[str, Any], data: QueryDict, choice_lists: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers to one page's items as posted (unanswered items as None),
    no bigger than a page can hold, since a draft saves them unvalidated:

    - a choice that is not one of the item's codes is dropped (unanswered),
      and each ticked code is kept once;
    - a text is cut one character past the item's ``max_length`` (or
      TEXT_MAX_LENGTH), so the validator still says it is too long;
    - a typed number that is not one is kept to NUMBER_TEXT_MAX_LENGTH.

    What a browser posts for a page never comes near these bounds. Values
    the database cannot hold (a NUL character) are left for the validator
    to name (``definition.answers.storable``); drafts never save them."""
    answers: dict[str, Any] = {}
    for item in section["items"]:
        code, kind = item["code"], item["type"]
        if kind in CHOICE_TYPES:
            codes = {choice["code"] for choice in choice_lists[item["choices"]]}
            if kind == "multiple_choice":
                answers[code] = list(dict.fromkeys(v for v in data.getlist(code) if v in codes)) or None
            else:
                value = data.get(code)
                answers[code] = value if value in codes else None
        elif kind in NUMERIC_TYPES:
            answers[code] = _number(data.get(code, ""))
        else:  # text
            limit = item.get("constraint", {}).get("max_length", TEXT_MAX_LENGTH)
            answers[code] = data.get(code, "").strip()[: limit + 1] or None
    return answers


def as_shown(value: Any) -> Any:
    """A posted value as a page can show it back: U+FFFD (what browsers show)
    for each character the database cannot hold."""
    if isinstance(value, str):
        return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if isinstance(value, list):
        return [as_shown(v) for v in value]
    return value


@dataclass
class Choice:
    code: str
    label: str
    checked: bool


@dataclass
class Question:
    """One question as the page template shows it."""

    code: str
    type: str
    text: str
    hint: str
    required: bool
    value: Any
    errors: list[str]
    choices: list[Choice] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    relevant_json: str = ""
    language: str = ""  # of the interface's words in the markup; by default the active one

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def multiple(self) -> bool:
        return self.type == "multiple_choice"

    @property
    def choice_inputs(self) -> str:
        """The radio buttons or checkboxes with their labels, as HTML."""
        kind = "checkbox" if self.multiple else "radio"
        invalid = ' aria-invalid="true"' if self.errors else ""
        code = escape(self.code)
        return "\n".join(
            f'<div class="choice"><input type="{kind}" id="f-{code}-{n}" name="{code}" '
            f'value="{escape(c.code)}"{" checked" if c.checked else ""}{invalid}> '
            f'<label for="f-{code}-{n}">{escape(c.label)}</label></div>'
            for n, c in enumerate(self.choices, start=1)
        )

    @property
    def html(self) -> SafeString:
        """The whole question as the page shows it: a fieldset and legend for
        choices, a bound label otherwise; hint and error linked by
        aria-describedby. Built here rather than in a template: a page has
        many questions and this was most of the cost of showing it. Every
        value from the definition and every answer is escaped; the rest are
        constants."""
        code = escape(self.code)
        errors = " ".join(escape(e) for e in self.errors)
        described = " ".join(
            ([f"hint-{code}"] if self.hint else []) + ([f"err-{code}"] if self.errors else [])
        )
        described_by = f' aria-describedby="{described}"' if described else ""
        words = _phrases(self.language or current_language())
        required_word, error_word = words["required"], words["error"]
        required = f' <span class="required">({required_word})</span>' if self.required else ""
        hint = f'<p class="hint" id="hint-{code}">{escape(self.hint)}</p>' if self.hint else ""
        error = (
            f'<p class="error-message" id="err-{code}"><span class="visually-hidden">'
            f"{error_word}</span> {errors}</p>"
            if self.errors
            else ""
        )
        relevant = f' data-relevant="{escape(self.relevant_json)}"' if self.relevant_json else ""
        parts = [f'<div class="question{" has-error" if self.errors else ""}" id="q-{code}"{relevant}>']
        if self.is_choice:
            parts += [
                f"<fieldset{described_by}>",
                f'<legend class="question-text">{escape(self.text)}{required}</legend>',
                hint,
                error,
                f'<div class="choices">\n{self.choice_inputs}\n</div>',
                "</fieldset>",
            ]
        else:
            percent_words = words["percent"]
            percent = (
                f'<span class="visually-hidden"> ({percent_words})</span>' if self.type == "percent" else ""
            )
            state = (' aria-required="true"' if self.required else "") + (
                ' aria-invalid="true"' if self.errors else ""
            )
            value = "" if self.value is None else escape(localize(self.value))
            parts += [
                f'<label class="question-text" for="f-{code}">{escape(self.text)}{required}{percent}</label>',
                hint,
                error,
            ]
            if self.type == "text":
                attrs = "".join(f' {k}="{escape(v)}"' for k, v in self.attrs.items())
                parts.append(
                    f'<textarea id="f-{code}" name="{code}" rows="4"{attrs}{described_by}{state}>'
                    f"{value}</textarea>"
                )
            else:
                inputmode = (
                    f' inputmode="{escape(self.attrs["inputmode"])}"' if "inputmode" in self.attrs else ""
                )
                unit = '<span aria-hidden="true">%</span>' if self.type == "percent" else ""
                parts.append(
                    f'<div class="number-input"><input type="text" id="f-{code}" name="{code}" '
                    f'value="{value}" autocomplete="off"{inputmode}{described_by}{state}>{unit}</div>'
                )
        parts.append("</div>")
        return mark_safe("\n".join(part for part in parts if part))  # noqa: S308 - built from escaped values and constants

    @property
    def review_html(self) -> SafeString:
        """The question and its answer as a row of the review page's list
        (built here for the same reason as ``html``; every value escaped)."""
        shown = self.display_value
        words = _phrases(self.language or current_language())
        not_answered, error_word = words["not_answered"], words["error"]
        answer = escape(shown) if shown else f'<span class="unanswered">{not_answered}</span>'
        error = (
            f'<span class="error-message"><span class="visually-hidden">{error_word}</span> '
            f"{' '.join(escape(e) for e in self.errors)}</span>"
            if self.errors
            else ""
        )
        return mark_safe(  # noqa: S308 - built from escaped values and constants
            f'<div class="answer-row{" has-error" if self.errors else ""}">\n'
            f"<dt>{escape(self.text)}</dt>\n<dd>{answer}\n{error}</dd>\n</div>"
        )

    @property
    def display_value(self) -> str:
        """The answer as the review page shows it."""
        if self.is_choice:
            return ", ".join(c.label for c in self.choices if c.checked)
        if self.value is None:
            return ""
        return f"{self.value} %" if self.type == "percent" else str(self.value)


def questions_for(
    section: Mapping[str, Any],
    definition: Mapping[str, Any],
    answers: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    on_page: set[str] | None = None,
) -> list[Question]:
    """The page's questions with their current answers and errors.

    ``on_page`` are the item codes shown together; a relevance rule that only
    refers to them is handed to the browser (data-relevant) so the question
    can appear or disappear as the respondent answers.
    """
    languages = definition["languages"]
    lists = definition["choice_lists"]
    on_page = on_page or set()
    language = current_language()
    questions = []
    for item in section["items"]:
        code = item["code"]
        value = answers.get(code)
        question = Question(
            code=code,
            type=item["type"],
            text=translate(item["text"], languages, language),
            hint=translate(item.get("hint"), languages, language),
            required=item.get("required", False),
            value=value,
            errors=list(errors.get(f"answers.{code}", [])),
            language=language,
        )
        if question.is_choice:
            chosen = value if isinstance(value, list) else [value]
            question.choices = [
                Choice(c["code"], translate(c["label"], languages, language), c["code"] in chosen)
                for c in lists[item["choices"]]
            ]
        question.attrs = _input_attrs(item)
        rule = item.get("relevant")
        if rule and _refers_only_to(rule, on_page):
            question.relevant_json = json.dumps(rule, separators=(",", ":"))
        questions.append(question)
    return questions


def _input_attrs(item: Mapping[str, Any]) -> dict[str, str]:
    constraint = item.get("constraint", {})
    attrs: dict[str, str] = {}
    if item["type"] in NUMERIC_TYPES:
        low = constraint.get("min", 0 if item["type"] == "percent" else None)
        high = constraint.get("max", 100 if item["type"] == "percent" else None)
        if low is not None:
            attrs["min"] = str(low)
        if high is not None:
            attrs["max"] = str(high)
        integer = constraint.get("integer")
        attrs["inputmode"] = "numeric" if integer else "decimal"
        attrs["step"] = "1" if integer else "any"
    if item["type"] == "text" and "max_length" in constraint:
        attrs["maxlength"] = str(constraint["max_length"])
    return attrs


def _refers_only_to(rule: Mapping[str, Any], codes: set[str]) -> bool:
    if "item" in rule:
        return rule["item"] in codes
    children = rule.get("all") or rule.get("any") or [rule.get("not")]
    return all(child is not None and _refers_only_to(child, codes) for child in children)


class StartForm(forms.Form):
    """The first page of an open wave link: where the citizen lives."""

    locality = forms.ChoiceField(
        label=_("Where do you live?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose where you live.")},
    )

    def __init__(self, *args: Any, localities: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.localities = localities
        self.fields["locality"].choices = localities  # type: ignore[attr-defined]

    def locality_question(self) -> Question:
        """The form's one question, shown like every other question."""
        chosen = self["locality"].value()
        return Question(
            code="locality",
            type="single_choice",
            text=str(self.fields["locality"].label),
            hint="",
            required=False,
            value=chosen,
            errors=[str(error) for error in self.errors.get("locality", [])],
            choices=[Choice(code, name, code == chosen) for code, name in self.localities],
        )


class ResumeForm(forms.Form):
    code = forms.CharField(
        label=_("Resume code"),
        max_length=20,
        help_text=_("The code you were shown when you saved your answers, e.g. 7KQ2-M9XD-4HTR."),
        error_messages={"required": _("Enter your resume code.")},
    )
