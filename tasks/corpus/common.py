"""Languages, intents and the slot values every language shares (digits read the same in all)."""

from __future__ import annotations

# The twelve AlexaTM 20B languages, in the order the paper lists them.
LANGUAGES: tuple[str, ...] = ("ar", "en", "fr", "de", "hi", "it", "ja", "mr", "pt", "es", "ta", "te")

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "en": "English",
    "fr": "French",
    "de": "German",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "mr": "Marathi",
    "pt": "Portuguese",
    "es": "Spanish",
    "ta": "Tamil",
    "te": "Telugu",
}

INTENTS: tuple[str, ...] = (
    "add_to_shopping_list",
    "book_restaurant",
    "book_taxi",
    "call_contact",
    "check_calendar",
    "find_recipe",
    "get_definition",
    "get_news_update",
    "get_sports_score",
    "get_traffic",
    "get_weather",
    "order_food",
    "play_music",
    "play_podcast",
    "play_radio",
    "send_message",
    "set_alarm",
    "set_reminder",
    "set_thermostat",
    "set_timer",
    "translate_phrase",
    "turn_on_lights",
)

# Numeric slots, written with ASCII digits in every language; a language may override them.
SHARED_SLOTS: dict[str, str] = {
    "freq": "88.1|89.5|90.3|91.7|92.4|93.9|94.5|95.2|96.7|97.1|98.5|99.9|100.3|101.1|102.7|103.5|104.9|"
    "105.3|106.1|107.5",
    "percent": "10|20|25|30|40|50|60|70|75|80|90|100",
    "degrees": "17|18|19|20|21|22|23|24|25|26",
}
