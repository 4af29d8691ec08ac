"""French templates and slot values (written for this project).

Slot values carry their own articles and prepositions ("du lait", "au stade", "d'appeler") so that
elision and contraction stay correct after filling.
"""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Ajoute {item} à ma {list}.",
        "Mets {item} sur la {list}.",
        "Mets {item} et {item2} sur ma {list}.",
        "Ajoute {item} et {item2} à la {list}.",
        "Tu peux ajouter {item} à ma {list} ?",
        "Il me faut {item}, note ça sur ma {list}.",
    ),
    "book_restaurant": (
        "Réserve une table pour {party} personnes dans un bon restaurant {cuisine} {date}.",
        "Réserve une table pour {party} à {city} {date} à {time}.",
        "J'ai besoin d'une réservation pour {party} personnes à {time}.",
        "Trouve-moi un restaurant {cuisine} à {city} et réserve pour {party}.",
        "Tu peux réserver une table pour {party} à {time} {date} ?",
        "Fais une réservation dans le meilleur restaurant {cuisine} à {city}.",
    ),
    "book_taxi": (
        "Réserve un taxi pour aller {place}.",
        "Commande-moi un taxi pour aller {place} à {time}.",
        "J'ai besoin d'une voiture pour aller {place} {date} à {time}.",
        "Appelle un taxi pour {time}, je vais {place}.",
        "Tu peux m'appeler un taxi pour aller {place} ?",
        "Prévois un VTC pour aller {place} à {time} {date}.",
    ),
    "call_contact": (
        "Appelle {contact}.",
        "Appelle {contact} sur son {phone}.",
        "Appelle {contact} en haut-parleur.",
        "Téléphone à {contact}, s'il te plaît.",
        "Tu peux appeler {contact} sur son {phone} ?",
        "Je veux appeler {contact}.",
        "Compose le {phone} de {contact}.",
    ),
    "check_calendar": (
        "Qu'est-ce que j'ai dans mon agenda {date} ?",
        "Est-ce que j'ai quelque chose de prévu {date} ?",
        "Est-ce que je suis libre à {time} {date} ?",
        "C'est quand, {event} ?",
        "À quelle heure est {event} {date} ?",
        "Montre-moi mon emploi du temps pour {date}.",
    ),
    "find_recipe": (
        "Comment on fait {dish} ?",
        "Trouve-moi une recette facile pour faire {dish}.",
        "Comment préparer {dish} ?",
        "Je veux cuisiner {dish} pour {party} personnes.",
        "Qu'est-ce qu'il faut pour faire {dish} ?",
        "Montre-moi comment faire {dish} pour {party} personnes.",
    ),
    "get_definition": (
        "Que veut dire « {word} » ?",
        "Définis le mot « {word} ».",
        "Quelle est la définition du mot « {word} » ?",
        "Que signifie « {word} » ?",
        "Cherche « {word} » dans le dictionnaire.",
        "Explique-moi le sens du mot « {word} ».",
    ),
    "get_news_update": (
        "Quelles sont les dernières infos sur {topic} ?",
        "Donne-moi les actualités sur {topic} à {city}.",
        "Lis-moi les titres du jour sur {topic}.",
        "Quoi de neuf sur {topic} à {city} aujourd'hui ?",
        "Mets le flash info sur {topic}.",
        "Résume-moi l'actualité sur {topic} à {city}.",
    ),
    "get_sports_score": (
        "Est-ce que {team} a gagné {past} ?",
        "Quel a été le score final pour {team} {past} ?",
        "Qui a gagné entre {team} et {team2} ?",
        "Est-ce que {team} est en train de gagner ?",
        "Donne-moi le score du match entre {team} et {team2}.",
        "Quand est-ce que {team} joue ?",
    ),
    "get_traffic": (
        "Comment est la circulation pour aller {place} ?",
        "Combien de temps il me faut pour aller {place} en voiture ?",
        "Est-ce que ça bouchonne pour aller {place} en ce moment ?",
        "Quel temps de trajet pour aller {place} à {time} ?",
        "Y a-t-il des embouteillages pour aller {place} ?",
        "Ça roule bien pour aller {place} à {time} ?",
    ),
    "get_weather": (
        "Quel temps fera-t-il à {city} {day} ?",
        "Est-ce qu'il va pleuvoir à {city} {day} ?",
        "Il va faire chaud à {city} {day} ?",
        "Donne-moi la météo pour {city}.",
        "Est-ce que j'ai besoin d'un parapluie à {city} {day} ?",
        "Est-ce qu'il va neiger à {city} {day} ?",
        "Quelle température fait-il à {city} en ce moment ?",
    ),
    "order_food": (
        "Commande {dish} en livraison.",
        "Je voudrais commander {dish} pour {time}.",
        "Fais-moi livrer {dish} à la maison.",
        "Tu peux commander {dish} et {dish2} ?",
        "Commande {dish} dans mon restaurant préféré.",
        "Fais livrer {dish} à {time}.",
    ),
    "play_music": (
        "Mets {artist}.",
        "Mets {artist} dans {room}.",
        "Mets-moi un peu de {genre} dans {room}.",
        "J'ai envie d'écouter du {genre}.",
        "Lance les chansons de {artist} en aléatoire.",
        "Joue le dernier album de {artist} dans {room}.",
        "Tu peux mettre du {genre} tranquille ?",
    ),
    "play_podcast": (
        "Mets un podcast sur {ptopic}.",
        "Lance un podcast sur {ptopic} dans {room}.",
        "Mets le dernier épisode de mon podcast sur {ptopic}.",
        "Trouve-moi un bon podcast sur {ptopic}.",
        "Reprends mon podcast sur {ptopic} dans {room}.",
        "J'aimerais écouter un podcast sur {ptopic}.",
    ),
    "play_radio": (
        "Mets le {freq} FM.",
        "Mets la radio sur {freq} FM dans {room}.",
        "Allume la radio sur le {freq}.",
        "Mets une radio de {genre}.",
        "Lance une station de {genre} dans {room}.",
        "Passe la radio sur {freq} FM.",
    ),
    "send_message": (
        "Envoie un message à {contact} : « {message} ».",
        "Écris à {contact} : « {message} ».",
        "Envoie un texto à {contact} qui dit « {message} ».",
        "Tu peux envoyer « {message} » à {contact} ?",
        "Message pour {contact} : {message}.",
        "Dis à {contact} : « {message} ».",
    ),
    "set_alarm": (
        "Mets une alarme à {time} {date}.",
        "Réveille-moi à {time} {date}.",
        "Crée une alarme pour {time}.",
        "J'ai besoin d'une alarme à {time} {date}.",
        "Règle mon réveil sur {time} {date}, s'il te plaît.",
        "Alarme à {time} {date}, s'il te plaît.",
    ),
    "set_reminder": (
        "Rappelle-moi {task} {date} à {time}.",
        "Crée un rappel à {time} pour me dire {task}.",
        "Rappelle-moi {date} {task}.",
        "Ne me laisse pas oublier {task} {date}.",
        "Mets un rappel à {time} {date} pour ne pas oublier {task}.",
        "Tu peux me rappeler {task} à {time} {date} ?",
    ),
    "set_thermostat": (
        "Règle le thermostat sur {degrees} degrés.",
        "Mets le chauffage à {degrees} degrés dans {room}.",
        "Je veux {degrees} degrés dans {room}.",
        "Monte le chauffage à {degrees} degrés à {time}.",
        "Change la température dans {room} à {degrees} degrés.",
        "Règle le thermostat sur {degrees} degrés pour {time}.",
    ),
    "set_timer": (
        "Mets un minuteur pour {duration}.",
        "Lance un minuteur pour {label}, {duration}.",
        "Minuteur {duration}, s'il te plaît.",
        "Démarre un minuteur pour {label} : {duration}.",
        "Lance un compte à rebours : {duration}.",
        "Tu peux minuter {duration} pour {label} ?",
        "Règle un minuteur sur {duration}.",
    ),
    "translate_phrase": (
        "Comment dit-on « {phrase} » en {lang} ?",
        "Traduis « {phrase} » en {lang}.",
        "C'est quoi « {phrase} » en {lang} ?",
        "Tu peux me traduire « {phrase} » en {lang} ?",
        "Comment je dis « {phrase} » en {lang} ?",
        "Dis « {phrase} » en {lang}.",
    ),
    "turn_on_lights": (
        "Allume la lumière dans {room}.",
        "Allume les lampes dans {room}.",
        "Règle les lumières dans {room} à {percent} %.",
        "Mets les lumières en {color} dans {room}.",
        "Baisse la lumière dans {room} à {percent} %.",
        "Passe l'éclairage en {color} dans {room}.",
        "Allume la lampe dans {room} à {percent} % de luminosité.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Stromae|Daft Punk|Jacques Brel|Zaz|Céline Dion|Charles Aznavour|Vianney|Francis Cabrel|"
    "Coldplay|Serge Gainsbourg|Johnny Hallyday|Mylène Farmer|Jean-Jacques Goldman|Louane|Bigflo et Oli",
    "city": "Paris|Lyon|Marseille|Bordeaux|Toulouse|Nice|Lille|Nantes|Strasbourg|Montréal|Bruxelles|Genève|"
    "Dakar|Québec|Rennes|Grenoble|Tunis|Bamako|Londres|Tokyo",
    "color": "rouge|bleu|vert|blanc chaud|violet|orange|jaune|rose",
    "contact": "maman|papa|Sophie|Julien|mamie|Camille|Nicolas|Léa|Thomas|Chloé|Karim|Manon|mon frère|"
    "ma sœur|tante Isabelle|Maxime|Lucas|Nina|Romain|Yasmine",
    "cuisine": "italien|mexicain|japonais|indien|thaï|libanais|chinois|marocain|grec|espagnol|coréen|"
    "vietnamien",
    "date": "aujourd'hui|demain|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|après-demain",
    "day": "aujourd'hui|demain|ce soir|ce week-end|cet après-midi|lundi|mardi|mercredi|jeudi|vendredi|"
    "samedi|dimanche|la semaine prochaine|demain matin",
    "dish": "des lasagnes|un curry de poulet|un pad thaï|des tacos|des sushis|une pizza margherita|"
    "un bœuf bourguignon|une paella|des crêpes|des ramen|des falafels|un poulet tikka|"
    "un risotto aux champignons|du riz cantonais|un gâteau au chocolat|une soupe à l'oignon|"
    "une quiche lorraine|un couscous|une ratatouille|une tarte aux pommes",
    "duration": "cinq minutes|dix minutes|quinze minutes|vingt minutes|une demi-heure|quarante-cinq minutes|"
    "une heure|quatre-vingt-dix secondes|trois minutes|deux heures|douze minutes|sept minutes",
    "event": "mon rendez-vous chez le dentiste|la réunion d'équipe|mon cours de yoga|"
    "la réunion parents-professeurs|mon vol|mon rendez-vous chez le médecin|le déjeuner avec Sophie|"
    "la revue de projet|mon rendez-vous chez le coiffeur|le club de lecture|le dîner chez mes parents|"
    "mon entretien d'embauche",
    "genre": "jazz|rock|hip-hop|reggae|blues|rap|funk|zouk|classique|piano",
    "item": "du lait|des œufs|du pain|du beurre|des pommes|des bananes|du café|du riz|de l'huile d'olive|"
    "des tomates|du fromage|du poulet|des pâtes|du jus d'orange|des yaourts|des oignons|de l'ail|"
    "du liquide vaisselle|du papier toilette|du miel|des carottes|des épinards|de la farine|du sucre",
    "label": "les pâtes|les œufs|le riz|la pizza|la lessive|les cookies|le thé|le pain|la sieste|le gâteau",
    "lang": "anglais|espagnol|allemand|japonais|hindi|arabe|italien|portugais|tamoul|télougou|marathi",
    "list": "liste de courses|liste pour la fête|liste du supermarché|liste de la semaine",
    "message": "je suis en retard|je serai là dans dix minutes|le dîner est prêt|tu peux acheter du lait ?|"
    "joyeux anniversaire|on se retrouve à la gare|la réunion est déplacée à quinze heures|"
    "rappelle-moi quand tu peux|je viens d'atterrir|n'oublie pas les clés|bonne chance pour aujourd'hui|"
    "merci pour tout",
    "party": "deux|trois|quatre|cinq|six|sept|huit|dix|douze",
    "past": "hier|hier soir|samedi dernier|dimanche dernier|le week-end dernier|mercredi soir",
    "phone": "portable|fixe|téléphone du bureau|numéro pro",
    "phrase": "bonjour|merci beaucoup|où est la gare|combien ça coûte|je voudrais un café|enchanté|à demain|"
    "je ne comprends pas|pouvez-vous m'aider|l'addition, s'il vous plaît|où sont les toilettes|"
    "bon anniversaire",
    "place": "à l'aéroport|à la gare|au centre-ville|au travail|à l'hôpital|au centre commercial|au stade|"
    "à la plage|à l'université|à la gare routière|au musée|à l'hôtel|au bureau",
    "ptopic": "l'histoire|les sciences|la cuisine|les faits divers|la technologie|l'humour|l'économie|"
    "l'espace|les voyages|la philosophie|le sport|la psychologie",
    "room": "la cuisine|le salon|la chambre|la salle de bain|le bureau|le couloir|la salle à manger|"
    "le garage|la chambre des enfants|le sous-sol",
    "task": "d'appeler le dentiste|de sortir les poubelles|d'arroser les plantes|"
    "d'aller chercher les enfants|de payer la facture d'électricité|d'acheter un cadeau d'anniversaire|"
    "de prendre mes médicaments|de nourrir le chat|de réserver le vol|d'envoyer le rapport|"
    "de promener le chien|de recharger mon téléphone|de renouveler mon passeport|d'appeler mamie",
    "team": "le PSG|l'OM|Lyon|Lille|Monaco|Rennes|Nantes|Lens|le Real Madrid|le Barça|la Juventus|"
    "le Bayern Munich|Toulouse|Strasbourg",
    "time": "6 h|6 h 30|7 h|7 h 15|8 h|9 h 45|midi|13 h|14 h 30|16 h|17 h 45|19 h|19 h 30|20 h|21 h|22 h 15",
    "topic": "le sport|la politique|l'économie|la technologie|les sciences|la santé|la culture|le cinéma|"
    "le climat|la bourse|l'éducation|l'environnement",
    "word": "éphémère|mélancolie|nostalgie|résilience|ubiquité|bienveillance|paradigme|ambiguïté|méticuleux|"
    "éloquent|pragmatique|frugal|tenace|fantasque|nuance|lucide|empathie|intégrité|réconfort|flâner|"
    "dépaysement|chuchoter|épanouissement|sournois|désinvolte|saugrenu|quiproquo|pérenne|aléatoire|"
    "sérendipité",
}
