"""Spanish templates and slot values (written for this project).

Times carry their article ("las 7", "la 1 de la tarde") and places their preposition ("al aeropuerto")
so that "a la"/"al" come out right after filling.
"""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Añade {item} a mi {list}.",
        "Pon {item} en la {list}.",
        "Apunta {item} y {item2} en mi {list}.",
        "Agrega {item} y {item2} a la {list}.",
        "¿Puedes añadir {item} a mi {list}?",
        "Necesito {item}, apúntalo en mi {list}.",
    ),
    "book_restaurant": (
        "Reserva una mesa para {party} personas en un buen restaurante {cuisine} {date}.",
        "Reserva una mesa para {party} en {city} {date} a {time}.",
        "Necesito una reserva para {party} personas a {time}.",
        "Búscame un restaurante {cuisine} en {city} y reserva para {party}.",
        "¿Puedes reservar una mesa para {party} {date} a {time}?",
        "Haz una reserva en el mejor restaurante {cuisine} de {city}.",
    ),
    "book_taxi": (
        "Pide un taxi para ir {place}.",
        "Pídeme un taxi {place} para {time}.",
        "Necesito un coche {date} a {time} para ir {place}.",
        "Llama a un taxi para {time}, voy {place}.",
        "¿Puedes pedirme un taxi para ir {place}?",
        "Reserva un taxi {place} para {date} a {time}.",
    ),
    "call_contact": (
        "Llama a {contact}.",
        "Llama a {contact} {phone}.",
        "Llama a {contact} con el altavoz.",
        "Por favor, llama a {contact}.",
        "¿Puedes llamar a {contact} {phone}?",
        "Quiero llamar a {contact}.",
        "Marca el número de {contact}.",
    ),
    "check_calendar": (
        "¿Qué tengo en el calendario {date}?",
        "¿Tengo algo programado {date}?",
        "¿Estoy libre {date} a {time}?",
        "¿Cuándo es {event}?",
        "¿A qué hora es {event} {date}?",
        "¿Cómo está mi agenda {date}?",
    ),
    "find_recipe": (
        "Búscame una receta de {dish}.",
        "¿Cómo preparo {dish}?",
        "Enséñame una receta fácil de {dish}.",
        "Quiero cocinar {dish} para {party} personas.",
        "¿Qué necesito para hacer {dish}?",
        "Dame una receta rápida de {dish} para {party} personas.",
    ),
    "get_definition": (
        "¿Qué significa «{word}»?",
        "Define «{word}».",
        "¿Cuál es la definición de «{word}»?",
        "¿Qué quiere decir la palabra «{word}»?",
        "Busca «{word}» en el diccionario.",
        "¿Me explicas qué significa «{word}»?",
    ),
    "get_news_update": (
        "¿Cuáles son las últimas noticias de {topic}?",
        "Dame las noticias de {topic} de {city}.",
        "Léeme los titulares de {topic} de hoy.",
        "¿Qué hay de nuevo en {topic} en {city} hoy?",
        "Pon el boletín de noticias de {topic}.",
        "¿Hay noticias de {topic} en {city} esta mañana?",
    ),
    "get_sports_score": (
        "¿Ganó {team} {past}?",
        "¿Cómo quedó {team} {past}?",
        "¿Quién ganó el partido entre {team} y {team2}?",
        "¿Va ganando {team}?",
        "¿Cómo va el partido entre {team} y {team2}?",
        "¿Cuándo juega {team}?",
    ),
    "get_traffic": (
        "¿Cómo está el tráfico para ir {place}?",
        "¿Cuánto tardo en llegar {place} en coche?",
        "¿Hay atasco ahora mismo de camino {place}?",
        "¿Cuánto se tarda en ir {place} a {time}?",
        "¿Hay mucho tráfico para ir {place}?",
        "¿Qué tal el tráfico para ir {place} a {time}?",
    ),
    "get_weather": (
        "¿Qué tiempo hará en {city} {day}?",
        "¿Va a llover en {city} {day}?",
        "¿Cuánto calor hará en {city} {day}?",
        "Dame el pronóstico para {city}.",
        "¿Necesito paraguas en {city} {day}?",
        "¿Va a nevar en {city} {day}?",
        "¿Qué temperatura hace ahora en {city}?",
    ),
    "order_food": (
        "Pide {dish} a domicilio.",
        "Quiero pedir {dish} para {time}.",
        "Encarga {dish} para cenar en casa.",
        "¿Puedes pedir {dish} y {dish2}?",
        "Pide {dish} en mi restaurante favorito.",
        "Que traigan {dish} a {time}.",
    ),
    "play_music": (
        "Pon {artist}.",
        "Pon música de {artist} {room}.",
        "Pon un poco de {genre} {room}.",
        "Quiero escuchar {genre}.",
        "Reproduce canciones de {artist} en modo aleatorio.",
        "Pon el último disco de {artist} {room}.",
        "¿Puedes poner {genre} para relajarme?",
    ),
    "play_podcast": (
        "Pon un pódcast sobre {ptopic}.",
        "Reproduce un pódcast sobre {ptopic} {room}.",
        "Pon el último episodio de mi pódcast sobre {ptopic}.",
        "Búscame un buen pódcast sobre {ptopic}.",
        "Continúa mi pódcast sobre {ptopic} {room}.",
        "Me gustaría escuchar un pódcast sobre {ptopic}.",
    ),
    "play_radio": (
        "Pon la {freq} FM.",
        "Sintoniza la {freq} FM {room}.",
        "Pon la radio en el {freq}.",
        "Pon una emisora de {genre}.",
        "Pon una radio de {genre} {room}.",
        "Cambia la radio a la {freq} FM.",
    ),
    "send_message": (
        "Envía un mensaje a {contact}: «{message}».",
        "Escríbele a {contact}: «{message}».",
        "Mándale un mensaje a {contact} que diga «{message}».",
        "¿Puedes enviarle «{message}» a {contact}?",
        "Mensaje para {contact}: {message}.",
        "Dile a {contact}: «{message}».",
    ),
    "set_alarm": (
        "Pon una alarma para {date} a {time}.",
        "Despiértame {date} a {time}.",
        "Crea una alarma para {time}.",
        "Necesito una alarma {date} a {time}.",
        "Programa mi despertador para {date} a {time}, por favor.",
        "Alarma {date} a {time}, por favor.",
    ),
    "set_reminder": (
        "Recuérdame {task} {date} a {time}.",
        "Pon un recordatorio para {time}: {task}.",
        "Recuérdame {date} que tengo que {task}.",
        "No me dejes olvidar {task} {date}.",
        "Crea un recordatorio {date} a {time} para {task}.",
        "¿Puedes recordarme {task} a {time}?",
    ),
    "set_thermostat": (
        "Pon el termostato a {degrees} grados.",
        "Pon la calefacción a {degrees} grados {room}.",
        "Quiero {degrees} grados {room}.",
        "Sube la calefacción a {degrees} grados a {time}.",
        "Cambia la temperatura {room} a {degrees} grados.",
        "Programa el termostato a {degrees} grados para {time}.",
    ),
    "set_timer": (
        "Pon un temporizador de {duration}.",
        "Pon un temporizador de {duration} para {label}.",
        "Temporizador de {duration}, por favor.",
        "Inicia un temporizador para {label}: {duration}.",
        "Haz una cuenta atrás de {duration}.",
        "¿Puedes cronometrar {duration} para {label}?",
    ),
    "translate_phrase": (
        "¿Cómo se dice «{phrase}» en {lang}?",
        "Traduce «{phrase}» al {lang}.",
        "¿Qué es «{phrase}» en {lang}?",
        "¿Me traduces «{phrase}» al {lang}?",
        "¿Cómo digo «{phrase}» en {lang}?",
        "Di «{phrase}» en {lang}.",
    ),
    "turn_on_lights": (
        "Enciende la luz {room}.",
        "Prende las lámparas {room}.",
        "Pon las luces {room} al {percent} %.",
        "Pon las luces {room} en {color}.",
        "Baja la luz {room} al {percent} %.",
        "Cambia la luz {room} a {color}.",
        "Enciende la lámpara {room} al {percent} % de brillo.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Shakira|Rosalía|Bad Bunny|Juanes|Alejandro Sanz|Julio Iglesias|Carlos Vives|Karol G|Maná|"
    "Luis Fonsi|Enrique Iglesias|Celia Cruz|Joaquín Sabina|Adele|Coldplay",
    "city": "Madrid|Barcelona|Sevilla|Valencia|Bilbao|Málaga|Zaragoza|Granada|Ciudad de México|Buenos Aires|"
    "Bogotá|Lima|Santiago|Montevideo|Quito|Guadalajara|Medellín|San Juan|La Habana|Caracas",
    "color": "rojo|azul|verde|blanco cálido|morado|naranja|amarillo|rosa",
    "contact": "mamá|papá|la abuela|María|Carlos|Lucía|Javier|Sofía|Diego|Valentina|Pablo|Camila|mi hermano|"
    "mi hermana|la tía Carmen|Andrés|Elena|Miguel|Paula|Ahmed",
    "cuisine": "italiano|mexicano|japonés|indio|tailandés|francés|chino|libanés|griego|peruano|coreano|"
    "argentino",
    "date": "hoy|mañana|el lunes|el martes|el miércoles|el jueves|el viernes|el sábado|el domingo|"
    "pasado mañana",
    "day": "hoy|mañana|esta noche|este fin de semana|esta tarde|el lunes|el martes|el miércoles|el jueves|"
    "el viernes|el sábado|el domingo|la próxima semana|mañana por la mañana",
    "dish": "lasaña|curry de pollo|pad thai|tacos|sushi|pizza margarita|estofado de ternera|paella|tortitas|"
    "ramen|falafel|pollo tikka|risotto de setas|arroz frito|tortilla de patatas|gazpacho|enchiladas|"
    "empanadas|guacamole|tarta de manzana",
    "duration": "cinco minutos|diez minutos|quince minutos|veinte minutos|media hora|"
    "cuarenta y cinco minutos|una hora|noventa segundos|tres minutos|dos horas|doce minutos|siete minutos",
    "event": "mi cita con el dentista|la reunión de equipo|mi clase de yoga|la reunión de padres|mi vuelo|"
    "la cita con el médico|la comida con Lucía|la revisión del proyecto|mi cita en la peluquería|"
    "el club de lectura|la cena con mis padres|la entrevista de trabajo",
    "genre": "jazz|música clásica|rock|reguetón|salsa|flamenco|bachata|pop|cumbia|blues",
    "item": "leche|huevos|pan|mantequilla|manzanas|plátanos|café|arroz|aceite de oliva|tomates|queso|pollo|"
    "pasta|zumo de naranja|yogur|cebollas|ajo|lavavajillas|papel higiénico|miel|zanahorias|espinacas|harina|"
    "azúcar",
    "label": "la pasta|los huevos|el arroz|la pizza|la ropa|las galletas|el té|el pan|la siesta|el pastel",
    "lang": "inglés|francés|alemán|japonés|hindi|árabe|italiano|portugués|tamil|telugu|maratí",
    "list": "lista de la compra|lista del súper|lista de la fiesta|lista de la semana",
    "message": "llego tarde|estaré en casa en diez minutos|la cena está lista|¿puedes comprar leche?|"
    "feliz cumpleaños|nos vemos en la estación|la reunión se cambió a las tres|llámame cuando puedas|"
    "acabo de aterrizar|no olvides las llaves|mucha suerte hoy|gracias por todo",
    "party": "dos|tres|cuatro|cinco|seis|siete|ocho|diez|doce",
    "past": "ayer|anoche|el sábado|el domingo|el fin de semana pasado|el miércoles",
    "phone": "al móvil|al fijo|al trabajo|a la oficina",
    "phrase": "buenos días|muchas gracias|dónde está la estación|cuánto cuesta esto|quisiera un café|"
    "encantado de conocerte|hasta mañana|no entiendo|puede ayudarme|la cuenta, por favor|dónde está el baño|"
    "feliz cumpleaños",
    "place": "al aeropuerto|a la estación de tren|al centro|al trabajo|al hospital|al centro comercial|"
    "al estadio|a la playa|a la universidad|a la estación de autobuses|al museo|al hotel|a la oficina",
    "ptopic": "historia|ciencia|cocina|crímenes reales|tecnología|humor|negocios|el espacio|viajes|"
    "filosofía|deportes|psicología",
    "room": "en la cocina|en el salón|en el dormitorio|en el baño|en la oficina|en el pasillo|en el comedor|"
    "en el garaje|en el cuarto de los niños|en el sótano",
    "task": "llamar al dentista|sacar la basura|regar las plantas|recoger a los niños|"
    "pagar la factura de la luz|comprar un regalo de cumpleaños|tomar mis medicinas|dar de comer al gato|"
    "reservar el vuelo|enviar el informe|pasear al perro|cargar el móvil|renovar el pasaporte|"
    "llamar a la abuela",
    "team": "el Real Madrid|el Barça|el Atlético|el Betis|el Sevilla|el Valencia|el Athletic|"
    "la Real Sociedad|Boca|River|el América|Chivas|el Villarreal|el Celta",
    "time": "las 6 de la mañana|las 6:30 de la mañana|las 7 de la mañana|las 7:15 de la mañana|"
    "las 8 de la mañana|las 9:45 de la mañana|las 12 del mediodía|la 1 de la tarde|las 2:30 de la tarde|"
    "las 4 de la tarde|las 5:45 de la tarde|las 7 de la tarde|las 7:30 de la tarde|las 8 de la noche|"
    "las 9 de la noche|las 10:15 de la noche",
    "topic": "deportes|política|economía|tecnología|ciencia|salud|cultura|cine|medio ambiente|bolsa|"
    "educación|música",
    "word": "serendipia|efímero|melancolía|nostalgia|resiliencia|ubicuo|benevolente|paradigma|ambiguo|"
    "meticuloso|elocuente|pragmático|franco|austero|tenaz|caprichoso|matiz|lúcido|empatía|integridad|"
    "consuelo|inefable|lacónico|sobremesa|madrugar|estrenar|vergüenza ajena|friolero|desvelado|quijotesco",
}
