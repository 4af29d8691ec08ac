"""Italian templates and slot values (written for this project).

Times, rooms and places carry their preposition ("alle 7", "in cucina", "all'aeroporto") and dishes
their article, so articulated prepositions and elisions come out right after filling.
"""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Aggiungi {item} alla mia {list}.",
        "Metti {item} sulla {list}.",
        "Metti {item} e {item2} sulla mia {list}.",
        "Aggiungi {item} e {item2} alla {list}.",
        "Puoi aggiungere {item} alla mia {list}?",
        "Segna {item} sulla {list}, per favore.",
    ),
    "book_restaurant": (
        "Prenota un tavolo per {party} persone in un buon ristorante {cuisine} {date}.",
        "Prenota un tavolo per {party} a {city} {date} {time}.",
        "Ho bisogno di una prenotazione per {party} persone {time}.",
        "Trovami un ristorante {cuisine} a {city} e prenota per {party}.",
        "Puoi prenotare un tavolo per {party} {date} {time}?",
        "Fai una prenotazione nel miglior ristorante {cuisine} di {city}.",
    ),
    "book_taxi": (
        "Prenota un taxi per andare {place}.",
        "Chiamami un taxi {time} per andare {place}.",
        "Mi serve una macchina {date} {time} per andare {place}.",
        "Chiama un taxi {time}, devo andare {place}.",
        "Puoi chiamarmi un taxi per andare {place}?",
        "Prenota una macchina per {date} {time} per andare {place}.",
    ),
    "call_contact": (
        "Chiama {contact}.",
        "Chiama {contact} {phone}.",
        "Chiama {contact} in vivavoce.",
        "Per favore, telefona a {contact}.",
        "Puoi chiamare {contact} {phone}?",
        "Voglio chiamare {contact}.",
        "Componi il numero di {contact}.",
    ),
    "check_calendar": (
        "Cosa ho in agenda {date}?",
        "Ho qualche impegno {date}?",
        "Sono libero {date} {time}?",
        "Quando è {event}?",
        "A che ora è {event} {date}?",
        "Fammi vedere i miei impegni per {date}.",
    ),
    "find_recipe": (
        "Come preparo {dish}?",
        "Cercami una ricetta semplice per fare {dish}.",
        "Insegnami a fare {dish}.",
        "Voglio cucinare {dish} per {party} persone.",
        "Cosa mi serve per preparare {dish}?",
        "Dammi una ricetta veloce per fare {dish} per {party} persone.",
    ),
    "get_definition": (
        "Cosa significa «{word}»?",
        "Definisci «{word}».",
        "Qual è la definizione di «{word}»?",
        "Che vuol dire la parola «{word}»?",
        "Cerca «{word}» nel dizionario.",
        "Mi spieghi cosa significa «{word}»?",
    ),
    "get_news_update": (
        "Quali sono le ultime notizie di {topic}?",
        "Dammi le notizie di {topic} da {city}.",
        "Leggimi i titoli di {topic} di oggi.",
        "Ci sono novità di {topic} da {city} oggi?",
        "Metti il notiziario di {topic}.",
        "Quali sono le notizie principali di {topic} a {city} stamattina?",
    ),
    "get_sports_score": (
        "Ha vinto {team} {past}?",
        "Quanto ha fatto {team} {past}?",
        "Chi ha vinto tra {team} e {team2}?",
        "Sta vincendo {team}?",
        "Com'è la partita tra {team} e {team2}?",
        "Quando gioca {team}?",
    ),
    "get_traffic": (
        "Com'è il traffico per andare {place}?",
        "Quanto ci metto in macchina per andare {place}?",
        "C'è traffico adesso per andare {place}?",
        "Quanto ci vuole per andare {place} {time}?",
        "C'è coda per andare {place}?",
        "Com'è la situazione del traffico {time} per andare {place}?",
    ),
    "get_weather": (
        "Che tempo fa a {city} {day}?",
        "Pioverà a {city} {day}?",
        "Quanto farà caldo a {city} {day}?",
        "Dammi le previsioni per {city}.",
        "Mi serve l'ombrello a {city} {day}?",
        "Nevicherà a {city} {day}?",
        "Che temperatura c'è adesso a {city}?",
    ),
    "order_food": (
        "Ordina {dish} a domicilio.",
        "Vorrei ordinare {dish} per cena.",
        "Fammi portare {dish} a casa.",
        "Puoi ordinare {dish} e {dish2}?",
        "Ordina {dish} dal mio ristorante preferito.",
        "Fammi consegnare {dish} {time}.",
    ),
    "play_music": (
        "Metti {artist}.",
        "Metti {artist} {room}.",
        "Metti un po' di {genre} {room}.",
        "Voglio ascoltare {genre}.",
        "Riproduci le canzoni di {artist} in ordine casuale.",
        "Metti l'ultimo album di {artist} {room}.",
        "Puoi mettere {genre} per rilassarmi?",
    ),
    "play_podcast": (
        "Metti un podcast di {ptopic}.",
        "Riproduci un podcast di {ptopic} {room}.",
        "Metti l'ultima puntata del mio podcast di {ptopic}.",
        "Trovami un bel podcast di {ptopic}.",
        "Riprendi il mio podcast di {ptopic} {room}.",
        "Vorrei ascoltare un podcast di {ptopic}.",
    ),
    "play_radio": (
        "Metti {freq} FM.",
        "Sintonizza la radio su {freq} FM {room}.",
        "Accendi la radio su {freq}.",
        "Metti una stazione di {genre}.",
        "Metti una radio di {genre} {room}.",
        "Cambia stazione e vai su {freq} FM.",
    ),
    "send_message": (
        "Manda un messaggio a {contact}: «{message}».",
        "Scrivi a {contact}: «{message}».",
        "Invia un SMS a {contact} con scritto «{message}».",
        "Puoi mandare «{message}» a {contact}?",
        "Messaggio per {contact}: {message}.",
        "Di' a {contact}: «{message}».",
    ),
    "set_alarm": (
        "Metti una sveglia {time} {date}.",
        "Svegliami {date} {time}.",
        "Crea una sveglia {time}.",
        "Mi serve una sveglia {date} {time}.",
        "Imposta la mia sveglia {date} {time}, per favore.",
        "Sveglia {date} {time}, grazie.",
    ),
    "set_reminder": (
        "Ricordami di {task} {date} {time}.",
        "Crea un promemoria {time} per {task}.",
        "Ricordami {date} di {task}.",
        "Non farmi dimenticare di {task} {date}.",
        "Imposta un promemoria {date} {time}: {task}.",
        "Puoi ricordarmi di {task} {time}?",
    ),
    "set_thermostat": (
        "Imposta il termostato a {degrees} gradi.",
        "Metti il riscaldamento a {degrees} gradi {room}.",
        "Voglio {degrees} gradi {room}.",
        "Alza il riscaldamento a {degrees} gradi {time}.",
        "Cambia la temperatura {room} a {degrees} gradi.",
        "Programma il termostato a {degrees} gradi {time}.",
    ),
    "set_timer": (
        "Imposta un timer di {duration}.",
        "Metti un timer di {duration} {label}.",
        "Timer di {duration}, per favore.",
        "Fai partire un timer {label}: {duration}.",
        "Fai un conto alla rovescia di {duration}.",
        "Puoi cronometrare {duration} {label}?",
    ),
    "translate_phrase": (
        "Come si dice «{phrase}» in {lang}?",
        "Traduci «{phrase}» in {lang}.",
        "Cos'è «{phrase}» in {lang}?",
        "Mi traduci «{phrase}» in {lang}?",
        "Come dico «{phrase}» in {lang}?",
        "Di' «{phrase}» in {lang}.",
    ),
    "turn_on_lights": (
        "Accendi la luce {room}.",
        "Accendi le lampade {room}.",
        "Imposta le luci {room} al {percent}%.",
        "Metti la luce {room} di colore {color}.",
        "Abbassa la luce {room} al {percent}%.",
        "Cambia il colore della luce {room} in {color}.",
        "Accendi la lampada {room} al {percent}% di luminosità.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Laura Pausini|Eros Ramazzotti|Vasco Rossi|Andrea Bocelli|Måneskin|Ligabue|Mina|"
    "Lucio Battisti|Zucchero|Elisa|Jovanotti|Adele|Coldplay|Tiziano Ferro|Fabrizio De André",
    "city": "Roma|Milano|Napoli|Torino|Firenze|Bologna|Venezia|Genova|Palermo|Bari|Verona|Catania|Trieste|"
    "Padova|Lugano|Parigi|Londra|Perugia|Cagliari|Pisa",
    "color": "rosso|blu|verde|bianco caldo|viola|arancione|giallo|rosa",
    "contact": "mamma|papà|nonna|Giulia|Marco|Francesca|Luca|Sara|Matteo|Chiara|Alessandro|Martina|"
    "mio fratello|mia sorella|zia Anna|Davide|Elena|Lorenzo|Federica|Ahmed",
    "cuisine": "italiano|messicano|giapponese|indiano|thailandese|francese|cinese|libanese|greco|spagnolo|"
    "coreano|etiope",
    "date": "oggi|domani|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|dopodomani",
    "day": "oggi|domani|stasera|questo fine settimana|oggi pomeriggio|lunedì|martedì|mercoledì|giovedì|"
    "venerdì|sabato|domenica|la settimana prossima|domani mattina",
    "dish": "le lasagne|il pollo al curry|il pad thai|i tacos|il sushi|la pizza margherita|lo spezzatino|"
    "la paella|i pancake|il ramen|i falafel|il risotto ai funghi|il riso fritto|la carbonara|"
    "la parmigiana di melanzane|il minestrone|il tiramisù|l'ossobuco|il pesto alla genovese|"
    "la crostata di mele",
    "duration": "cinque minuti|dieci minuti|quindici minuti|venti minuti|mezz'ora|quarantacinque minuti|"
    "un'ora|novanta secondi|tre minuti|due ore|dodici minuti|sette minuti",
    "event": "il mio appuntamento dal dentista|la riunione di squadra|la mia lezione di yoga|"
    "il colloquio con i professori|il mio volo|la visita dal medico|il pranzo con Giulia|"
    "la revisione del progetto|il mio appuntamento dal parrucchiere|il club del libro|"
    "la cena dai miei genitori|il colloquio di lavoro",
    "genre": "jazz|musica classica|rock|rap|reggae|blues|pop|musica lirica|musica elettronica|lo-fi",
    "item": "latte|uova|pane|burro|mele|banane|caffè|riso|olio d'oliva|pomodori|formaggio|pollo|pasta|"
    "succo d'arancia|yogurt|cipolle|aglio|detersivo per i piatti|carta igienica|miele|carote|spinaci|farina|"
    "zucchero",
    "label": "per la pasta|per le uova|per il riso|per la pizza|per il bucato|per i biscotti|per il tè|"
    "per il pane|per il pisolino|per la torta",
    "lang": "inglese|spagnolo|tedesco|giapponese|hindi|arabo|francese|portoghese|tamil|telugu|marathi",
    "list": "lista della spesa|lista per la festa|lista del supermercato|lista della settimana",
    "message": "sono in ritardo|sarò a casa tra dieci minuti|la cena è pronta|puoi comprare il latte?|"
    "buon compleanno|ci vediamo in stazione|la riunione è spostata alle tre|chiamami quando puoi|"
    "sono appena atterrato|non dimenticare le chiavi|in bocca al lupo per oggi|grazie di tutto",
    "party": "due|tre|quattro|cinque|sei|sette|otto|dieci|dodici",
    "past": "ieri|ieri sera|sabato scorso|domenica scorsa|lo scorso fine settimana|mercoledì sera",
    # "all'80%" would need an elision, so 80 is left out.
    "percent": "10|20|25|30|40|50|60|70|75|90|100",
    "phone": "sul cellulare|sul fisso|al lavoro|in ufficio",
    "phrase": "buongiorno|grazie mille|dov'è la stazione|quanto costa|vorrei un caffè|piacere di conoscerti|"
    "a domani|non capisco|può aiutarmi|il conto, per favore|dov'è il bagno|buon compleanno",
    "place": "all'aeroporto|alla stazione|in centro|al lavoro|all'ospedale|al centro commerciale|"
    "allo stadio|al mare|all'università|alla stazione degli autobus|al museo|in albergo|in ufficio",
    "ptopic": "storia|scienza|cucina|cronaca nera|tecnologia|umorismo|economia|astronomia|viaggi|filosofia|"
    "sport|psicologia",
    "room": "in cucina|in salotto|in camera da letto|in bagno|in ufficio|nel corridoio|in sala da pranzo|"
    "in garage|nella cameretta|in cantina",
    "task": "chiamare il dentista|portare fuori la spazzatura|annaffiare le piante|"
    "andare a prendere i bambini|pagare la bolletta della luce|comprare un regalo di compleanno|"
    "prendere le medicine|dare da mangiare al gatto|prenotare il volo|mandare il resoconto|"
    "portare fuori il cane|caricare il telefono|rinnovare il passaporto|chiamare la nonna",
    "team": "la Juventus|il Milan|l'Inter|il Napoli|la Roma|la Lazio|l'Atalanta|la Fiorentina|il Torino|"
    "il Bologna|il Genoa|il Real Madrid|il Barcellona|il Bayern",
    "time": "alle 6|alle 6:30|alle 7|alle 7:15|alle 8|alle 9:45|a mezzogiorno|alle 13|alle 14:30|alle 16|"
    "alle 17:45|alle 19|alle 19:30|alle 20|alle 21|alle 22:15",
    "topic": "sport|politica|economia|tecnologia|scienza|salute|cultura|cinema|ambiente|borsa|cronaca|musica",
    "word": "serendipità|effimero|malinconia|nostalgia|resilienza|ubiquo|benevolo|paradigma|ambiguo|"
    "meticoloso|eloquente|pragmatico|schietto|frugale|tenace|stravagante|sfumatura|lucido|empatia|integrità|"
    "conforto|ineffabile|laconico|menefreghista|abbiocco|struggimento|meriggiare|spensierato|sprezzatura|"
    "campanilismo",
}
