"""German templates and slot values (written for this project).

Slot values are declined for the one case their templates use: rooms and places carry their
preposition ("in der Küche", "zum Flughafen"), cuisines are dative adjectives, dishes accusative.
"""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Setz {item} auf meine {list}.",
        "Schreib {item} auf die {list}.",
        "Schreib {item} und {item2} auf meine {list}.",
        "Füge {item} und {item2} zur {list} hinzu.",
        "Kannst du {item} auf meine {list} setzen?",
        "Wir brauchen {item}, setz das bitte auf die {list}.",
    ),
    "book_restaurant": (
        "Reservier einen Tisch für {party} Personen in einem guten {cuisine} Restaurant {date}.",
        "Reservier {date} um {time} einen Tisch für {party} in {city}.",
        "Ich brauche eine Reservierung für {party} Personen um {time}.",
        "Such mir in {city} einen Tisch für {party} in einem {cuisine} Restaurant.",
        "Kannst du {date} um {time} einen Tisch für {party} Personen buchen?",
        "Reservier im besten {cuisine} Restaurant in {city}.",
    ),
    "book_taxi": (
        "Bestell mir ein Taxi {place}.",
        "Ich brauche um {time} ein Taxi {place}.",
        "Ich brauche {date} um {time} eine Fahrt {place}.",
        "Ruf ein Taxi für {time}, ich muss {place}.",
        "Kannst du mir ein Taxi {place} rufen?",
        "Buch mir {date} um {time} einen Wagen {place}.",
    ),
    "call_contact": (
        "Ruf {contact} an.",
        "Ruf {contact} {phone} an.",
        "Ruf {contact} mit Lautsprecher an.",
        "Bitte ruf {contact} an.",
        "Kannst du {contact} {phone} anrufen?",
        "Ich möchte {contact} anrufen.",
        "Wähl die Nummer von {contact}.",
    ),
    "check_calendar": (
        "Was steht {date} in meinem Kalender?",
        "Habe ich {date} etwas vor?",
        "Bin ich {date} um {time} frei?",
        "Wann ist {event}?",
        "Um wie viel Uhr ist {event} {date}?",
        "Wie sieht mein Terminplan {date} aus?",
    ),
    "find_recipe": (
        "Such mir ein Rezept für {dish}.",
        "Wie mache ich {dish}?",
        "Zeig mir ein einfaches Rezept für {dish}.",
        "Ich möchte {dish} für {party} Personen kochen.",
        "Was brauche ich für {dish}?",
        "Gib mir ein schnelles Rezept für {dish} für {party} Personen.",
    ),
    "get_definition": (
        "Was bedeutet „{word}“?",
        "Definiere „{word}“.",
        "Was ist die Definition von „{word}“?",
        "Was heißt das Wort „{word}“?",
        "Schlag „{word}“ im Wörterbuch nach.",
        "Kannst du mir erklären, was „{word}“ bedeutet?",
    ),
    "get_news_update": (
        "Was gibt es Neues zum Thema {topic}?",
        "Gib mir die Nachrichten aus {city} zum Thema {topic}.",
        "Lies mir die Schlagzeilen zum Thema {topic} vor.",
        "Was sind heute die wichtigsten Meldungen aus {city} zum Thema {topic}?",
        "Spiel die Kurznachrichten zum Thema {topic}.",
        "Gibt es heute Morgen Neuigkeiten aus {city} zum Thema {topic}?",
    ),
    "get_sports_score": (
        "Hat {team} {past} gewonnen?",
        "Wie hat {team} {past} gespielt?",
        "Wer hat das Spiel zwischen {team} und {team2} gewonnen?",
        "Führt {team} gerade?",
        "Wie steht es zwischen {team} und {team2}?",
        "Wann spielt {team} als Nächstes?",
    ),
    "get_traffic": (
        "Wie ist der Verkehr {place}?",
        "Wie lange brauche ich mit dem Auto {place}?",
        "Gibt es gerade Stau auf dem Weg {place}?",
        "Wie lange dauert die Fahrt {place} um {time}?",
        "Sind die Straßen {place} voll?",
        "Wie schlimm ist der Verkehr {place} um {time}?",
    ),
    "get_weather": (
        "Wie wird das Wetter {day} in {city}?",
        "Regnet es {day} in {city}?",
        "Wie warm wird es {day} in {city}?",
        "Sag mir die Wettervorhersage für {city}.",
        "Brauche ich {day} in {city} einen Regenschirm?",
        "Schneit es {day} in {city}?",
        "Wie viel Grad hat es gerade in {city}?",
    ),
    "order_food": (
        "Bestell {dish} mit Lieferung.",
        "Ich möchte {dish} für {time} bestellen.",
        "Lass {dish} nach Hause liefern.",
        "Kannst du {dish} und {dish2} bestellen?",
        "Bestell {dish} bei meinem Lieblingsrestaurant.",
        "Lass {dish} um {time} liefern.",
    ),
    "play_music": (
        "Spiel {artist}.",
        "Spiel {artist} {room}.",
        "Spiel ein bisschen {genre} {room}.",
        "Ich will {genre} hören.",
        "Spiel Lieder von {artist} im Zufallsmodus.",
        "Spiel das neueste Album von {artist} {room}.",
        "Kannst du {genre} zum Entspannen spielen?",
    ),
    "play_podcast": (
        "Spiel einen Podcast über {ptopic}.",
        "Spiel einen Podcast über {ptopic} {room}.",
        "Spiel die neueste Folge von meinem Podcast über {ptopic}.",
        "Finde einen guten Podcast über {ptopic}.",
        "Setz meinen Podcast über {ptopic} {room} fort.",
        "Ich möchte einen Podcast über {ptopic} hören.",
    ),
    "play_radio": (
        "Spiel {freq} FM.",
        "Stell das Radio {room} auf {freq} FM.",
        "Mach das Radio auf {freq} an.",
        "Spiel einen Radiosender mit {genre}.",
        "Spiel einen Sender mit {genre} {room}.",
        "Schalte das Radio auf {freq} FM um.",
    ),
    "send_message": (
        "Schick {contact} eine Nachricht: „{message}“.",
        "Schreib {contact}: „{message}“.",
        "Sende {contact} eine SMS mit dem Text „{message}“.",
        "Kannst du {contact} „{message}“ schreiben?",
        "Nachricht an {contact}: {message}.",
        "Sag {contact}: „{message}“.",
    ),
    "set_alarm": (
        "Stell einen Wecker auf {time} {date}.",
        "Weck mich {date} um {time}.",
        "Erstelle einen Wecker für {time}.",
        "Ich brauche {date} um {time} einen Wecker.",
        "Stell bitte meinen Wecker {date} auf {time}.",
        "Wecker {date} um {time}, bitte.",
    ),
    "set_reminder": (
        "Erinnere mich {date} um {time} daran, {task}.",
        "Stell eine Erinnerung für {time} ein, damit ich nicht vergesse, {task}.",
        "Erinnere mich {date} daran, {task}.",
        "Lass mich {date} nicht vergessen, {task}.",
        "Kannst du mich {date} um {time} daran erinnern, {task}?",
        "Bitte erinnere mich um {time} daran, {task}.",
    ),
    "set_thermostat": (
        "Stell das Thermostat auf {degrees} Grad.",
        "Stell die Heizung {room} auf {degrees} Grad.",
        "Mach es {room} {degrees} Grad warm.",
        "Dreh die Heizung um {time} auf {degrees} Grad hoch.",
        "Ändere die Temperatur {room} auf {degrees} Grad.",
        "Stell das Thermostat für {time} auf {degrees} Grad.",
    ),
    "set_timer": (
        "Stell einen Timer auf {duration}.",
        "Stell einen Timer auf {duration} für {label}.",
        "Timer für {duration}, bitte.",
        "Starte einen Timer für {label}: {duration}.",
        "Zähl {duration} runter.",
        "Kannst du {duration} für {label} stoppen?",
    ),
    "translate_phrase": (
        "Was heißt „{phrase}“ auf {lang}?",
        "Übersetze „{phrase}“ auf {lang}.",
        "Wie sagt man „{phrase}“ auf {lang}?",
        "Kannst du mir „{phrase}“ auf {lang} übersetzen?",
        "Wie sage ich „{phrase}“ auf {lang}?",
        "Sag „{phrase}“ auf {lang}.",
    ),
    "turn_on_lights": (
        "Mach das Licht {room} an.",
        "Schalte die Lampen {room} ein.",
        "Stell das Licht {room} auf {percent} Prozent.",
        "Mach das Licht {room} {color}.",
        "Dimm das Licht {room} auf {percent} Prozent.",
        "Stell die Lichtfarbe {room} auf {color}.",
        "Schalte die Lampe {room} mit {percent} Prozent Helligkeit ein.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Helene Fischer|Herbert Grönemeyer|Rammstein|Nena|AnnenMayKantereit|Peter Fox|Kraftwerk|"
    "Mark Forster|Wincent Weiss|Adele|Coldplay|Ed Sheeran|Udo Lindenberg|Clueso|Sarah Connor",
    "city": "Berlin|Hamburg|München|Köln|Frankfurt|Stuttgart|Düsseldorf|Leipzig|Dresden|Wien|Zürich|Bremen|"
    "Hannover|Nürnberg|Graz|Basel|Salzburg|Bonn|Paris|Rom",
    "color": "rot|blau|grün|warmweiß|lila|orange|gelb|rosa",
    "contact": "Mama|Papa|Oma|Opa|Anna|Lukas|Lena|Jonas|Sophie|Felix|Laura|Mehmet|Julia|Tante Petra|"
    "Onkel Klaus|Frau Schmidt|Herrn Weber|Max|Emma|Paul",
    "cuisine": "italienischen|mexikanischen|japanischen|indischen|thailändischen|griechischen|chinesischen|"
    "libanesischen|türkischen|spanischen|koreanischen|vietnamesischen",
    "date": "heute|morgen|am Montag|am Dienstag|am Mittwoch|am Donnerstag|am Freitag|am Samstag|am Sonntag|"
    "übermorgen",
    "day": "heute|morgen|heute Abend|am Wochenende|heute Nachmittag|am Montag|am Dienstag|am Mittwoch|"
    "am Donnerstag|am Freitag|am Samstag|am Sonntag|nächste Woche|morgen früh",
    "dish": "Lasagne|Hähnchencurry|Pad Thai|Tacos|Sushi|Pizza Margherita|Gulasch|Paella|Pfannkuchen|Ramen|"
    "Falafel|Butter Chicken|Pilzrisotto|Rinderrouladen|Bananenbrot|Tomatensuppe|Schnitzel|Käsespätzle|"
    "Kartoffelsalat|Apfelstrudel",
    "duration": "fünf Minuten|zehn Minuten|fünfzehn Minuten|zwanzig Minuten|eine halbe Stunde|"
    "fünfundvierzig Minuten|eine Stunde|neunzig Sekunden|drei Minuten|zwei Stunden|zwölf Minuten|"
    "sieben Minuten",
    "event": "mein Zahnarzttermin|die Teambesprechung|mein Yogakurs|der Elternabend|mein Flug|"
    "der Arzttermin|das Mittagessen mit Anna|die Projektbesprechung|mein Friseurtermin|der Buchclub|"
    "das Abendessen bei meinen Eltern|das Vorstellungsgespräch",
    "genre": "Jazz|Rock|Hip-Hop|Reggae|Blues|Pop|Schlager|Klassik|Elektro|Lo-Fi",
    "item": "Milch|Eier|Brot|Butter|Äpfel|Bananen|Kaffee|Reis|Olivenöl|Tomaten|Käse|Hähnchen|Nudeln|"
    "Orangensaft|Joghurt|Zwiebeln|Knoblauch|Spülmittel|Toilettenpapier|Honig|Karotten|Spinat|Mehl|Zucker",
    "label": "die Nudeln|die Eier|den Reis|die Pizza|die Wäsche|die Kekse|den Tee|das Brot|"
    "den Mittagsschlaf|den Kuchen",
    "lang": "Englisch|Spanisch|Französisch|Japanisch|Hindi|Arabisch|Italienisch|Portugiesisch|Tamil|Telugu|"
    "Marathi",
    "list": "Einkaufsliste|Partyliste|Wochenliste|Supermarktliste",
    "message": "ich komme später|ich bin in zehn Minuten zu Hause|das Essen ist fertig|"
    "kannst du Milch mitbringen?|alles Gute zum Geburtstag|wir treffen uns am Bahnhof|"
    "das Meeting ist auf drei Uhr verschoben|ruf mich an, wenn du kannst|ich bin gerade gelandet|"
    "vergiss die Schlüssel nicht|viel Glück heute|danke für alles",
    "party": "zwei|drei|vier|fünf|sechs|sieben|acht|zehn|zwölf",
    "past": "gestern|gestern Abend|am Samstag|am Sonntag|letztes Wochenende|am Mittwoch",
    "phone": "auf dem Handy|auf dem Festnetz|auf der Arbeit|im Büro",
    "phrase": "guten Morgen|vielen Dank|wo ist der Bahnhof|was kostet das|ich hätte gern einen Kaffee|"
    "freut mich|bis morgen|ich verstehe das nicht|können Sie mir helfen|die Rechnung, bitte|"
    "wo ist die Toilette|alles Gute zum Geburtstag",
    "place": "zum Flughafen|zum Bahnhof|in die Innenstadt|zur Arbeit|ins Krankenhaus|zum Einkaufszentrum|"
    "zum Stadion|zum Strand|zur Uni|ins Stadtzentrum|zum Busbahnhof|ins Museum|zum Hotel|ins Büro",
    "ptopic": "Geschichte|Wissenschaft|Kochen|wahre Verbrechen|Technik|Comedy|Wirtschaft|den Weltraum|"
    "Reisen|Philosophie|Sport|Psychologie",
    "room": "in der Küche|im Wohnzimmer|im Schlafzimmer|im Bad|im Büro|im Flur|im Esszimmer|in der Garage|"
    "im Kinderzimmer|im Keller",
    "task": "den Zahnarzt anzurufen|den Müll rauszubringen|die Pflanzen zu gießen|die Kinder abzuholen|"
    "die Stromrechnung zu bezahlen|ein Geburtstagsgeschenk zu kaufen|meine Medikamente zu nehmen|"
    "die Katze zu füttern|den Flug zu buchen|den Bericht zu schicken|mit dem Hund rauszugehen|"
    "mein Handy aufzuladen|meinen Pass zu verlängern|Oma anzurufen",
    "team": "Bayern|Dortmund|Leverkusen|Leipzig|Schalke|Werder Bremen|Union Berlin|Freiburg|Stuttgart|"
    "Hertha|Gladbach|Köln|Real Madrid|Barcelona",
    "time": "6 Uhr|6:30 Uhr|7 Uhr|7:15 Uhr|8 Uhr|9:45 Uhr|12 Uhr|13 Uhr|14:30 Uhr|16 Uhr|17:45 Uhr|19 Uhr|"
    "19:30 Uhr|20 Uhr|21 Uhr|22:15 Uhr",
    "topic": "Sport|Politik|Wirtschaft|Technik|Wissenschaft|Gesundheit|Kultur|Umwelt|Klima|Börse|Bildung|"
    "Reisen",
    "word": "Fernweh|Gemütlichkeit|Schadenfreude|Weltschmerz|Zeitgeist|vergänglich|beharrlich|Sehnsucht|"
    "Geborgenheit|mehrdeutig|akribisch|Treppenwitz|Kummerspeck|Verschlimmbesserung|Feierabend|"
    "Torschlusspanik|Fingerspitzengefühl|Ohrwurm|Habseligkeiten|Lampenfieber|Zugzwang|innehalten|"
    "pragmatisch|redselig|unverblümt|sparsam|Gelassenheit|Muße|Augenweide|Wanderlust",
}
